package session

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// The lifecycle of a cookie-only session (Config.CookieOnly): the states of
// lifecycle.go, with the sealed cookie in place of the store record:
// sealedBackend, the other implementation of backend. Only this file and
// lifecycle.go move a Session between them.
//
//	verified  every cookie of our name was opened and checked for expiry
//	          (consider); nothing is read from anywhere else
//	loaded    the one live cookie's session adopted (load)
//	changed   values set, Login (login) or Logout (logout)
//	committed resealed and its cookie written when anything changed, the
//	          idle window is due, or the cookie was sealed under an older
//	          key (commit); later changes are lost, and Session.Set
//	          says so
//
// The Session fields mean what they mean in server-side mode: token is the
// session ID, key its hex form (for Session.ID and logs), signed the cookie
// value, expires the sealed idle deadline.

// sealedBackend keeps each session in its cookie (Config.CookieOnly).
type sealedBackend struct {
	*Manager
	sealer *sealer
}

// consider opens one cookie value (there are no Bearer tokens in this
// mode: Config.Bearer is refused). A value that opens and is live becomes
// a candidate; only a request with exactly one (counting identical values
// once) can be signed in.
func (b sealedBackend) consider(s *Session, value string, _ bool) (dead bool) {
	p, plain, keyIndex, ok := b.sealer.open(value)
	if !ok {
		b.report(evRejected, "forged")
		return false
	}
	if _, exp := b.bounded(p.header, p.expires); !b.now().Before(exp) {
		b.report(evRejected, "expired")
		return true
	}
	if s.ncands > 0 && s.cand.value == value {
		return false
	}
	if s.ncands == 0 {
		s.cand = candidate{value: value, keyIndex: int32(keyIndex), fromCookie: true, sealed: plain}
	}
	s.ncands++
	return false
}

// load adopts the request's one live cookie.
func (b sealedBackend) load(s *Session) {
	c := &s.cand
	p, _ := decodePayload(c.sealed) // as it did in considerSealed
	s.token, s.key = p.id, sessionIDKey(p.id)
	if c.keyIndex == 0 {
		s.signed = c.value
	}
	s.fromCookie = true
	s.resign = c.keyIndex > 0
	s.header, s.expires = b.bounded(p.header, p.expires)
	s.userID, s.rawValues = string(p.userID), p.raw
	c.sealed = nil
}

// login gives the session a new ID and a new cookie, always; nothing else
// to delete or create.
func (b sealedBackend) login(_ context.Context, s *Session, userID string, hdr recordHeader, values map[string]string, now time.Time) error {
	if err := b.sealer.check(payloadBound(userID, hdr.amr, values)); err != nil {
		return err
	}
	id := newSessionID()
	s.start(id, sessionIDKey(id), userID, hdr, deadline(hdr, now), values)
	return nil
}

// commit reseals the session into
// a new cookie when it changed, when its idle deadline is due for extension
// (the rule of the server-side mode, extensionDue), or when it was sealed
// under an older key; otherwise the response gets no Set-Cookie. s.mu is
// held. An error (the session outgrew the cookie, which Session.Set and
// Login check first) leaves the client's cookie as it was.
//
// A session that did not change but no longer fits under the current
// cookie settings (it was sealed when a shorter Domain or Path left more
// room) is not resealed: the client keeps its cookie, which still opens,
// the request is served, and the Logger is told. It is then not extended,
// so it ends at its idle deadline, and the next Login starts one that fits.
func (b sealedBackend) commit(ctx context.Context, s *Session, h http.Header) error {
	now := b.now()
	changed := false
	if s.loaded {
		changed = s.dirty
		switch {
		case s.dirty && s.token == nil:
			s.dirty = false
			if len(s.values) > 0 {
				hdr := recordHeader{created: now, idle: b.normal.idle, lifetime: b.normal.lifetime}
				id := newSessionID()
				s.start(id, sessionIDKey(id), "", hdr, deadline(hdr, now), s.values)
			}
		case s.dirty:
			s.dirty = false
			s.signed, s.cookieOp = "", cookieSet
		case s.token != nil && extensionDue(s.header, s.expires, deadline(s.header, now)):
			s.signed, s.cookieOp = "", cookieSet
		}
		if s.resign && s.cookieOp == cookieNone {
			s.cookieOp = cookieSet
		}
	}
	if s.cookieOp == cookieSet && (s.signed == "" || s.resign) {
		p := sealedSession{id: s.token, expires: deadline(s.header, now), userID: []byte(s.userID), header: s.header, values: s.values, raw: s.rawValues}
		v, err := b.sealer.seal(&p)
		if err != nil {
			s.cookieOp = cookieNone
			if !changed && errors.Is(err, ErrCookieTooLarge) {
				b.logError(ctx, "session: session no longer fits in its cookie under the current cookie settings; kept as it is, not extended", s.key, err)
				return nil
			}
			return err
		}
		s.signed, s.resign, s.expires = v, false, p.expires
	}
	b.writeCookie(s, h, now)
	return nil
}

// saveLate: the cookie is out, so a later change is lost; Session.Set,
// Delete and Pop have already said so (checkChange).
func (b sealedBackend) saveLate(ctx context.Context, s *Session) {
	b.logError(ctx, "session: values set after the response was written are lost", s.key, ErrHeadersWritten)
}

// checkChange refuses a change once the cookie is out, and one that would
// not fit in the cookie.
func (b sealedBackend) checkChange(s *Session, key, value string, deleting bool) error {
	if s.committed {
		return ErrHeadersWritten
	}
	if deleting {
		return nil
	}
	return b.sealer.checkSet(s.userID, s.header.amr, s.values, key, value)
}

// token: a cookie-only session has no Bearer token.
func (sealedBackend) token(*Session) string { return "" }

// logout expires the cookie; there is nothing else to end. A copy of the
// cookie stays valid until it expires (see Config.CookieOnly).
func (b sealedBackend) logout(_ context.Context, s *Session, _ *http.Request) error {
	s.loggedOut(b.clearSiteData)
	return nil
}

// The operations that need server-side state. Renew in particular cannot
// keep its promise: the old cookie would stay valid.

func (sealedBackend) logoutAll(context.Context, string) error             { return ErrCookieOnly }
func (sealedBackend) logoutSession(context.Context, string, string) error { return ErrCookieOnly }
func (sealedBackend) list(context.Context, string) ([]SessionInfo, error) { return nil, ErrCookieOnly }

// renew is StepUp's part in cookie-only mode: the session resealed under a
// new session ID with the fresh proof. Renew and LogoutOthers (p nil) cannot
// keep their promise without a store: the old cookie would stay valid.
func (b sealedBackend) renew(_ context.Context, s *Session, _ bool, p *proof) error {
	if p == nil {
		return ErrCookieOnly
	}
	s.ensureLoaded()
	if s.committed {
		return ErrHeadersWritten
	}
	if s.userID == "" {
		return ErrNotAuthenticated
	}
	s.decodeValues()
	now := b.now()
	hdr := p.withProof(s.header, now)
	if err := b.sealer.check(payloadBound(s.userID, p.amr, s.values)); err != nil {
		return err
	}
	id := newSessionID()
	s.start(id, sessionIDKey(id), s.userID, hdr, deadline(hdr, now), s.values)
	return nil
}
