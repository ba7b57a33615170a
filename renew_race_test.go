package session_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionauth/session"
	"github.com/sessionauth/session/internal/redistest"
	"github.com/sessionauth/session/storetest"
)

// raceApp serves /login, /renew, /logout-others, /logout and /me for the
// Renew-versus-Logout tests, over a real HTTP server.
type raceApp struct {
	m   *session.Manager
	srv *httptest.Server
}

type renewingKey struct{}

func newRaceApp(t *testing.T, store session.Store) *raceApp {
	t.Helper()
	keys, err := session.NewKeyRing(session.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	// A generous StoreTimeout: this is about ordering, on a machine that
	// may be starved of CPU; store_guard_test.go tests the deadline.
	m, err := session.New(session.Config{Store: store, Keys: keys, Cookie: session.CookieOptions{DisableSecure: true}, StoreTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if err := m.Login(w, r, r.FormValue("user")); err != nil {
			http.Error(w, err.Error(), 500)
		}
	})
	renew := func(others bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			r = r.WithContext(context.WithValue(r.Context(), renewingKey{}, true))
			var err error
			if others {
				err = m.LogoutOthers(w, r)
			} else {
				err = m.Renew(w, r)
			}
			switch {
			case errors.Is(err, session.ErrNotAuthenticated), errors.Is(err, session.ErrConflict):
				http.Error(w, err.Error(), http.StatusUnauthorized)
			case err != nil:
				http.Error(w, err.Error(), 500)
			}
		}
	}
	mux.HandleFunc("POST /renew", renew(false))
	mux.HandleFunc("POST /logout-others", renew(true))
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if err := m.Logout(w, r); err != nil {
			http.Error(w, err.Error(), 500)
		}
	})
	mux.Handle("GET /me", m.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, session.FromContext(r.Context()).UserID())
	})))
	a := &raceApp{m: m, srv: httptest.NewServer(m.Middleware(mux))}
	t.Cleanup(a.srv.Close)
	return a
}

// do sends a request with cookie (if any) and returns the status and the
// session cookie the response set ("" if none, "-" if it expired it).
func (a *raceApp) do(t *testing.T, method, path, cookie string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, a.srv.URL+path, nil)
	if cookie != "" {
		req.Header.Set("Cookie", "sid="+cookie)
	}
	res, err := a.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	set := ""
	for _, c := range res.Cookies() {
		if c.Name == "sid" {
			set = c.Value
			if c.MaxAge < 0 {
				set = "-"
			}
		}
	}
	return res.StatusCode, set
}

func (a *raceApp) login(t *testing.T, user string) string {
	t.Helper()
	code, c := a.do(t, "POST", "/login?user="+user, "")
	if code != 200 || c == "" || c == "-" {
		t.Fatalf("login: %d %q", code, c)
	}
	return c
}

// A Logout of the old token that runs while Renew or LogoutOthers is at any
// of its steps ends the renewed session too: after both have returned,
// neither the old nor the new cookie is signed in. Each case pauses the
// renewal just before one of its store calls (or after its last) and runs
// the whole Logout in that gap.
func TestRenewCannotUndoAConcurrentLogoutAtAnyStep(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"/renew", "/logout-others"} {
		for step := 1; step <= 6; step++ {
			t.Run(fmt.Sprintf("%s paused before store call %d", strings.TrimPrefix(path, "/"), step), func(t *testing.T) {
				t.Parallel()
				store, faults := storetest.WithFaults(session.NewMemoryStore())
				a := newRaceApp(t, store)
				old := a.login(t, "alice")

				reached, release := make(chan struct{}), make(chan struct{})
				var once sync.Once
				calls := 0
				var mu sync.Mutex
				faults.SetHook(func(ctx context.Context, op string, key string) error {
					if ctx.Value(renewingKey{}) == nil {
						return nil
					}
					mu.Lock()
					calls++
					n := calls
					mu.Unlock()
					if n == step {
						once.Do(func() { close(reached) })
						<-release
					}
					return nil
				})
				type result struct {
					code   int
					cookie string
				}
				done := make(chan result, 1)
				go func() {
					code, c := a.do(t, "POST", path, old)
					done <- result{code, c}
				}()
				var renewed result
				select {
				case <-reached:
					if code, _ := a.do(t, "POST", "/logout", old); code != 200 {
						t.Errorf("logout: %d", code)
					}
					close(release)
					renewed = <-done
				case renewed = <-done: // fewer store calls than step: the Logout runs after
					close(release)
					if code, _ := a.do(t, "POST", "/logout", old); code != 200 {
						t.Errorf("logout: %d", code)
					}
				}
				faults.Heal()
				if code, _ := a.do(t, "GET", "/me", old); code != 401 {
					t.Fatalf("old cookie after Logout: %d, want 401", code)
				}
				if renewed.cookie != "" && renewed.cookie != "-" {
					if code, _ := a.do(t, "GET", "/me", renewed.cookie); code != 401 {
						t.Fatalf("renewed cookie (renew answered %d) is still signed in after the Logout returned", renewed.code)
					}
				}
			})
		}
	}
}

// The same race, unhooked: Renew and Logout of one token at the same moment,
// many times, on the memory store and on a real Redis.
func TestRenewRacingLogoutNeverLeavesALiveSession(t *testing.T) {
	t.Parallel()
	stores := map[string]func(t *testing.T) session.Store{
		"memory": func(t *testing.T) session.Store { return session.NewMemoryStore() },
		"redis": func(t *testing.T) session.Store {
			srv := redistest.New(t)
			return session.NewRedisStore(srv.Client(t), session.RedisConfig{KeyPrefix: redistest.Prefix()})
		},
	}
	for name, newStore := range stores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			a := newRaceApp(t, newStore(t))
			deadline := time.Now().Add(10 * time.Second)
			for i := 0; i < 300 && time.Now().Before(deadline); i++ {
				old := a.login(t, "alice")
				var wg sync.WaitGroup
				var renewed string
				wg.Add(2)
				go func() { defer wg.Done(); _, renewed = a.do(t, "POST", "/renew", old) }()
				go func() { defer wg.Done(); a.do(t, "POST", "/logout", old) }()
				wg.Wait()
				if renewed != "" && renewed != "-" {
					if code, _ := a.do(t, "GET", "/me", renewed); code != 401 {
						t.Fatalf("round %d: the renewed session outlived a concurrent Logout", i)
					}
				}
			}
		})
	}
}
