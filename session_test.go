package session

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

func TestTokenForBearerClients(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.Bearer = true })
	var token string
	app := h.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h.m.Login(w, r, "api-user"); err != nil {
			t.Error(err)
		}
		token = FromContext(r.Context()).Token()
	}))
	app.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/", nil))
	if token == "" {
		t.Fatal("no token after Login")
	}
	r := httptest.NewRequest("GET", "/whoami", nil)
	r.Header.Set("Authorization", "bearer "+token)
	w := httptest.NewRecorder()
	h.app.ServeHTTP(w, r)
	if w.Body.String() != "api-user" {
		t.Fatalf("bearer token from Token() = %q", w.Body)
	}
}

func TestWithoutMiddlewareNothingIsSavedAndManagerCallsFail(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	r := httptest.NewRequest("GET", "/", nil)
	w := httptest.NewRecorder()
	s := FromContext(r.Context())
	if s == nil || s.UserID() != "" {
		t.Fatal("FromContext outside the middleware")
	}
	if err := s.Err(); !errors.Is(err, ErrNoMiddleware) {
		t.Fatalf("detached session's Err = %v, want ErrNoMiddleware", err)
	}
	// A change to a detached session is an error, the same in tests and in
	// production, and changes nothing.
	if err := s.Set("a", "b"); !errors.Is(err, ErrNoMiddleware) {
		t.Fatalf("Set on a detached session = %v, want ErrNoMiddleware", err)
	}
	if err := s.Delete("a"); !errors.Is(err, ErrNoMiddleware) {
		t.Fatalf("Delete on a detached session = %v, want ErrNoMiddleware", err)
	}
	if v, err := s.Pop("a"); v != "" || !errors.Is(err, ErrNoMiddleware) {
		t.Fatalf("Pop on a detached session = %q, %v, want ErrNoMiddleware", v, err)
	}
	if _, ok := s.Lookup("a"); ok {
		t.Fatal("a detached session kept a value")
	}
	for name, err := range map[string]error{
		"Login":        h.m.Login(w, r, "alice"),
		"Logout":       h.m.Logout(w, r),
		"Renew":        h.m.Renew(w, r),
		"LogoutOthers": h.m.LogoutOthers(w, r),
	} {
		if !errors.Is(err, ErrNoMiddleware) {
			t.Fatalf("%s without middleware = %v", name, err)
		}
	}
	// RequireAuth alone applies the middleware.
	c := h.login("alice")
	rr := httptest.NewRequest("GET", "/", nil)
	rr.AddCookie(&http.Cookie{Name: h.m.cookie.Name, Value: c})
	w = httptest.NewRecorder()
	h.m.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(FromContext(r.Context()).UserID()))
	})).ServeHTTP(w, rr)
	if w.Body.String() != "alice" {
		t.Fatalf("RequireAuth without Middleware: %d %q", w.Code, w.Body)
	}
}

func TestPutAndValueRoundTripTypedValues(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	type cart struct {
		Items []string
		Total int
	}
	var cookie string
	app := h.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		if r.URL.Path == "/put" {
			if err := Put(s, "cart", cart{Items: []string{"a", "b"}, Total: 3}); err != nil {
				t.Error(err)
			}
			Put(s, "n", 42)
			s.Set("flash", "hello")
			return
		}
		c, ok, err := Value[cart](s, "cart")
		n, _, _ := Value[int](s, "n")
		_, missing, _ := Value[int](s, "nope")
		_, _, wrongType := Value[int](s, "cart")
		if !ok || err != nil || c.Total != 3 || len(c.Items) != 2 || n != 42 || missing || wrongType == nil {
			t.Errorf("Value: %+v %v %v n=%d", c, ok, err, n)
		}
		if v, err := s.Pop("flash"); v != "hello" || err != nil || s.Get("flash") != "" {
			t.Errorf("Pop = %q, %v", v, err)
		}
		if _, ok := s.Lookup("flash"); ok {
			t.Error("Lookup after Pop found the value")
		}
	}))
	w := httptest.NewRecorder()
	app.ServeHTTP(w, httptest.NewRequest("GET", "/put", nil))
	cookie = sessionCookie(t, w, h.m.cookie.Name).Value
	r := httptest.NewRequest("GET", "/get", nil)
	r.AddCookie(&http.Cookie{Name: h.m.cookie.Name, Value: cookie})
	app.ServeHTTP(httptest.NewRecorder(), r)
}

