package session

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestCookieOnlyConfig(t *testing.T) {
	t.Parallel()
	ring, _ := NewKeyRing(testKeyA)
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"plain", Config{Keys: ring, CookieOnly: true}, true},
		{"with a store", Config{Keys: ring, CookieOnly: true, Store: NewMemoryStore()}, false},
		{"with bearer tokens", Config{Keys: ring, CookieOnly: true, Bearer: true}, false},
		{"without keys", Config{CookieOnly: true}, false},
	}
	for _, tt := range tests {
		m, err := New(tt.cfg)
		if tt.ok != (err == nil) {
			t.Errorf("%s: err = %v", tt.name, err)
			continue
		}
		if err != nil && !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: %v does not match ErrInvalidConfig", tt.name, err)
		}
		if err == nil {
			// No store at all, not even a guarded stub: the sealed backend.
			if _, ok := m.mode.(sealedBackend); !ok || m.store != nil {
				t.Errorf("%s: backend %T, store %T", tt.name, m.mode, m.store)
			}
		}
	}
}

// TestCookieOnlyStoreOperationsSaySo checks every Manager method that needs
// server-side state: ErrCookieOnly, and the session left as it was.
func TestCookieOnlyStoreOperationsSaySo(t *testing.T) {
	t.Parallel()
	h := newCookieOnlyHarness(t, nil)
	c := h.login("alice")
	ops := map[string]func(w http.ResponseWriter, r *http.Request) error{
		"LogoutAll": func(_ http.ResponseWriter, r *http.Request) error { return h.m.LogoutAll(r.Context(), "alice") },
		"ListSessions": func(_ http.ResponseWriter, r *http.Request) error {
			list, err := h.m.ListSessions(r.Context(), "alice")
			if list != nil {
				return errors.New("a list")
			}
			return err
		},
		"LogoutSession": func(_ http.ResponseWriter, r *http.Request) error {
			return h.m.LogoutSession(r.Context(), "alice", FromContext(r.Context()).ID())
		},
		"LogoutOthers": h.m.LogoutOthers,
		"Renew":        h.m.Renew,
	}
	for name, op := range ops {
		var err error
		var user string
		app := h.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			err = op(w, r)
			user = FromContext(r.Context()).UserID()
		}))
		r := httptest.NewRequest("POST", "/", nil)
		r.AddCookie(&http.Cookie{Name: h.m.cookie.Name, Value: c})
		w := httptest.NewRecorder()
		app.ServeHTTP(w, r)
		if !errors.Is(err, ErrCookieOnly) {
			t.Errorf("%s: err = %v, want ErrCookieOnly", name, err)
		}
		if user != "alice" {
			t.Errorf("%s: the session changed to %q", name, user)
		}
		noSessionCookie(t, h, w)
	}
	// Outside a request too.
	if err := h.m.LogoutAll(context.Background(), "alice"); !errors.Is(err, ErrCookieOnly) {
		t.Fatalf("LogoutAll: %v", err)
	}
}

func TestCookieOnlyHasNoBearerToken(t *testing.T) {
	t.Parallel()
	h := newCookieOnlyHarness(t, nil)
	var token, id string
	app := h.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		token, id = s.Token(), s.ID()
	}))
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: h.m.cookie.Name, Value: h.login("alice")})
	app.ServeHTTP(httptest.NewRecorder(), r)
	if token != "" {
		t.Fatal("Token is not empty in cookie-only mode")
	}
	if len(id) != 16 {
		t.Fatalf("ID = %q, want 16 hex characters", id)
	}
}

func TestCookieOnlyRequireAuth(t *testing.T) {
	t.Parallel()
	h := newCookieOnlyHarness(t, nil)
	if w := h.do("GET", "/private"); w.Code != http.StatusUnauthorized {
		t.Fatalf("anonymous: %d", w.Code)
	}
	c := h.login("alice")
	w := h.do("GET", "/private", c)
	if w.Code != http.StatusOK || w.Body.String() != "private:alice" {
		t.Fatalf("signed in: %d %s", w.Code, w.Body)
	}
	noSessionCookie(t, h, w)
}
