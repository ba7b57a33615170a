package session

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// A Session moves through these states, and only the functions in this
// file, lifecycle_verify.go, lifecycle_late.go and lifecycle_sealed.go
// (cookie-only mode's) move it:
//
//	verified  the Middleware has checked the request's tokens
//	          (lifecycle_verify.go: addCandidate)
//	loaded    the store was read on first use (load): signed in, anonymous,
//	          or unknown because the store failed (loadErr)
//	changed   values set (session.go), or Login, Renew, Logout (start, forget,
//	          loggedOut)
//	committed saved and its cookie written, just before the response headers
//	          (commit); later value changes are saved by saveLate
//	          (lifecycle_late.go)

// backend is where sessions live, chosen once by New: a Store (storeBackend,
// the default) or the cookie itself (sealedBackend, Config.CookieOnly). The
// Manager and Session reach the mode only through it: the public methods
// check their arguments and the request, then hand over. The caller holds
// s.mu for every method that takes a Session.
type backend interface {
	// consider verifies one token of the request (a cookie value or, with
	// Config.Bearer, a Bearer token) and makes it a candidate of s when it
	// verifies and may be live; a verification the cache answers may be
	// taken without its age, which load then checks (candidate.v.until). It
	// reports whether it verified but is known to have ended, so that a
	// lone such cookie is expired. No I/O.
	consider(s *Session, value string, fromCookie bool) (dead bool)
	// load adopts s's one candidate: at most one store read.
	load(s *Session)
	// commit saves what changed and writes the cookie headers to h.
	commit(ctx context.Context, s *Session, h http.Header) error
	// saveLate saves values changed after the response headers went out,
	// where that is possible.
	saveLate(ctx context.Context, s *Session)
	// checkChange reports whether setting key to value (or deleting key)
	// can be saved, before the Session changes.
	checkChange(s *Session, key, value string, deleting bool) error
	// token is Session.Token.
	token(s *Session) string
	// login stores a new session for userID and points s at it.
	login(ctx context.Context, s *Session, userID string, hdr recordHeader, values map[string]string, now time.Time) error
	// logout ends the request's sessions and leaves s logged out.
	logout(ctx context.Context, s *Session, r *http.Request) error
	// The operations that need server-side state; sealedBackend answers
	// ErrCookieOnly.
	logoutAll(ctx context.Context, userID string) error
	logoutSession(ctx context.Context, userID, id string) error
	// renew gives s a new ID and token; with p (StepUp) it also records a
	// fresh proof. sealedBackend does only the latter (ErrCookieOnly else).
	renew(ctx context.Context, s *Session, others bool, p *proof) error
	list(ctx context.Context, userID string) ([]SessionInfo, error)
}

// storeBackend keeps sessions in the Manager's Store (Config.Store).
type storeBackend struct{ *Manager }

// cookieOp is the Set-Cookie the response needs.
type cookieOp uint8

const (
	cookieNone   cookieOp = iota
	cookieSet             // send the (new or re-signed) token
	cookieExpire          // delete the client's cookie
)

// ensureLoaded loads the session on first use. s.mu must be held.
func (s *Session) ensureLoaded() {
	if s.loaded {
		return
	}
	s.loaded = true
	s.load()
}

// load reads the record of the request's one verified token: at most one
// store read per request. It never fails: anything that does not lead to
// exactly one live session leaves s anonymous, and a store failure is kept
// in s.loadErr for RequireAuth to answer 503.
func (s *Session) load() {
	m := s.m
	if s.ncands != 1 || s.cookies > maxSessionCookies {
		// Several tokens that verify (cookie tossing from a sibling
		// subdomain, or a Bearer header beside a different cookie), or more
		// cookies of our name than we check: which one is the user's cannot
		// be told without trusting a subset, so the request is anonymous.
		if s.ncands > 1 || s.cookies > maxSessionCookies {
			m.logWarn(s.requestContext(), "session: several session cookies; treating the request as anonymous", "")
		}
		return
	}
	m.mode.load(s)
}

// load reads the record of the one verified token.
func (b storeBackend) load(s *Session) {
	m, ctx, c := b.Manager, s.requestContext(), &s.cand
	now := m.now()
	if !b.stillVerifies(c, monoAt(now)) {
		return // anonymous, as it would have been in verify
	}
	rec, h, values, cut, err := m.fetch(ctx, c.v.storeKey, now, &s.loadCall)
	switch {
	case errors.Is(err, ErrNotFound):
		// Logged out, expired, or never stored: a signed token the store
		// does not know is never adopted. Delete the client's cookie when it
		// is the only one of our name (with several we cannot tell which),
		// unless a Login or renewal replaced it moments ago.
		m.report(evRejected, "ended")
		if m.replacedLately(c.v.token, now) {
			s.late = true
		} else if c.fromCookie && s.cookies == 1 {
			s.cookieOp = cookieExpire
		}
		m.dead.add(c.v.token)
		return
	case err != nil:
		s.loadErr = err
		s.token, s.key = c.v.token[:], c.v.storeKey // so that Logout can still delete it
		if ctx.Err() == nil {
			m.logError(ctx, "session: store read failed", c.v.storeKey, err)
		}
		return
	}
	s.token, s.key = c.v.token[:], c.v.storeKey
	if c.v.keyIndex == 0 {
		s.signed = c.v.value
	}
	s.fromCookie = c.fromCookie
	s.resign = c.v.keyIndex > 0 && c.fromCookie
	s.userID = rec.UserID
	s.header = h
	s.expires = rec.Expires
	s.rawValues = values
	s.cut = cut
	s.loadedAt = now.UnixNano()
}

