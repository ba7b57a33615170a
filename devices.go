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
	return m.mode.list(ctx, userID)
}

// list reads the user's records through the store's user index.
func (b storeBackend) list(ctx context.Context, userID string) ([]SessionInfo, error) {
	m := b.Manager
	entries, err := m.store.ListUser(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	out := make([]SessionInfo, 0, min(len(entries), m.maxPerUser))
	now := m.now()
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
		if h, e.Expires = m.bounded(h, e.Expires); !now.Before(e.Expires) {
			continue // ended by a timeout the Config has since shortened
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

// SessionInfo describes one stored session of a user, for a "your devices"
// page. It carries no token and no store key, so it can go to the user as
// JSON: its fields encode in snake_case, and Values, which may hold what a
// handler chose to keep server-side, never encode.
type SessionInfo struct {
	// ID is the public identifier; Session.ID of the current request's
	// session equals it when this is the current session.
	ID         string    `json:"id"`
	Created    time.Time `json:"created"`
	LastSeen   time.Time `json:"last_seen"`   // to within half the idle timeout (see Config.IdleTimeout)
	Expires    time.Time `json:"expires"`     // when it ends if unused
	RememberMe bool      `json:"remember_me"` // created with the RememberMe login option
	// Values are the session's values, for the page to show what it
	// chooses (a device name the handler stored at login). Left out of JSON.
	Values map[string]string `json:"-"`
	// AuthTime and AuthMethods are the user's last proof of identity on
	// this device: when, and with which RFC 8176 "amr" values (see
	// Session.AuthTime and Session.AuthMethods).
	AuthTime    time.Time `json:"auth_time"`
	AuthMethods []string  `json:"amr,omitempty"`
}
