package session

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"
)

func TestS5_TokenNotAcceptedFromQueryOrForm(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.Bearer = true })
	c := h.login("alice")
	name := h.m.cookie.Name
	for _, target := range []string{"/whoami?" + name + "=" + c, "/whoami?token=" + c, "/whoami?access_token=" + c} {
		if got := h.do("GET", target).Body.String(); got != "" {
			t.Fatalf("%s authenticated as %q", target, got)
		}
	}
	r := httptest.NewRequest("POST", "/whoami", strings.NewReader(name+"="+c))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	h.app.ServeHTTP(w, r)
	if w.Body.String() != "" {
		t.Fatal("token accepted from a form")
	}
}

func TestBearerToken(t *testing.T) {
	t.Parallel()
	for _, enabled := range []bool{false, true} {
		h := newHarness(t, func(c *Config) { c.Bearer = enabled })
		c := h.login("bob")
		r := httptest.NewRequest("GET", "/private", nil)
		r.Header.Set("Authorization", "Bearer "+c)
		w := httptest.NewRecorder()
		h.app.ServeHTTP(w, r)
		if enabled && w.Code != 200 {
			t.Fatalf("bearer enabled: %d", w.Code)
		}
		if !enabled && w.Code != 401 {
			t.Fatalf("bearer disabled: %d", w.Code)
		}
		if enabled && w.Header().Get("Set-Cookie") != "" {
			t.Fatal("bearer read set a cookie")
		}
	}
}

func TestS12_LogsNeverContainSecrets(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &buf, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := newHarness(t, func(c *Config) { c.Logger = logger })
	c := h.login("alice")
	tok := mustVerify(t, h, c)
	key := storeKey(tok)
	// Corrupt the record, fail the store, send several live cookies: every
	// path that logs.
	bob := h.login("bob")
	h.do("GET", "/whoami", c, bob)
	h.store.fail.Store(true)
	h.do("GET", "/private", c)
	h.do("GET", "/set?k=a&v=b", c)
	h.store.fail.Store(false)
	sh := h.mem.shard(key)
	sh.mu.Lock()
	sh.records[key] = Record{UserID: "alice", Expires: h.clock.Now().Add(time.Hour), Data: []byte{9, 9}}
	sh.mu.Unlock()
	h.do("GET", "/whoami", c)
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	if !strings.Contains(out, "corrupt") || !strings.Contains(out, "store read failed") {
		t.Fatalf("expected log lines missing:\n%s", out)
	}
	secrets := []string{c, bob, key, string(testKeyA), base64.RawURLEncoding.EncodeToString(tok), base64.URLEncoding.EncodeToString(tok), hexEncode(tok)}
	if s := containsAny(out, secrets...); s != "" {
		t.Fatalf("log contains a secret:\n%s", out)
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestB14_MiddlewareTwiceIsHarmless(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	c := h.login("alice")
	app := h.m.Middleware(h.m.Middleware(h.routes()))
	r := httptest.NewRequest("GET", "/set?k=a&v=b", nil)
	r.AddCookie(&http.Cookie{Name: h.m.cookie.Name, Value: c})
	updates := h.store.updates.Load()
	w := httptest.NewRecorder()
	app.ServeHTTP(w, r)
	if h.store.updates.Load()-updates != 1 || w.Code != 200 {
		t.Fatalf("double middleware: %d updates, status %d", h.store.updates.Load()-updates, w.Code)
	}
}

func TestB10_PanicDoesNotCommit(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	c := h.login("alice")
	app := h.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		FromContext(r.Context()).Set("k", "v")
		panic("boom")
	}))
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: h.m.cookie.Name, Value: c})
	writes := h.store.writes()
	func() {
		defer func() {
			if p := recover(); p != "boom" {
				t.Fatalf("panic = %v, want it to propagate", p)
			}
		}()
		app.ServeHTTP(httptest.NewRecorder(), r)
	}()
	if h.store.writes() != writes {
		t.Fatal("a panicking handler's session was committed")
	}
}

func TestRequireAuthDefault401(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	w := h.do("GET", "/private")
	if w.Code != 401 || strings.TrimSpace(w.Body.String()) != `{"error":"not authenticated"}` || w.Header().Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("401: %d %q %v", w.Code, w.Body, w.Header())
	}
	h.store.fail.Store(true)
	c := h.login
	_ = c
	forged, _ := h.m.signer.sign(newToken())
	w = h.do("GET", "/private", forged)
	if w.Code != 503 || strings.TrimSpace(w.Body.String()) != `{"error":"session store unavailable"}` {
		t.Fatalf("503: %d %q", w.Code, w.Body)
	}
}

func TestRequestContextKeepsParentValuesAndCancellation(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	type key struct{}
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
	var ctx context.Context
	app := h.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx = r.Context()
	}))
	app.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil).WithContext(parent))
	if ctx.Value(key{}) != "v" || FromContext(ctx) == nil || FromContext(ctx).m == nil {
		t.Fatal("the handler's context lost the parent's value or the session")
	}
	derived, stop := context.WithCancel(ctx)
	defer stop()
	fired := make(chan struct{})
	context.AfterFunc(ctx, func() { close(fired) })
	cancel()
	<-derived.Done()
	<-fired
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Fatalf("ctx.Err() = %v", ctx.Err())
	}
}

