package session

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sessionauth/session/internal/redistest"
)

// tossingSite is an app on app.example.test and an attacker's page on the
// sibling evil.example.test, both served by one loopback server and reached
// through an RFC 6265 cookie jar, the way a browser would.
type tossingSite struct {
	m      *Manager
	srv    *httptest.Server
	port   string
	logout chan error
}

func newTossingSite(t *testing.T) *tossingSite {
	t.Helper()
	ring, _ := NewKeyRing(testKeyA)
	// The non-__Host- configuration: a host-only "sid" cookie over HTTP.
	m, err := New(Config{Keys: ring, Cookie: CookieOptions{Name: "sid", DisableSecure: true}})
	if err != nil {
		t.Fatal(err)
	}
	site := &tossingSite{m: m, logout: make(chan error, 16)}
	app := http.NewServeMux()
	app.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if err := m.Login(w, r, r.FormValue("user")); err != nil {
			http.Error(w, err.Error(), 500)
		}
	})
	app.HandleFunc("POST /{path...}", func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/logout") {
			http.NotFound(w, r)
			return
		}
		site.logout <- m.Logout(w, r)
	})
	app.Handle("GET /{path...}", m.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, FromContext(r.Context()).UserID())
	})))
	// The attacker's page sets cookies of the app's name for the parent
	// domain, with deep paths so that browsers send them first.
	evil := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i, v := range r.URL.Query()["v"] {
			path := r.URL.Query()["p"][i]
			w.Header().Add("Set-Cookie", fmt.Sprintf("sid=%s; Domain=example.test; Path=%s", v, path))
		}
	})
	site.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.Host, "evil.") {
			evil.ServeHTTP(w, r)
			return
		}
		m.Middleware(app).ServeHTTP(w, r)
	}))
	t.Cleanup(site.srv.Close)
	_, site.port, _ = net.SplitHostPort(site.srv.Listener.Addr().String())
	return site
}

// browser returns a client with its own cookie jar whose every host name
// resolves to the site's loopback server.
func (s *tossingSite) browser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	addr := s.srv.Listener.Addr().String()
	return &http.Client{Jar: jar, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}}
}

func (s *tossingSite) url(host, path string) string {
	return "http://" + host + ".example.test:" + s.port + path
}

func (s *tossingSite) send(t *testing.T, c *http.Client, method, host, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, s.url(host, path), nil)
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// token signs a user in on a fresh browser and returns its cookie value.
func (s *tossingSite) token(t *testing.T, user string, loggedOut bool) string {
	t.Helper()
	c := s.browser(t)
	if code, body := s.send(t, c, "POST", "app", "/login?user="+user); code != 200 {
		t.Fatalf("login %s: %d %s", user, code, body)
	}
	u, _ := url.Parse(s.url("app", "/"))
	v := c.Jar.Cookies(u)[0].Value
	if loggedOut {
		s.send(t, c, "POST", "app", "/logout")
		<-s.logout
	}
	return v
}

// An attacker on a sibling subdomain plants cookies of our name with deep
// paths; the victim's browser sends them before its own Path=/ cookie. The
// victim's requests under those paths must never be signed in as the
// attacker, and a Logout there must end the victim's own session.
func TestCookieTossingFromASiblingSubdomainNeverSignsInAsTheAttacker(t *testing.T) {
	t.Parallel()
	// Every prefix of the deep path, deepest first: distinct cookies, all
	// sent (before the victim's own) on requests under it.
	const deepDir = "/api/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s"
	var paths []string
	for p := deepDir; p != ""; p = p[:strings.LastIndexByte(p, '/')] {
		paths = append(paths, p)
	}
	tests := []struct {
		name    string
		plant   func(s *tossingSite, t *testing.T) []string
		tooMany bool
	}{
		{"three logged-out tokens of its own and a live one", func(s *tossingSite, t *testing.T) []string {
			return []string{s.token(t, "mallory", true), s.token(t, "mallory", true), s.token(t, "mallory", true), s.token(t, "mallory", false)}
		}, false},
		{"seven junk values and a live one", func(s *tossingSite, t *testing.T) []string {
			v := []string{"junk1", "junk2", "junk3", "junk4", "junk5", "junk6", "junk7"}
			return append(v, s.token(t, "mallory", false))
		}, false},
		{"more cookies than are checked", func(s *tossingSite, t *testing.T) []string {
			var v []string
			for i := range maxSessionCookies + 2 {
				v = append(v, fmt.Sprintf("junk%d", i))
			}
			return v
		}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newTossingSite(t)
			victim := s.browser(t)
			if code, _ := s.send(t, victim, "POST", "app", "/login?user=victim"); code != 200 {
				t.Fatal("victim login failed")
			}
			app, _ := url.Parse(s.url("app", "/"))
			victimToken := victim.Jar.Cookies(app)[0].Value

			planted := tc.plant(s, t)
			q := url.Values{}
			for i, v := range planted {
				q.Add("v", v)
				q.Add("p", paths[i])
			}
			s.send(t, victim, "GET", "evil", "/?"+q.Encode())
			deep, _ := url.Parse(s.url("app", deepDir+"/me"))
			if n := len(victim.Jar.Cookies(deep)); n != len(planted)+1 {
				t.Fatalf("the jar sends %d cookies on the deep path, want %d", n, len(planted)+1)
			}

			if code, body := s.send(t, victim, "GET", "app", deepDir+"/me"); code != 401 {
				t.Fatalf("victim's request under the planted paths: %d %q, want anonymous (401)", code, body)
			}
			if code, body := s.send(t, victim, "GET", "app", "/me"); code != 200 || body != "victim" {
				t.Fatalf("victim's request outside the planted paths: %d %q, want victim", code, body)
			}

			// Logout where the planted cookies are sent ends the victim's
			// session on the server, or says it could not.
			s.send(t, victim, "POST", "app", deepDir+"/logout")
			err := <-s.logout
			if tc.tooMany {
				if err == nil {
					t.Fatal("Logout with more cookies than are checked reported success")
				}
				return
			}
			if err != nil {
				t.Fatalf("Logout: %v", err)
			}
			fresh := s.browser(t)
			fresh.Jar.SetCookies(app, []*http.Cookie{{Name: "sid", Value: victimToken}})
			if code, body := s.send(t, fresh, "GET", "app", "/me"); code != 401 {
				t.Fatalf("the victim's session outlived a Logout made with the planted cookies: %d %q", code, body)
			}
		})
	}
}