// Coverage: handler goroutines using the session while the response is
// being written (run with -race).
func TestSessionConcurrentUseInHandler(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	c := h.login("alice")
	app := h.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				s.Set(fmt.Sprint("k", i), "v")
				_ = s.Get("k0")
				_ = s.Token()
				_ = s.ID()
				_, _ = s.Lookup("k1")
			})
		}
		w.Write([]byte("x")) // commits while the goroutines run
		wg.Wait()
	}))
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: h.m.cookie.Name, Value: c})
	app.ServeHTTP(httptest.NewRecorder(), r)
	if h.whoami(c) != "alice" {
		t.Fatal("session lost")
	}
	n := 0
	for i := range 8 {
		if h.do("GET", fmt.Sprint("/get?k=k", i), c).Body.String() == "v" {
			n++
		}
	}
	if n != 8 {
		t.Fatalf("%d of 8 values set during the response were saved (commit plus late save)", n)
	}
}

// A Session a caller made itself (the zero value, as a test might pass to
// a handler's helper) is detached like FromContext's outside Middleware:
// errors, never a nil-pointer panic.
func TestAZeroSessionIsDetached(t *testing.T) {
	t.Parallel()
	var s Session
	if err := s.Err(); !errors.Is(err, ErrNoMiddleware) {
		t.Errorf("Err = %v, want ErrNoMiddleware", err)
	}
	if err := s.Set("a", "b"); !errors.Is(err, ErrNoMiddleware) {
		t.Errorf("Set = %v, want ErrNoMiddleware", err)
	}
	if err := Put(&s, "n", 1); !errors.Is(err, ErrNoMiddleware) {
		t.Errorf("Put = %v, want ErrNoMiddleware", err)
	}
	if err := s.Delete("a"); !errors.Is(err, ErrNoMiddleware) {
		t.Errorf("Delete = %v, want ErrNoMiddleware", err)
	}
	if v, err := s.Pop("a"); v != "" || !errors.Is(err, ErrNoMiddleware) {
		t.Errorf("Pop = %q, %v, want ErrNoMiddleware", v, err)
	}
	if s.UserID() != "" || s.ID() != "" || s.Token() != "" || !s.AuthTime().IsZero() || s.AuthMethods() != nil || s.Get("a") != "" {
		t.Error("a zero Session does not read as anonymous")
	}
}

// A change from a goroutine that outlived its handler cannot be saved any
// more: it reports ErrHeadersWritten instead of a nil that loses it.
func TestAChangeAfterTheRequestEndedIsRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	c := h.login("alice")
	var kept *Session
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: h.m.cookie.Name, Value: c})
	h.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kept = FromContext(r.Context())
		kept.Set("kept", "1")
	})).ServeHTTP(httptest.NewRecorder(), r)
	for name, change := range map[string]func() error{
		"Set":    func() error { return kept.Set("late", "1") },
		"Delete": func() error { return kept.Delete("kept") },
		"Pop":    func() error { _, err := kept.Pop("kept"); return err },
	} {
		if err := change(); !errors.Is(err, ErrHeadersWritten) {
			t.Errorf("%s after the request ended: %v, want ErrHeadersWritten", name, err)
		}
	}
	if got := h.do("GET", "/get?k=late", c).Body.String(); got != "" {
		t.Errorf("a change after the request ended was saved: %q", got)
	}
	if got := h.do("GET", "/get?k=kept", c).Body.String(); got != "1" {
		t.Errorf("the value set during the request: %q, want 1", got)
	}
}
