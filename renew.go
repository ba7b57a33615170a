package session

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// successorTTL is how long the marker a renewal leaves under the old token
// lives, beyond the Manager's StoreTimeout: long enough for a Logout of the
// old token that ran concurrently with the renewal to find it and end the
// new session too, short enough that a token captured before the renewal
// cannot end the renewed session later on (see successorLife).
const successorTTL = 5 * time.Second

// Renew gives the request's session a new token, keeping its user, values
// and absolute lifetime. Call it when privileges change (a role granted, an
// MFA step passed) so a token captured before cannot ride on them. If the
// session was logged out meanwhile (by a concurrent Logout or LogoutAll), it
// stays logged out and Renew returns ErrNotAuthenticated; a Logout of the old
// token that runs while Renew does ends the new session as well. An
// anonymous request without a stored session is left as it is. r must have
// passed through m's Middleware and w must be, or unwrap to, the writer it
// gave the handler, as for Login (ErrNoMiddleware, ErrForeignWriter); the
// new cookie goes out on w. Cost: two store creates, a read and a delete.
// A cookie-only Manager returns ErrCookieOnly: the old cookie would stay
// valid, so the guarantee cannot be kept.
func (m *Manager) Renew(w http.ResponseWriter, r *http.Request) error {
	return m.renewRequest(w, r, false, nil)
}

// renewRequest is Renew and LogoutOthers: it checks the request and hands
// the session to the backend.
func (m *Manager) renewRequest(w http.ResponseWriter, r *http.Request, others bool, p *proof) error {
	s, err := m.ownWriter(w, r)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return m.mode.renew(r.Context(), s, others, p)
}

// renew replaces the session's token so that no Logout of the old token can
// be undone by it. The steps, each one store call:
//
//  1. leave a marker under the old key naming the new one; a Logout of the
//     old token reads it after deleting the old record (endSuccessor);
//  2. create the new record: only Login and Renew bring one into existence;
//  3. check the old record is still live; if a Logout or LogoutAll deleted
//     it since this request loaded it, delete the new record and give up;
//  4. delete the old record.
//
// A Logout that deleted the old record before step 3 is seen there; one
// that deletes it after step 1 finds the marker. Either way the new
// session ends. With a proof (StepUp), the new record carries it;
// otherwise the session's header is kept as it is.
func (b storeBackend) renew(ctx context.Context, s *Session, others bool, p *proof) error {
	m := b.Manager
	s.ensureLoaded()
	if s.loadErr != nil {
		return fmt.Errorf("%w: %w", ErrStoreUnavailable, s.loadErr)
	}
	if s.committed {
		return ErrHeadersWritten
	}
	if (others || p != nil) && s.userID == "" {
		return ErrNotAuthenticated
	}
	if s.token == nil {
		return nil
	}
	oldKey, oldToken, userID := s.key, [tokenLen]byte(s.token), s.userID
	s.decodeValues()
	now := m.now()
	hdr := p.withProof(s.header, now)
	tok := newToken()
	newKey := storeKey(tok)

	markerKey := successorKey(oldKey)
	marker := Record{Expires: now.Add(m.successorLife()), Data: encodeSuccessor(newKey)}
	switch err := m.store.Create(ctx, markerKey, marker); {
	case errors.Is(err, ErrExists):
		if others {
			// Another request is renewing this session. A password change
			// still ends every other session: all but this one and the
			// one that renewal moves it to.
			next, err := m.successorOf(ctx, oldKey)
			if err != nil {
				return err
			}
			if err := m.endSessionsExcept(ctx, userID, oldKey, next); err != nil {
				return err
			}
		}
		return ErrConflict
	case err != nil:
		return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	// undo removes what the renewal stored when it gives up: the new record
	// and then, once that is surely gone, the marker, so that a retry is not
	// refused as a conflict.
	undo := func() {
		if m.store.Delete(ctx, newKey) == nil {
			m.deleteQuietly(ctx, markerKey)
		}
	}
	rec := Record{UserID: userID, Expires: deadline(hdr, now), Data: encodeRecord(hdr, s.values, nil)}
	// Created under the per-user cap, plus one: the old record goes at
	// step 4, and a renewal must not end its own session at the cap.
	if err := m.replaceRecord(ctx, "", newKey, rec, m.maxPerUser+1); err != nil {
		undo()
		return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	// The liveness check is a Touch, not a Get: a write always reaches the
	// store itself, never a client-side cache that may not have heard of a
	// Logout on another instance yet. It moves nothing (same expiry).
	if err := m.store.Touch(ctx, oldKey, s.expires); err != nil {
		undo()
		if errors.Is(err, ErrNotFound) {
			s.forgetGone(m, now)
			if others {
				// Logged out meanwhile (a sign-out of this device from
				// another one, say): a password change still ends every
				// other session, which is now every session of the user.
				if err := m.endSessionsExcept(ctx, userID); err != nil {
					return err
				}
			}
			return ErrNotAuthenticated
		}
		return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	if err := m.store.Delete(ctx, oldKey); err != nil {
		undo()
		return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	m.dead.addReplaced(oldToken, now)
	s.start(tok, newKey, userID, hdr, rec.Expires, s.values)
	if !others {
		return nil
	}
	return m.endSessionsExcept(ctx, userID, newKey)
}

// endSessionsExcept ends every session of userID whose store key is not in
// keep, with end, not a plain delete: a device renewing its session right
// now is followed to the session it renews into. It goes on past a failed
// end and reports them all, wrapped in ErrStoreUnavailable.
func (m *Manager) endSessionsExcept(ctx context.Context, userID string, keep ...string) error {
	entries, err := m.store.ListUser(ctx, userID)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	var errs []error
	for _, e := range entries {
		if !slices.Contains(keep, e.Key) {
			if err := m.end(ctx, e.Key); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrStoreUnavailable, errors.Join(errs...))
	}
	return nil
}

// successorOf returns the store key a renewal in progress moves the
// session under key to, from its marker, or "" when there is no marker (the
// renewal is over or undone). A store that cannot be read is an error
// wrapping ErrStoreUnavailable: without the key, the renewal's new session
// could not be told from the others.
func (m *Manager) successorOf(ctx context.Context, key string) (string, error) {
	rec, err := m.store.Get(ctx, successorKey(key))
	switch {
	case errors.Is(err, ErrNotFound):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	next, _ := decodeSuccessor(rec.Data)
	return next, nil
}

// replacedLately reports whether token, whose record is gone, was replaced
// by a Login or a renewal on this instance within successorLife: then a
// request that carries it was most likely sent before the browser got the
// new cookie, and its answer must not delete that cookie (it would sign
// the user out). It costs no store read (the load's one read stays the
// only one): a late request that reaches another instance and reads the
// session there still has the cookie expired.
func (m *Manager) replacedLately(token [tokenLen]byte, now time.Time) bool {
	_, at := m.dead.lookup(token)
	return m.replacedWithin(at, now)
}

// replacedWithin reports whether a token replaced at at (deadTokens'
// replacedAt; 0 for one that ended otherwise) was replaced within
// successorLife of now.
func (m *Manager) replacedWithin(at int64, now time.Time) bool {
	return at != 0 && now.UnixNano()-at < int64(m.successorLife())
}

// successorLife is how long a renewal's marker lives: successorTTL beyond
// the longest a renewal's store calls may take.
func (m *Manager) successorLife() time.Duration {
	return successorTTL + 4*max(m.storeTimeout, 0)
}