// Dead tokens cost no more than one store read per request, and a token
// known to be dead costs none.
func TestDeadTokensCostAtMostOneStoreRead(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	// Tokens logged out through another Manager on the same store: valid
	// signatures, no records, unknown to h.m's dead-token set.
	ring, _ := NewKeyRing(testKeyA)
	other, err := New(Config{Store: h.store, Keys: ring})
	if err != nil {
		t.Fatal(err)
	}
	oh := &harness{t: t, m: other, store: h.store, clock: h.clock}
	oh.app = other.Middleware(oh.routes())
	var dead []string
	for range maxSessionCookies {
		c := oh.login("mallory")
		oh.do("POST", "/logout", c)
		dead = append(dead, c)
	}
	alice := h.login("alice")

	before := h.store.gets.Load()
	if got := h.whoami(dead...); got != "" {
		t.Fatalf("%d dead tokens signed in as %q", len(dead), got)
	}
	if n := h.store.gets.Load() - before; n != 0 {
		t.Fatalf("%d dead tokens cost %d store reads, want 0 (ambiguous)", len(dead), n)
	}
	before = h.store.gets.Load()
	h.whoami(dead[0])
	if n := h.store.gets.Load() - before; n != 1 {
		t.Fatalf("one dead token cost %d store reads, want 1", n)
	}
	before = h.store.gets.Load()
	if got := h.whoami(dead[0], alice); got != "alice" {
		t.Fatalf("a token known to be dead beside a live one: %q, want alice", got)
	}
	if n := h.store.gets.Load() - before; n != 1 {
		t.Fatalf("a known-dead token and a live one cost %d store reads, want 1", n)
	}
}

// An active session lives until its absolute lifetime even when the
// lifetime is not a multiple of half the idle window: near the end, the
// idle extension reaches the lifetime instead of stopping short.
func TestActiveSessionLivesUntilItsLifetime(t *testing.T) {
	t.Parallel()
	stores := map[string]func(t *testing.T, clk *clock) Store{
		"memory": func(t *testing.T, clk *clock) Store {
			s := NewMemoryStore()
			s.now = clk.Now
			return s
		},
		"redis": func(t *testing.T, clk *clock) Store {
			s := NewRedisStore(redistest.New(t).Client(t), RedisConfig{KeyPrefix: redistest.Prefix()})
			s.now = clk.Now
			return s
		},
	}
	for name, newStore := range stores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			clk := &clock{t: time.Now()}
			ring, _ := NewKeyRing(testKeyA)
			m, err := New(Config{Store: newStore(t, clk), Keys: ring, IdleTimeout: 10 * time.Minute, Lifetime: 57 * time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			m.now = clk.Now
			h := &harness{t: t, m: m, clock: clk}
			h.app = m.Middleware(h.routes())
			c := h.login("alice")
			for minute := 1; minute <= 56; minute++ {
				clk.Advance(time.Minute)
				if got := h.whoami(c); got != "alice" {
					t.Fatalf("signed out after %d minutes of activity, before the 57-minute lifetime", minute)
				}
			}
			clk.Advance(time.Minute)
			if got := h.whoami(c); got != "" {
				t.Fatalf("still signed in at the 57-minute lifetime")
			}
		})
	}
}
