package session

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionauth/session/internal/redistest"
)

func TestLoginThenAReadIsSignedIn(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	c := h.login("alice")
	if got := h.whoami(c); got != "alice" {
		t.Fatalf("whoami = %q, want alice", got)
	}
	if w := h.do("GET", "/private", c); w.Code != 200 || w.Body.String() != "private:alice" {
		t.Fatalf("private = %d %q", w.Code, w.Body)
	}
}

func TestS13_LoginIssuesNewTokenAndDeletesOld(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	// Anonymous session with data.
	w := h.do("GET", "/set?k=cart&v=42")
	anon := sessionCookie(t, w, h.m.cookie.Name).Value
	alice := h.login("alice", anon)
	if alice == anon {
		t.Fatal("Login kept the session token (fixation)")
	}
	if got := h.do("GET", "/get?k=cart", alice).Body.String(); got != "42" {
		t.Fatalf("anonymous data lost at login: %q", got)
	}
	if got := h.do("GET", "/get?k=cart", anon).Body.String(); got != "" {
		t.Fatalf("old token still works: %q", got)
	}
	// Re-login of the same user keeps data, with a new token.
	alice2 := h.login("alice", alice)
	if alice2 == alice || h.do("GET", "/get?k=cart", alice2).Body.String() != "42" {
		t.Fatal("same-user re-login lost data or kept the token")
	}
	if h.whoami(alice) != "" {
		t.Fatal("token from before re-login still works")
	}
}

func TestS13_LoginWipesOtherUsersData(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	alice := h.login("alice")
	h.do("GET", "/set?k=secret&v=alice-data", alice)
	bob := h.login("bob", alice)
	if got := h.do("GET", "/get?k=secret", bob).Body.String(); got != "" {
		t.Fatalf("bob inherited alice's data: %q", got)
	}
	if h.whoami(bob) != "bob" || h.whoami(alice) != "" {
		t.Fatal("wrong users after switching")
	}
}

func TestS16_IndexExpiresWithSessions(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.login("alice")
	h.clock.Advance(defaultLifetime + time.Second)
	h.mem.sweep()
	h.mem.usersMu.Lock()
	n := len(h.mem.users)
	h.mem.usersMu.Unlock()
	if n != 0 || h.mem.count() != 0 {
		t.Fatalf("index has %d users, store %d records after expiry", n, h.mem.count())
	}
}

// replacingStore adds Replacer to a countingStore.
type replacingStore struct {
	*countingStore
	replaces int
}

func (r *replacingStore) Replace(ctx context.Context, oldKey, newKey string, rec Record, limit int) error {
	r.replaces++
	return r.Store.(Replacer).Replace(ctx, oldKey, newKey, rec, limit)
}

func TestLoginUsesReplacer(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	rs := &replacingStore{countingStore: h.store}
	h.m.setStore(rs)
	first := h.login("alice")
	second := h.login("alice", first)
	if rs.replaces != 2 || h.store.deletes.Load() != 0 || h.store.creates.Load() != 0 {
		t.Fatalf("login, re-login: %d replaces, %d deletes, %d creates; want one Replace each", rs.replaces, h.store.deletes.Load(), h.store.creates.Load())
	}
	if h.whoami(first) != "" || h.whoami(second) != "alice" {
		t.Fatal("Replace did not swap the sessions")
	}
}

// A user has at most Config.MaxSessionsPerUser sessions: a login past the
// cap ends the oldest, and the devices list stays bounded.
func TestLoginPastThePerUserCapEndsTheOldestSessions(t *testing.T) {
	t.Parallel()
	stores := map[string]func(t *testing.T) Store{
		"memory": func(t *testing.T) Store { return NewMemoryStore() },
		"redis": func(t *testing.T) Store {
			return NewRedisStore(redistest.New(t).Client(t), RedisConfig{KeyPrefix: redistest.Prefix()})
		},
	}
	for name, newStore := range stores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, func(c *Config) { c.Store = newStore(t); c.MaxSessionsPerUser = 3 })
			// Real time, as the Redis store keeps its own clock, stepped a
			// millisecond per login for distinct creation times.
			clk := &clock{t: time.Now()}
			h.m.now = clk.Now
			var cookies []string
			for range 5 {
				cookies = append(cookies, h.login("alice"))
				clk.Advance(time.Millisecond)
			}
			bob := h.login("bob")
			for i, c := range cookies {
				want := "alice"
				if i < 2 {
					want = ""
				}
				if got := h.whoami(c); got != want {
					t.Fatalf("session %d of 5 with a cap of 3: whoami %q, want %q", i+1, got, want)
				}
			}
			if h.whoami(bob) != "bob" {
				t.Fatal("another user's session ended")
			}
			list, err := h.m.ListSessions(context.Background(), "alice")
			if err != nil || len(list) != 3 {
				t.Fatalf("ListSessions: %d sessions, %v; want 3", len(list), err)
			}
		})
	}
}

