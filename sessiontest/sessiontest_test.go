package sessiontest_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sessionauth/session"
	"github.com/sessionauth/session/sessiontest"
)

func TestHarness(t *testing.T) {
	t.Parallel()
	whoami := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.FromContext(r.Context())
		w.Write([]byte(s.UserID() + ":" + s.Get("cart")))
	})
	tests := []struct {
		name       string
		signIn     string
		values     map[string]string
		handler    func(h *sessiontest.Harness) http.Handler
		wantBody   string
		wantUser   string
		wantValue  string // of "cart", read back
		wantLogout bool
	}{
		{name: "anonymous by default", handler: func(*sessiontest.Harness) http.Handler { return whoami }, wantBody: ":"},
		{name: "a signed-in request", signIn: "alice", values: map[string]string{"cart": "7"},
			handler: func(*sessiontest.Harness) http.Handler { return whoami }, wantBody: "alice:7", wantUser: "alice", wantValue: "7"},
		{name: "a value the handler sets is read back", signIn: "alice",
			handler: func(*sessiontest.Harness) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if err := session.FromContext(r.Context()).Set("cart", "42"); err != nil {
						t.Error(err)
					}
				})
			}, wantUser: "alice", wantValue: "42"},
		{name: "a login by the handler", handler: func(h *sessiontest.Harness) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if err := h.Manager.Login(w, r, "bob"); err != nil {
					t.Error(err)
				}
			})
		}, wantUser: "bob"},
		{name: "a logout by the handler", signIn: "alice", values: map[string]string{"cart": "7"},
			handler: func(h *sessiontest.Harness) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if err := h.Manager.Logout(w, r); err != nil {
						t.Error(err)
					}
				})
			}, wantLogout: true},
		{name: "LogoutAll from the handler", signIn: "alice",
			handler: func(h *sessiontest.Harness) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if err := h.Manager.LogoutAll(r.Context(), "alice"); err != nil {
						t.Error(err)
					}
				})
			}, wantLogout: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := sessiontest.New(t)
			if tt.signIn != "" {
				h.SignIn(tt.signIn, tt.values)
			}
			w := h.Do(tt.handler(h), httptest.NewRequest("GET", "/", nil))
			if tt.wantBody != "" && w.Body.String() != tt.wantBody {
				t.Errorf("body = %q, want %q", w.Body, tt.wantBody)
			}
			if h.LoggedOut() != tt.wantLogout {
				t.Errorf("LoggedOut = %v, want %v", h.LoggedOut(), tt.wantLogout)
			}
			s := h.Session()
			if s.UserID() != tt.wantUser || s.Get("cart") != tt.wantValue {
				t.Errorf("session after: user %q, cart %q; want %q, %q", s.UserID(), s.Get("cart"), tt.wantUser, tt.wantValue)
			}
			if h.LoggedOut() != tt.wantLogout {
				t.Error("Session changed LoggedOut")
			}
		})
	}
}

// Each Do sends the cookie the last response left: a session carries over
// from request to request, as in a browser, and two harnesses share nothing.
func TestHarnessKeepsTheCookieBetweenRequests(t *testing.T) {
	t.Parallel()
	h, other := sessiontest.New(t), sessiontest.New(t)
	h.SignIn("alice", nil)
	count := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.FromContext(r.Context())
		n, _, _ := session.Value[int](s, "n")
		session.Put(s, "n", n+1)
	})
	for range 3 {
		h.Do(count, httptest.NewRequest("POST", "/", nil))
	}
	if n, _, err := session.Value[int](h.Session(), "n"); n != 3 || err != nil {
		t.Fatalf("n = %d, %v after three requests", n, err)
	}
	if other.Session().UserID() != "" {
		t.Fatal("a second harness is signed in")
	}
}