// commit saves the session and sets cookie headers. It runs once, just
// before the response headers are written (or after the handler, if it wrote
// nothing). An error means a change could not be saved.
func (m *Manager) commit(ctx context.Context, s *Session, h http.Header) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.committed = true
	return m.mode.commit(ctx, s, h)
}

// commit writes what changed to the store: an update, a touch when the
// idle window is due, or the record of a new anonymous session.
func (b storeBackend) commit(ctx context.Context, s *Session, h http.Header) error {
	m := b.Manager
	if !s.loaded {
		// The handler never used the session: nothing to save or extend.
		m.writeCookie(s, h, time.Time{})
		return nil
	}
	if s.loadErr != nil {
		// The stored session is unknown: touch nothing, and set no cookie that
		// could overwrite the client's valid one.
		if s.dirty {
			return fmt.Errorf("%w: %w", ErrStoreUnavailable, s.loadErr)
		}
		return nil
	}
	// The clock of the load serves the commit too: the idle window counts
	// from the request's first use of the session, and one clock read is
	// spared on every request. An anonymous session with nothing to save
	// reads no clock at all (writeCookie reads it if it writes a cookie).
	var now time.Time
	if s.loadedAt != 0 {
		now = time.Unix(0, s.loadedAt)
	} else if s.dirty || s.token != nil {
		now = m.now()
	}
	switch {
	case s.dirty && s.token == nil:
		s.dirty = false
		if len(s.values) == 0 || s.late {
			// A late request's values are dropped: its new session's cookie
			// would replace the one a Login or renewal just sent.
			break
		}
		hdr := recordHeader{created: now, idle: m.normal.idle, lifetime: m.normal.lifetime}
		if err := m.replace(ctx, s, "", hdr, s.values, now); err != nil {
			return err
		}
	case s.dirty:
		s.dirty = false
		rec := Record{UserID: s.userID, Expires: deadline(s.header, now), Data: encodeRecord(s.header, s.values, nil)}
		switch err := m.store.Update(ctx, s.key, rec); {
		case errors.Is(err, ErrNotFound):
			// Deleted by a concurrent Logout or LogoutAll: never resurrect it.
			s.forgetGone(m, now)
		case err != nil:
			return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
		default:
			s.expires = rec.Expires
		}
	case s.token != nil:
		if next := deadline(s.header, now); extensionDue(s.header, s.expires, next) {
			var err error
			if s.cut {
				// The record still carries the longer timeouts it was
				// created with: a Touch alone would have the next load cut
				// the new expiry again (bounded), ending an active session.
				err = m.store.Update(ctx, s.key, Record{UserID: s.userID, Expires: next, Data: encodeRecord(s.header, s.values, s.rawValues)})
			} else {
				err = m.store.Touch(ctx, s.key, next)
			}
			switch {
			case errors.Is(err, ErrNotFound):
				s.forgetGone(m, now)
			case err != nil:
				m.logError(ctx, "session: extending idle timeout failed", s.key, err)
			default:
				s.expires, s.cut = next, false
			}
		}
	}
	if s.resign && s.cookieOp == cookieNone {
		s.cookieOp = cookieSet
	}
	m.writeCookie(s, h, now)
	return nil
}

// forget makes s anonymous after its record turned out to be gone.
func (s *Session) forget() {
	if s.fromCookie || s.cookieOp == cookieSet {
		s.cookieOp = cookieExpire
	}
	s.token, s.key, s.signed, s.userID = nil, "", "", ""
	s.values, s.rawValues, s.dirty, s.resign = nil, nil, false, false
	s.header, s.expires, s.cut = recordHeader{}, time.Time{}, false
}

