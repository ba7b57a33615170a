package session

import (
	"context"
	"errors"
	"fmt"
)

// Changes after the response headers went out: the cookie can no longer
// change, so with a store they go into the stored session, if there is one.

// saveLate saves values changed after the response headers were written.
// The cookie cannot change any more, so only an existing record is updated.
func (m *Manager) saveLate(ctx context.Context, s *Session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.dirty {
		return
	}
	s.dirty = false
	m.mode.saveLate(ctx, s)
}

// saveLate updates the existing record; a change that needed a new one (and
// so a new cookie) is lost, and logged. The update does not end with the
// request's context: Set already told the handler the change is kept, and
// net/http cancels that context as soon as the client, having read the
// response, closes the connection. StoreTimeout still bounds it.
func (b storeBackend) saveLate(ctx context.Context, s *Session) {
	if s.token == nil || s.loadErr != nil {
		b.logError(ctx, "session: values set after the response was written are lost", s.key, ErrHeadersWritten)
		return
	}
	rec := Record{UserID: s.userID, Expires: deadline(s.header, b.now()), Data: encodeRecord(s.header, s.values, nil)}
	if err := b.store.Update(context.WithoutCancel(ctx), s.key, rec); err != nil && !errors.Is(err, ErrNotFound) {
		b.logError(ctx, "session: saving values set after the response was written failed", s.key, err)
	}
}

// checkChange: with a store a change can be saved after the headers too
// (saveLate), but only into a stored session: one the request does not
// have yet would need a cookie, and one whose load failed is unknown.
func (storeBackend) checkChange(s *Session, _, _ string, _ bool) error {
	switch {
	case !s.committed:
		return nil
	case s.loadErr != nil:
		return fmt.Errorf("%w: %w: %w", ErrHeadersWritten, ErrStoreUnavailable, s.loadErr)
	case s.token == nil:
		return ErrHeadersWritten
	}
	return nil
}
