package session

import "net/http"

// The first state of a Session (see lifecycle.go): the Middleware checks
// the request's tokens, before the handler runs and without store I/O.

// verify checks the tokens of the request: every cookie of our name (up to
// maxSessionCookies of them; a request with more is anonymous) and, when
// enabled, a Bearer header. Tokens known to be dead are dropped here, and a
// lone cookie carrying one is expired. A token verified within the last
// minute is taken from the cache without reading the clock; load checks
// that the verification is still that recent (storeBackend.consider). It
// does no store I/O; the session is loaded when the handler first uses it
// (ensureLoaded), so a request that never looks at its session costs no
// store call.
func (s *Session) verify(m *Manager, r *http.Request) {
	s.m = m
	deadCookie := false
	forEachCookie(r.Header, m.cookie.Name, func(v string) bool {
		if s.cookies++; s.cookies <= maxSessionCookies {
			deadCookie = s.consider(v, true) || deadCookie
		}
		return true // count them all: more than we check makes it anonymous
	})
	if m.bearer {
		if v, ok := bearerToken(r.Header); ok {
			s.consider(v, false)
		}
	}
	s.loaded = s.ncands == 0 && s.cookies <= maxSessionCookies
	if deadCookie && s.cookies == 1 {
		s.cookieOp = cookieExpire
	}
}

// consider verifies one token with the backend.
func (s *Session) consider(value string, fromCookie bool) (dead bool) {
	return s.m.mode.consider(s, value, fromCookie)
}

// consider verifies a signed token and, when it verifies and is not known
// to be dead, makes it a candidate. A token the verified-value cache
// answers is taken without the entry's age (v.until), which load checks
// with the clock reading it takes anyway; only when a second token
// arrives, since exactly one must verify for the request to be signed in,
// are both ages checked here (ageCandidates).
func (b storeBackend) consider(s *Session, value string, fromCookie bool) (dead bool) {
	if value == "" || len(value) > maxCookieLen {
		return false
	}
	v, ok := b.signer.verifyUnaged(value)
	if ok && s.ncands > 0 && v.token != s.cand.v.token {
		v, ok = b.ageCandidates(s, v, value)
	}
	if !ok {
		b.rejectedSigned(value)
		return false
	}
	if dead, replacedAt := b.dead.lookup(v.token); dead {
		b.report(evRejected, "ended")
		// A token a Login or renewal replaced moments ago is anonymous too,
		// but its cookie is left alone: the browser may hold the new one.
		if replacedAt != 0 && b.replacedWithin(replacedAt, b.now()) {
			s.late = true
			return false
		}
		return true
	}
	s.addCandidate(candidate{v: v, fromCookie: fromCookie})
	return false
}

// ageCandidates checks the age of v, value's verification from the cache,
// and of s's candidate, and verifies either again when it is past
// verifiedTTL: a candidate that no longer verifies (signed longer ago than
// the cookie may live) is dropped, so that it cannot make a request with
// another, valid token anonymous. It reports v as verify would.
func (b storeBackend) ageCandidates(s *Session, v *verifiedValue, value string) (*verifiedValue, bool) {
	now := monoNow()
	if s.ncands == 1 && !b.stillVerifies(&s.cand, now) {
		s.cand, s.ncands = candidate{}, 0
	}
	if now >= v.until {
		return b.signer.verify(value)
	}
	return v, true
}

// stillVerifies checks c as of now (monotonic): a verification the cache
// answered that is past its verifiedTTL is done again, and c takes its
// result. It reports false, and reports the rejection, for a token that no
// longer verifies (signed longer ago than the cookie may live).
func (b storeBackend) stillVerifies(c *candidate, now int64) bool {
	if now < c.v.until {
		return true
	}
	v, ok := b.signer.verify(c.v.value)
	if !ok {
		b.rejectedSigned(c.v.value)
		return false
	}
	c.v = v
	return true
}

// addCandidate records a token of the request that verified and is not
// known to be dead. Only a request with exactly one can be signed in.
func (s *Session) addCandidate(c candidate) {
	if s.ncands > 0 && s.cand.v.token == c.v.token {
		s.cand.fromCookie = s.cand.fromCookie || c.fromCookie
		return
	}
	if s.ncands == 0 {
		s.cand = c
	}
	s.ncands++
}