// Coverage for B14: the inner Middleware must pass through (one store read,
// one Set-Cookie). TestB14_MiddlewareTwiceIsHarmless still passes when the
// pass-through is removed; this one fails (two Gets, and a Login under a
// due touch gets the new cookie followed by an expiry of the old one).
func TestB14_InnerMiddlewarePassesThrough(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.IdleTimeout = 10 * time.Minute })
	c := h.login("alice")
	h.clock.Advance(6 * time.Minute) // a touch of the old session is due
	app := h.m.Middleware(h.m.Middleware(h.routes()))
	gets := h.store.gets.Load()
	r := httptest.NewRequest("POST", "/login?user=alice", nil)
	r.AddCookie(&http.Cookie{Name: h.m.cookie.Name, Value: c})
	w := httptest.NewRecorder()
	app.ServeHTTP(w, r)
	if n := h.store.gets.Load() - gets; n != 1 {
		t.Fatalf("double middleware read the store %d times, want 1", n)
	}
	if n := len(w.Header().Values("Set-Cookie")); n != 1 {
		t.Fatalf("double middleware sent %d Set-Cookie headers: %q", n, w.Header().Values("Set-Cookie"))
	}
	nc := sessionCookie(t, w, h.m.cookie.Name)
	if nc == nil || isExpiry(nc) || h.whoami(nc.Value) != "alice" {
		t.Fatalf("login through double middleware: %+v", nc)
	}
}

// Two Managers in one program (an app and its admin area, each with its own
// cookie and store) work side by side: each acts only on requests that
// passed through its own Middleware, and a request handed to the other is
// refused without changing anything.
func TestTwoManagersWorkSideBySide(t *testing.T) {
	t.Parallel()
	ring, _ := NewKeyRing(testKeyA)
	appStore, adminStore := NewMemoryStore(), NewMemoryStore()
	app, err := New(Config{Keys: ring, Store: appStore, Cookie: CookieOptions{Name: "__Host-app"}})
	if err != nil {
		t.Fatal(err)
	}
	admin, err := New(Config{Keys: ring, Store: adminStore, Cookie: CookieOptions{Name: "__Host-admin"}})
	if err != nil {
		t.Fatal(err)
	}
	var refused error
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if err := app.Login(w, r, "alice"); err != nil {
			t.Error(err)
		}
		refused = admin.Login(w, r, "root") // this request never passed through admin's Middleware
	})
	adminMux := http.NewServeMux()
	adminMux.HandleFunc("POST /admin/login", func(w http.ResponseWriter, r *http.Request) {
		if err := admin.Login(w, r, "root"); err != nil {
			t.Error(err)
		}
	})
	adminMux.HandleFunc("GET /admin/who", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s %s", FromContext(r.Context()).UserID(), app.FromContext(r.Context()).UserID(), admin.FromContext(r.Context()).UserID())
	})
	mux.Handle("/admin/", admin.Middleware(adminMux))
	h := app.Middleware(mux)
	do := func(method, target string, cookies ...*http.Cookie) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, target, nil)
		for _, c := range cookies {
			r.AddCookie(c)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}

	w := do("POST", "/login")
	if !errors.Is(refused, ErrNoMiddleware) {
		t.Fatalf("admin.Login on a request through app's Middleware only = %v, want ErrNoMiddleware", refused)
	}
	if adminStore.count() != 0 || sessionCookie(t, w, "__Host-admin") != nil {
		t.Fatal("the refused Login stored a record or sent a cookie")
	}
	appCookie := sessionCookie(t, w, "__Host-app")
	if appCookie == nil || appStore.count() != 1 {
		t.Fatal("app.Login did not sign in")
	}
	w = do("POST", "/admin/login", appCookie)
	adminCookie := sessionCookie(t, w, "__Host-admin")
	if adminCookie == nil || adminStore.count() != 1 || sessionCookie(t, w, "__Host-app") != nil {
		t.Fatal("admin.Login inside both Middlewares did not set only its own cookie")
	}
	w = do("GET", "/admin/who", appCookie, adminCookie)
	if got := w.Body.String(); got != "root alice root" {
		t.Fatalf("FromContext, app.FromContext, admin.FromContext = %q, want %q", got, "root alice root")
	}
}

// A signed-in read costs the Middleware two allocations, the request's
// copy (WithContext) and the request state, which holds the context, the
// Session and the writer; the state stays within the allocator's 448-byte
// class (a size class up costs about a tenth of a read in bench/).
func TestASignedInReadAllocatesTheRequestCopyAndOneSmallState(t *testing.T) {
	if size := unsafe.Sizeof(requestState{}); size > 448 {
		t.Errorf("requestState is %d bytes, want at most 448 (one size class)", size)
	}
	ring, err := NewKeyRing(testKeyA)
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(Config{Store: NewMemoryStore(), Keys: ring})
	if err != nil {
		t.Fatal(err)
	}
	login := httptest.NewRecorder()
	m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := m.Login(w, r, "alice"); err != nil {
			t.Fatal(err)
		}
	})).ServeHTTP(login, httptest.NewRequest("POST", "/login", nil))
	c := sessionCookie(t, login, m.cookie.Name)
	var user string
	read := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user = FromContext(r.Context()).UserID()
	}))
	r := httptest.NewRequest("GET", "/me", nil)
	r.AddCookie(c)
	w := &discardWriter{h: http.Header{}}
	read.ServeHTTP(w, r)
	if user != "alice" {
		t.Fatalf("read as %q, want alice", user)
	}
	if n := testing.AllocsPerRun(100, func() { read.ServeHTTP(w, r) }); n > 2 {
		t.Errorf("a signed-in read allocates %v times, want at most 2", n)
	}
}