// writeCookie adds the Set-Cookie header s.cookieOp asks for, with the
// headers that keep shared caches from storing the response. A zero now
// reads the clock, only when there is a cookie to write. With no cookie to
// write, a response that depends on a session the handler used still gets
// Vary on what carried it, so that no shared cache serves it to another
// visitor.
func (m *Manager) writeCookie(s *Session, h http.Header, now time.Time) {
	var c *http.Cookie
	if s.cookieOp == cookieNone {
		if s.loaded && s.token != nil {
			if s.fromCookie {
				addVary(h, "Cookie")
			} else {
				addVary(h, "Authorization")
			}
		}
		return
	}
	if now.IsZero() {
		now = m.now()
	}
	switch s.cookieOp {
	case cookieSet:
		if s.signed == "" || s.resign {
			v, err := m.signer.sign(s.token)
			if err != nil {
				m.logError(context.Background(), "session: signing token failed", s.key, err)
				return
			}
			s.signed, s.resign = v, false
		}
		var maxAge time.Duration
		if s.header.persistent {
			maxAge = max(s.header.created.Add(s.header.lifetime).Sub(now), time.Second)
		}
		c = m.cookie.cookie(s.signed, maxAge, now)
	case cookieExpire:
		c = m.cookie.cookie("", -1, now)
	}
	s.cookieOp = cookieNone
	h.Add("Set-Cookie", c.String())
	h.Set("Cache-Control", "no-store")
	addVary(h, "Cookie")
	if s.clearSite {
		h.Set("Clear-Site-Data", `"cookies"`)
		s.clearSite = false
	}
}

// start points s at a record just stored under a new token, and has the
// response send its cookie.
func (s *Session) start(token []byte, key, userID string, hdr recordHeader, expires time.Time, values map[string]string) {
	if values == nil {
		values = map[string]string{}
	}
	s.token, s.key, s.signed = token, key, ""
	s.userID, s.header, s.expires, s.cut = userID, hdr, expires, false
	s.values, s.rawValues, s.dirty = values, nil, false
	s.loadErr, s.resign, s.fromCookie = nil, false, true
	s.cookieOp, s.late = cookieSet, false
}

// forgetGone is forget for a session whose record went away while the
// request ran: the cookie is expired, unless a Login or renewal on this
// instance replaced the token moments ago (a request of another tab that
// read its session just before), since the browser may hold the new one.
func (s *Session) forgetGone(m *Manager, now time.Time) {
	replaced := len(s.token) == tokenLen && m.replacedLately([tokenLen]byte(s.token), now)
	s.forget()
	if replaced {
		s.cookieOp, s.late = cookieNone, true
	}
}

// forgetAndExpire makes s anonymous and deletes the client's cookie.
func (s *Session) forgetAndExpire() {
	s.forget()
	s.cookieOp = cookieExpire
}

// loggedOut is the state after Logout: anonymous, known (the store need not
// be read again), the cookie expired.
func (s *Session) loggedOut(clearSite bool) {
	s.loaded = true
	s.forgetAndExpire()
	s.loadErr, s.late = nil, false
	s.clearSite = clearSite
}

// token signs the session's token, once.
func (b storeBackend) token(s *Session) string {
	if s.token == nil {
		return ""
	}
	if s.signed == "" {
		s.signed, _ = b.signer.sign(s.token)
	}
	return s.signed
}

func (s *Session) keyLocked() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.key
}

// fetch reads and checks one record, bounded by the current timeouts; cut
// reports that the record carries longer ones. Corrupt and expired records
// are deleted and reported as ErrNotFound.
func (m *Manager) fetch(ctx context.Context, key string, now time.Time, slot *callContext) (rec Record, h recordHeader, values []byte, cut bool, err error) {
	if m.getter != nil {
		rec, err = m.getter.getAt(ctx, key, now, slot)
	} else {
		rec, err = m.store.Get(ctx, key)
	}
	if err != nil {
		return rec, recordHeader{}, nil, false, err
	}
	h, values, err = decodeHeader(rec.Data)
	if err == nil {
		err = walkValues(values, nil)
	}
	if err != nil {
		m.logError(ctx, "session: deleting corrupt record", key, errCorruptRecord)
		m.deleteQuietly(ctx, key)
		return rec, h, nil, false, ErrNotFound
	}
	stored := h
	if h, rec.Expires = m.bounded(h, rec.Expires); !now.Before(rec.Expires) {
		m.deleteQuietly(ctx, key)
		return rec, h, nil, false, ErrNotFound
	}
	return rec, h, values, h != stored, nil
}

// loadGetter is a store that serves the load's read with the Manager's
// clock reading and a context slot of the request's (the guard, and the
// observer's wrapper around it): see guard.getAt.
type loadGetter interface {
	getAt(ctx context.Context, key string, now time.Time, slot *callContext) (Record, error)
}

// setStore makes store the one m's sessions live in.
func (m *Manager) setStore(store Store) {
	m.store = store
	m.getter, _ = store.(loadGetter)
}

func (m *Manager) deleteQuietly(ctx context.Context, key string) {
	if err := m.store.Delete(ctx, key); err != nil {
		m.logError(ctx, "session: store delete failed", key, err)
	}
}

// addVary adds name to h's Vary header unless it is there already.
func addVary(h http.Header, name string) {
	vs := h["Vary"]
	for _, v := range vs {
		for f := range strings.SplitSeq(v, ",") {
			if f = strings.TrimSpace(f); strings.EqualFold(f, name) || f == "*" {
				return
			}
		}
	}
	h.Add("Vary", name)
}
