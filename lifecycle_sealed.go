package session

import (
	"net/http"
	"time"
)

// The lifecycle of a cookie-only session (Config.CookieOnly): the states of
// lifecycle.go, with the sealed cookie in place of the store record. Only
// this file and lifecycle.go move a Session between them.
//
//	verified  every cookie of our name was opened and checked for expiry
//	          (considerSealed); nothing is read from anywhere else
//	loaded    the one live cookie's session adopted (loadSealed)
//	changed   values set, Login (loginSealed) or Logout (loggedOut)
//	committed resealed and its cookie written when anything changed, the
//	          idle window is due, or the cookie was sealed under an older
//	          key (commitSealed); later changes are lost, and Session.Set
//	          says so
//
// The Session fields mean what they mean in server-side mode: token is the
// session ID, key its hex form (for Session.ID and logs), signed the cookie
// value, expires the sealed idle deadline.

// considerSealed opens one cookie value. A value that opens and is live
// becomes a candidate; only a request with exactly one (counting identical
// values once) can be signed in. It reports whether the value opened but
// the session has ended, so that a lone such cookie is expired.
func (s *Session) considerSealed(value string) (dead bool) {
	p, plain, keyIndex, ok := s.m.sealer.open(value)
	if !ok {
		return false
	}
	if !s.m.sealer.live(&p, s.m.now()) {
		return true
	}
	if s.ncands > 0 && s.cand.value == value {
		return false
	}
	if s.ncands == 0 {
		s.cand = candidate{value: value, keyIndex: keyIndex, fromCookie: true, sealed: plain}
	}
	s.ncands++
	return false
}

// loadSealed adopts the request's one live cookie.
func (s *Session) loadSealed() {
	c := &s.cand
	p, _ := decodePayload(c.sealed) // as it did in considerSealed
	s.token, s.key = p.id, sessionIDKey(p.id)
	if c.keyIndex == 0 {
		s.signed = c.value
	}
	s.fromCookie = true
	s.resign = c.keyIndex > 0
	s.userID, s.header, s.expires, s.rawValues = string(p.userID), p.header, p.expires, p.raw
	c.sealed = nil
}

// loginSealed is Login's cookie-only part: a new session ID and a new
// cookie, always; nothing else to delete or create.
func (m *Manager) loginSealed(s *Session, userID string, hdr recordHeader, values map[string]string, now time.Time) error {
	if err := m.sealer.check(payloadBound(userID, hdr.amr, values)); err != nil {
		return err
	}
	id := newSessionID()
	s.start(id, sessionIDKey(id), userID, hdr, deadline(hdr, now), values)
	return nil
}

// commitSealed is commit for cookie-only mode: it reseals the session into
// a new cookie when it changed, when its idle deadline is due for extension
// (the rule of the server-side mode, extensionDue), or when it was sealed
// under an older key; otherwise the response gets no Set-Cookie. s.mu is
// held. An error (the session outgrew the cookie, which Session.Set and
// Login check first) leaves the client's cookie as it was.
func (m *Manager) commitSealed(s *Session, h http.Header) error {
	now := m.now()
	if s.loaded {
		switch {
		case s.dirty && s.token == nil:
			s.dirty = false
			if len(s.values) > 0 {
				hdr := recordHeader{created: now, idle: m.normal.idle, lifetime: m.normal.lifetime}
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
		v, err := m.sealer.seal(&p)
		if err != nil {
			s.cookieOp = cookieNone
			return err
		}
		s.signed, s.resign, s.expires = v, false, p.expires
	}
	m.writeCookie(s, h, now)
	return nil
}