// on Redis, the per-user cap counts index entries of sessions that
// were logged out (Delete leaves the entry until its score passes), and
// ends the lowest-scored entries, live or not: a user who signed in and out
// twice on one device loses the session of another device although they
// have only two live sessions with a cap of two. The memory store, which
// counts live records, keeps it.
func TestCapCountsOnlyLiveSessions(t *testing.T) {
	t.Parallel()
	stores := map[string]func(t *testing.T) Store{
		"memory": func(t *testing.T) Store { return NewMemoryStore() },
		"redis":  func(t *testing.T) Store { return newRedisTestStore(t) },
	}
	for name, newStore := range stores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, func(c *Config) { c.Store = newStore(t); c.MaxSessionsPerUser = 2 })
			h.m.now = time.Now // the stores keep real time
			phone := h.login("alice")
			for range 2 {
				c := h.login("alice")
				if w := h.do("POST", "/logout", c); w.Code != http.StatusNoContent {
					t.Fatalf("logout: %d", w.Code)
				}
			}
			laptop := h.login("alice")
			list, err := h.m.ListSessions(context.Background(), "alice")
			if err != nil {
				t.Fatal(err)
			}
			if got := h.whoami(laptop); got != "alice" {
				t.Fatalf("the session just created is %q", got)
			}
			if got := h.whoami(phone); got != "alice" {
				t.Fatalf("with 2 live sessions and a cap of 2, the phone's session was ended (%d sessions listed)", len(list))
			}
		})
	}
}

// on Redis the per-user cap ends the sessions with the lowest index
// score (an upper bound of their expiry), not the oldest as README and
// SECURITY.md promise: an old RememberMe session outlives a newer ordinary
// one. The memory store ends the oldest.
func TestCapEndsTheOldestSessionFirst(t *testing.T) {
	t.Parallel()
	stores := map[string]func(t *testing.T) Store{
		"memory": func(t *testing.T) Store { return NewMemoryStore() },
		"redis":  func(t *testing.T) Store { return newRedisTestStore(t) },
	}
	for name, newStore := range stores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, func(c *Config) { c.Store = newStore(t); c.MaxSessionsPerUser = 2 })
			clk := &clock{t: time.Now()} // the stores keep real time
			h.m.now = clk.Now
			w := h.do("POST", "/login?user=alice&remember=1")
			oldest := sessionCookie(t, w, h.m.cookie.Name)
			if w.Code != 200 || oldest == nil {
				t.Fatalf("remember-me login: %d", w.Code)
			}
			clk.Advance(time.Millisecond) // distinct creation times
			middle := h.login("alice")
			clk.Advance(time.Millisecond)
			newest := h.login("alice")
			got := [3]string{h.whoami(oldest.Value), h.whoami(middle), h.whoami(newest)}
			if got != [3]string{"", "alice", "alice"} {
				t.Fatalf("oldest (remember-me), middle, newest after a third login with a cap of 2: %q, want the oldest ended", got)
			}
		})
	}
}

// on a store without the atomic capped create (MemoryStore, any
// third-party store), two logins of one user that run at the same time with
// MaxSessionsPerUser 1 (a "one session per user" policy; a double-clicked
// login button is enough) each end the other's new session, so both logins
// succeed and the user is signed out.
func TestConcurrentLoginsAtTheCapKeepOneSession(t *testing.T) {
	t.Parallel()
	h, hs := newHookHarness(t, func(c *Config) { c.MaxSessionsPerUser = 1 })
	// Each login lists the user's sessions after its create. Two barriers:
	// both creates happen before either list, and both lists before either
	// login deletes anything.
	created, listed := newBarrier(2), newBarrier(2)
	hs.before = func(_ context.Context, op, _ string, _ Record) error {
		if op == "ListUser" {
			created.wait()
		}
		return nil
	}
	hs.afterList = func(string) { listed.wait() }
	var wg sync.WaitGroup
	results := make([]*httptest.ResponseRecorder, 2)
	for i := range results {
		wg.Go(func() { results[i] = h.do("POST", "/login?user=alice") })
	}
	wg.Wait()
	hs.before, hs.afterList = nil, nil
	signedIn := 0
	for i, w := range results {
		c := sessionCookie(t, w, h.m.cookie.Name)
		if w.Code != 200 || c == nil {
			t.Fatalf("login %d: %d %s", i, w.Code, w.Body)
		}
		if h.whoami(c.Value) == "alice" {
			signedIn++
		}
	}
	if signedIn == 0 {
		t.Fatal("two concurrent logins, both reported success, and neither session is signed in")
	}
}

