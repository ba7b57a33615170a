package passkey

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sessionauth/session"
)

func TestNewRefusesAnIncompleteOrInconsistentConfig(t *testing.T) {
	t.Parallel()
	keys, _ := session.NewKeyRing(session.GenerateKey())
	m, _ := session.New(session.Config{Keys: keys})
	good := Config{Sessions: m, Store: NewMemoryStore(), RPID: "example.com", Origins: []string{"https://example.com", "https://app.example.com:8443"}}
	if _, err := New(good); err != nil {
		t.Fatalf("a good config: %v", err)
	}
	for name, mod := range map[string]func(*Config){
		"no Sessions":           func(c *Config) { c.Sessions = nil },
		"no Store":              func(c *Config) { c.Store = nil },
		"no RPID":               func(c *Config) { c.RPID = "" },
		"RPID with a scheme":    func(c *Config) { c.RPID = "https://example.com" },
		"no Origins":            func(c *Config) { c.Origins = nil },
		"origin with a path":    func(c *Config) { c.Origins = []string{"https://example.com/app"} },
		"origin of another RP":  func(c *Config) { c.Origins = []string{"https://example.org"} },
		"origin ending like RP": func(c *Config) { c.Origins = []string{"https://badexample.com"} },
		"origin not http(s)":    func(c *Config) { c.Origins = []string{"ftp://example.com"} },
		"prefix without slash":  func(c *Config) { c.Prefix = "passkey" },
		"RecentAuth under 1s":   func(c *Config) { c.RecentAuth = 500 * time.Millisecond },
	} {
		c := good
		mod(&c)
		if _, err := New(c); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: %v, want ErrInvalidConfig", name, err)
		}
	}
}

// withRecentRoute adds POST /recent to app: an empty 200 behind
// Manager.RequireRecentAuth(maxAge, methods...), whose answer the tests
// compare with the Handler's.
func withRecentRoute(app *testApp, maxAge time.Duration, methods ...string) {
	mux := http.NewServeMux()
	mux.Handle("/", app.srv.Config.Handler)
	mux.Handle("POST /recent", app.m.RequireRecentAuth(maxAge, methods...)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	app.srv.Config.Handler = mux
}

// staleProof is how long the tests wait for a proof to be older than a
// RecentAuth of one second, the shortest RequireRecentAuth takes.
const staleProof = 1100 * time.Millisecond

func TestRecentAuthZeroMeansFiveMinutes(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	if app.h.cfg.RecentAuth != 5*time.Minute {
		t.Fatalf("RecentAuth 0 became %v, want 5m", app.h.cfg.RecentAuth)
	}
	// A first passkey right after signing in, with a password, needs no
	// step-up; nor does removing it.
	a := newSoftAuthn(t)
	alice := app.visitor()
	alice.login("alice")
	alice.register(a, "")
	alice.must("/passkey/remove", []byte(`{"id":"`+b64(a.id)+`"}`))
}

func TestAddingOrRemovingAPasskeyNeedsARecentProof(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		recentAuth time.Duration
		refused    bool // once the proof is older than RecentAuth
	}{
		{"RecentAuth one second", time.Second, true},
		{"negative RecentAuth: the app guards the routes itself", -1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			app := newTestAppConfig(t, session.Config{}, func(c *Config) { c.RecentAuth = tc.recentAuth })
			withRecentRoute(app, time.Second)
			a, b, c := newSoftAuthn(t), newSoftAuthn(t), newSoftAuthn(t)
			alice := app.visitor()
			alice.login("alice")
			alice.register(a, "") // right after signing in
			opts := alice.must("/passkey/register/begin", nil)
			time.Sleep(staleProof)

			var want answer
			if tc.refused {
				// Exactly what Manager.RequireRecentAuth answers.
				want = alice.postAnswer("/recent", nil)
				if want.status != http.StatusUnauthorized || !strings.Contains(want.body, `"insufficient_user_authentication"`) || !strings.Contains(want.body, `"stale"`) {
					t.Fatalf("RequireRecentAuth's own answer: %+v", want)
				}
			}
			for _, req := range []struct {
				path string
				body []byte
			}{
				{"register/finish", b.create(opts, "")}, // begun while the proof was recent
				{"register/begin", nil},
				{"remove", []byte(`{"id":"` + b64(a.id) + `"}`)},
			} {
				got := alice.postAnswer("/passkey/"+req.path, req.body)
				if tc.refused && got != want {
					t.Errorf("%s with a proof older than RecentAuth: %+v, want RequireRecentAuth's %+v", req.path, got, want)
				}
				if !tc.refused && got.status != http.StatusOK {
					t.Errorf("%s with a proof older than RecentAuth, not checked: %+v, want 200", req.path, got)
				}
			}
			creds, _ := app.store.ListUser(t.Context(), "alice")
			if tc.refused && (len(creds) != 1 || !bytes.Equal(creds[0].ID, a.id)) {
				t.Fatalf("refused requests changed alice's passkeys: %d", len(creds))
			}
			if !tc.refused {
				return
			}
			// Listing and renaming need no recent proof.
			alice.must("/passkey/list", nil)
			alice.must("/passkey/rename", []byte(`{"id":"`+b64(a.id)+`","name":"laptop"}`))
			// A step-up makes the proof recent: the registration begun before
			// finishes, and the rest works again.
			alice.must("/passkey/stepup/finish", a.get(alice.must("/passkey/stepup/begin", nil)))
			alice.must("/passkey/register/finish", b.create(opts, ""))
			alice.register(c, "")
			alice.must("/passkey/remove", []byte(`{"id":"`+b64(a.id)+`"}`))
			if creds, _ := app.store.ListUser(t.Context(), "alice"); len(creds) != 2 {
				t.Fatalf("after the step-up alice has %d passkeys, want 2", len(creds))
			}
		})
	}
	t.Run("signed out: not_signed_in, as at every endpoint", func(t *testing.T) {
		t.Parallel()
		app := newTestApp(t)
		v := app.visitor()
		for path, body := range map[string]string{
			"register/begin":  `{}`,
			"register/finish": `{"credential":null,"name":""}`,
			"remove":          `{"id":"AAAA"}`,
		} {
			v.refused("/passkey/"+path, []byte(body), http.StatusUnauthorized, "not_signed_in")
		}
	})
}
