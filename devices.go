package session

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"
)

// ListSessions lists the live sessions of userID, newest first, for a
// "your devices" page: at most Config.MaxSessionsPerUser of them. Records
// that do not decode are deleted and logged, as on the request path. Cost:
// one store ListUser. A cookie-only Manager returns ErrCookieOnly.
func (m *Manager) ListSessions(ctx context.Context, userID string) ([]SessionInfo, error) {
	if m.sealer != nil {
		return nil, ErrCookieOnly
	}
	entries, err := m.store.ListUser(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	out := make([]SessionInfo, 0, min(len(entries), m.maxPerUser))
	for _, e := range entries {
		h, raw, err := decodeHeader(e.Data)
		var values map[string]string
		if err == nil {
			values, err = decodeValues(raw)
		}
		if err != nil {
			m.logError(ctx, "session: deleting corrupt record", e.Key, errCorruptRecord)
			m.deleteQuietly(ctx, e.Key)
			continue
		}
		last := e.Expires.Add(-h.idle)
		if last.Before(h.created) {
			last = h.created
		}
		out = append(out, SessionInfo{
			ID: publicID(e.Key), Created: h.created, LastSeen: last,
			Expires: e.Expires, RememberMe: h.persistent, Values: values,
			AuthTime: h.authTime, AuthMethods: splitAMR(h.amr),
		})
	}
	slices.SortFunc(out, func(a, b SessionInfo) int { return cmp.Compare(b.Created.UnixNano(), a.Created.UnixNano()) })
	if len(out) > m.maxPerUser {
		out = out[:m.maxPerUser]
	}
	return out, nil
}

// LogoutSession ends one session of userID, named by its public ID (from
// ListSessions or Session.ID), and the session a concurrent renewal derived
// from it, if any. It returns ErrNotFound when the user has no such
// session. Cost: one store ListUser, a delete and a read. A cookie-only
// Manager returns ErrCookieOnly.
func (m *Manager) LogoutSession(ctx context.Context, userID, id string) error {
	if m.sealer != nil {
		return ErrCookieOnly
	}
	if id == "" {
		return ErrNotFound
	}
	entries, err := m.store.ListUser(ctx, userID)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	for _, e := range entries {
		if publicID(e.Key) == id {
			return m.end(ctx, e.Key)
		}
	}
	return ErrNotFound
}

// SessionInfo describes one stored session of a user, for a "your devices"
// page. It carries no token and no store key.
type SessionInfo struct {
	// ID is the public identifier; Session.ID of the current request's
	// session equals it when this is the current session.
	ID         string
	Created    time.Time
	LastSeen   time.Time // to within half the idle timeout (see Config.IdleTimeout)
	Expires    time.Time // when it ends if unused
	RememberMe bool      // created with the RememberMe login option
	Values     map[string]string
	// AuthTime and AuthMethods are the user's last proof of identity on
	// this device: when, and with which RFC 8176 "amr" values (see
	// Session.AuthTime and Session.AuthMethods).
	AuthTime    time.Time `json:"auth_time"`
	AuthMethods []string  `json:"amr,omitempty"`
}