// Login deletes the record of the token it replaces but, unlike
// Logout and Renew, does not add that token to the dead-token set. A victim
// whose browser carries a cookie tossed by a sibling subdomain (here the
// attacker's own session) and who then logs in ends the attacker's session,
// yet every later request, carrying both cookies, stays anonymous: the
// replaced token is not known to be dead. (Presenting it alone also costs a
// store read that a logged-out token would not.)
func TestLoginRemembersTheTokenItReplacedAsDead(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	tossed := h.login("mallory")
	victim := h.login("victim", tossed) // Login on a request carrying the tossed cookie
	if got := h.whoami(victim); got != "victim" {
		t.Fatalf("victim's new session: %q", got)
	}
	if got := h.whoami(tossed, victim); got != "victim" {
		t.Fatalf("the replaced (deleted) token beside the victim's: %q, want victim", got)
	}
}

// Login and LogoutAll refuse hostile user IDs before any store call, so
// they can neither reach the store nor count against its circuit breaker.
func TestHostileUserIDsNeverReachTheStore(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	for _, id := range []string{"", strings.Repeat("u", maxUserIDLen+1), strings.Repeat("€", 86), "a\x00b", "\xff\xfe", string([]byte{0xc3})} {
		before := h.store.calls()
		var loginErr error
		app := h.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			loginErr = h.m.Login(w, r, id)
		}))
		app.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/login", nil))
		allErr := h.m.LogoutAll(context.Background(), id)
		if !errors.Is(loginErr, ErrInvalidUserID) || !errors.Is(allErr, ErrInvalidUserID) {
			t.Fatalf("user ID %q: Login = %v, LogoutAll = %v; want ErrInvalidUserID", id, loginErr, allErr)
		}
		if n := h.store.calls() - before; n != 0 {
			t.Fatalf("user ID %q cost %d store calls", id, n)
		}
	}
	if err := checkUserID(strings.Repeat("u", maxUserIDLen)); err != nil {
		t.Fatalf("a user ID of exactly %d bytes is refused: %v", maxUserIDLen, err)
	}
}

// loggingWriter is a middleware's wrapper of the ResponseWriter; with
// unwrap it offers Unwrap, as http.ResponseController expects.
type loggingWriter struct {
	http.ResponseWriter
	status int
}

func (w *loggingWriter) WriteHeader(code int) { w.status = code; w.ResponseWriter.WriteHeader(code) }

type unwrappingWriter struct{ *loggingWriter }

