package session

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"
)

// replace deletes s's record, if any, and creates a new one with a new
// token for userID, keeping the user within Config.MaxSessionsPerUser. If
// the create fails, the request keeps its old token, whose record is gone:
// it is signed out.
func (m *Manager) replace(ctx context.Context, s *Session, userID string, hdr recordHeader, values map[string]string, now time.Time) error {
	oldKey, oldToken := s.key, s.token
	tok := newToken()
	key := storeKey(tok)
	rec := Record{UserID: userID, Expires: deadline(hdr, now), Data: encodeRecord(hdr, values, nil)}
	if err := m.replaceRecord(ctx, oldKey, key, rec, m.maxPerUser); err != nil {
		return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	if oldToken != nil {
		m.dead.addReplaced([tokenLen]byte(oldToken), now)
	}
	s.start(tok, key, userID, hdr, rec.Expires, values)
	return nil
}

// replaceRecord is Replacer.Replace on m's store: the store's own when it
// has one (the store guard always does), the steps of replaceInSteps
// otherwise.
func (m *Manager) replaceRecord(ctx context.Context, oldKey, key string, rec Record, limit int) error {
	if r, ok := m.store.(Replacer); ok {
		return r.Replace(ctx, oldKey, key, rec, limit)
	}
	return replaceInSteps(ctx, m.store, oldKey, key, rec, limit, m.log)
}

// replaceInSteps does what Replacer.Replace does on a store without it:
// Delete(oldKey), Create(key, rec), then, when the user may be past limit,
// ListUser and a Delete for each of the oldest sessions past it. "Oldest"
// is by the creation time the Manager keeps in Data; only sessions created
// before the new one are ended, so two logins racing at the cap never end
// each other's new session (the price: they may leave the user one or two
// past the cap until the next login). A failure after the create is logged,
// not returned: the new session exists.
func replaceInSteps(ctx context.Context, store Store, oldKey, key string, rec Record, limit int, log *slog.Logger) error {
	if oldKey != "" {
		if err := store.Delete(ctx, oldKey); err != nil {
			return err
		}
	}
	if err := store.Create(ctx, key, rec); err != nil {
		return err
	}
	if rec.UserID == "" || limit <= 0 {
		return nil
	}
	entries, err := store.ListUser(ctx, rec.UserID)
	if err != nil {
		logCapFailure(ctx, log, key, err)
		return nil
	}
	if len(entries) <= limit {
		return nil
	}
	createdAt := func(data []byte) int64 {
		h, _, err := decodeHeader(data)
		if err != nil {
			return 0 // corrupt: oldest
		}
		return h.created.UnixNano()
	}
	created := createdAt(rec.Data)
	slices.SortFunc(entries, func(a, b Entry) int { return cmp.Compare(createdAt(a.Data), createdAt(b.Data)) })
	excess := len(entries) - limit
	for _, e := range entries {
		if excess == 0 || createdAt(e.Data) >= created {
			break
		}
		if e.Key == key {
			continue
		}
		if err := store.Delete(ctx, e.Key); err != nil {
			logCapFailure(ctx, log, e.Key, err)
		}
		excess--
	}
	return nil
}

func logCapFailure(ctx context.Context, log *slog.Logger, key string, err error) {
	if log != nil {
		log.LogAttrs(ctx, slog.LevelError, "session: ending sessions past MaxSessionsPerUser failed",
			slog.String("session", publicID(key)), slog.String("error", err.Error()))
	}
}
