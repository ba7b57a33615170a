package session

import (
	"context"
	"fmt"
	"time"
)

// Sessions lists the live sessions of userID (for a "your devices" page),
// in no particular order. Cost: one store ListUser.
func (m *Manager) Sessions(ctx context.Context, userID string) ([]SessionInfo, error) {
	entries, err := m.store.ListUser(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	out := make([]SessionInfo, 0, len(entries))
	for _, e := range entries {
		h, raw, err := decodeHeader(e.Data)
		if err != nil {
			continue
		}
		values, err := decodeValues(raw)
		if err != nil {
			continue
		}
		last := e.Expires.Add(-h.idle)
		if last.Before(h.created) {
			last = h.created
		}
		out = append(out, SessionInfo{
			ID: publicID(e.Key), Created: h.created, LastSeen: last,
			Expires: e.Expires, Persistent: h.persistent, Values: values,
		})
	}
	return out, nil
}

// LogoutSession ends one session of userID, named by its public ID (from
// Sessions or Session.ID). It returns ErrNotFound when the user has no such
// session.
func (m *Manager) LogoutSession(ctx context.Context, userID, id string) error {
	entries, err := m.store.ListUser(ctx, userID)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	for _, e := range entries {
		if id != "" && publicID(e.Key) == id {
			if err := m.store.Delete(ctx, e.Key); err != nil {
				return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
			}
			return nil
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
	Persistent bool
	Values     map[string]string
}