func (w unwrappingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Login, Logout, Renew and LogoutOthers set their cookie on the w they are
// given: it must be the Middleware's writer or unwrap to it, through any
// number of wrappers; any other writer is ErrForeignWriter, and nothing
// changes.
func TestCookieCallsNeedTheMiddlewaresWriter(t *testing.T) {
	t.Parallel()
	ops := []struct {
		name string
		call func(m *Manager, w http.ResponseWriter, r *http.Request) error
	}{
		{"Login", func(m *Manager, w http.ResponseWriter, r *http.Request) error { return m.Login(w, r, "bob") }},
		{"Logout", (*Manager).Logout},
		{"Renew", (*Manager).Renew},
		{"LogoutOthers", (*Manager).LogoutOthers},
		{"StepUp", func(m *Manager, w http.ResponseWriter, r *http.Request) error { return m.StepUp(w, r, "pwd") }},
	}
	writers := []struct {
		name string
		wrap func(w http.ResponseWriter) http.ResponseWriter
		ok   bool
	}{
		{"the middleware's", func(w http.ResponseWriter) http.ResponseWriter { return w }, true},
		{"wrapped, with Unwrap", func(w http.ResponseWriter) http.ResponseWriter {
			return unwrappingWriter{&loggingWriter{ResponseWriter: w}}
		}, true},
		{"wrapped twice, with Unwrap", func(w http.ResponseWriter) http.ResponseWriter {
			return unwrappingWriter{&loggingWriter{ResponseWriter: unwrappingWriter{&loggingWriter{ResponseWriter: w}}}}
		}, true},
		{"wrapped, without Unwrap", func(w http.ResponseWriter) http.ResponseWriter { return &loggingWriter{ResponseWriter: w} }, false},
		{"a recorder of its own", func(http.ResponseWriter) http.ResponseWriter { return httptest.NewRecorder() }, false},
		{"nil", func(http.ResponseWriter) http.ResponseWriter { return nil }, false},
		{"a wrapper that unwraps to itself", func(w http.ResponseWriter) http.ResponseWriter { return &selfUnwrapping{w} }, false},
	}
	for _, op := range ops {
		for _, wr := range writers {
			t.Run(op.name+"/"+wr.name, func(t *testing.T) {
				t.Parallel()
				h := newHarness(t, nil)
				c := h.login("alice")
				var err error
				app := h.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					err = op.call(h.m, wr.wrap(w), r)
				}))
				r := httptest.NewRequest("POST", "/", nil)
				r.AddCookie(&http.Cookie{Name: h.m.cookie.Name, Value: c})
				w := httptest.NewRecorder()
				app.ServeHTTP(w, r)
				got := sessionCookie(t, w, h.m.cookie.Name)
				if wr.ok {
					if err != nil || got == nil {
						t.Fatalf("err = %v, Set-Cookie %v; want the cookie on the response", err, got)
					}
					return
				}
				if !errors.Is(err, ErrForeignWriter) {
					t.Fatalf("err = %v, want ErrForeignWriter", err)
				}
				if got != nil {
					t.Fatalf("Set-Cookie %v after ErrForeignWriter", got)
				}
				if h.whoami(c) != "alice" {
					t.Fatal("the session changed after ErrForeignWriter")
				}
			})
		}
	}
}

// http.TimeoutHandler's writer buffers the response and does not unwrap:
// between Middleware and the handler, Login refuses it (ErrForeignWriter,
// as documented); put outside Middleware, it keeps Login working.
func TestTimeoutHandlerGoesOutsideTheMiddleware(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	var err error
	login := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { err = h.m.Login(w, r, "alice") })
	inside := h.m.Middleware(http.TimeoutHandler(login, time.Minute, "timeout"))
	inside.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/", nil))
	if !errors.Is(err, ErrForeignWriter) {
		t.Fatalf("Login behind TimeoutHandler inside Middleware = %v, want ErrForeignWriter", err)
	}
	outside := http.TimeoutHandler(h.m.Middleware(login), time.Minute, "timeout")
	w := httptest.NewRecorder()
	outside.ServeHTTP(w, httptest.NewRequest("POST", "/", nil))
	if err != nil || sessionCookie(t, w, h.m.cookie.Name) == nil {
		t.Fatalf("Login with TimeoutHandler outside Middleware: %v, no cookie", err)
	}
}

// selfUnwrapping is a broken wrapper whose Unwrap never gets anywhere.
type selfUnwrapping struct{ http.ResponseWriter }

func (w *selfUnwrapping) Unwrap() http.ResponseWriter { return w }

// A Login on a request that never passed through Middleware, or with a
// writer Middleware did not give the handler, is a programming error the
// handler may answer as an outage: the Logger hears of each kind once.
func TestMisuseIsLoggedOncePerKind(t *testing.T) {
	t.Parallel()
	var logs strings.Builder
	var mu sync.Mutex
	h := newHarness(t, func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
			mu.Lock()
			defer mu.Unlock()
			return logs.Write(p)
		}), nil))
	})
	for range 3 {
		if err := h.m.Login(httptest.NewRecorder(), httptest.NewRequest("POST", "/login", nil), "alice"); !errors.Is(err, ErrNoMiddleware) {
			t.Fatalf("Login without Middleware: %v, want ErrNoMiddleware", err)
		}
	}
	var errs []error
	h.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for range 3 {
			errs = append(errs, h.m.Login(httptest.NewRecorder(), r, "alice"))
		}
	})).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/login", nil))
	for _, err := range errs {
		if !errors.Is(err, ErrForeignWriter) {
			t.Fatalf("Login with another writer: %v, want ErrForeignWriter", err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if n := strings.Count(logs.String(), "wrap the handler or mux with Middleware"); n != 1 {
		t.Errorf("ErrNoMiddleware logged %d times, want once:\n%s", n, logs.String())
	}
	if n := strings.Count(logs.String(), "does not unwrap to, the one"); n != 1 {
		t.Errorf("ErrForeignWriter logged %d times, want once:\n%s", n, logs.String())
	}
}

// writerFunc is an io.Writer made of a function.
type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
