package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/sessionauth/session"
	"github.com/sessionauth/session/password"
	"github.com/sessionauth/session/storetest"
	"github.com/sessionauth/session/throttle"
	"golang.org/x/crypto/bcrypt"
)

const (
	testUser     = "demo"
	testPassword = "correct-horse-battery-staple"
)

// The demo hash is made once: argon2id costs tens of milliseconds.
var testHash = sync.OnceValue(func() string {
	h, err := password.Hash(testPassword)
	if err != nil {
		panic(err)
	}
	return h
})

// syncBuffer collects log output from concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

type env struct {
	t      *testing.T
	app    *app
	h      http.Handler
	users  *memoryUsers
	demo   User
	store  session.Store     // the app's store, behind faults
	faults *storetest.Faults // makes the store fail, like Redis going down
	logs   *syncBuffer
}

func newEnv(t *testing.T, mod ...func(*appConfig)) *env {
	t.Helper()
	secret := session.GenerateKey()
	keys, err := session.NewKeyRing(secret)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{
		t:     t,
		users: newMemoryUsers(),
		logs:  &syncBuffer{},
	}
	e.store, e.faults = storetest.WithFaults(session.NewMemoryStore())
	if e.demo, err = e.users.addDemo(testUser, testHash()); err != nil {
		t.Fatal(err)
	}
	rec, metricsHandler, err := newMetrics()
	if err != nil {
		t.Fatal(err)
	}
	cfg := appConfig{
		Metrics:  &metrics{rec: rec, handler: metricsHandler},
		Sessions: session.Config{Store: e.store, Keys: keys, Logger: slog.New(slog.NewTextHandler(e.logs, nil))},
		Users:    e.users,
		Log:      slog.New(slog.NewTextHandler(e.logs, nil)),
		DemoHint: true,
		DemoUser: testUser,
		Throttle: throttle.GuardConfig{DeviceKeys: [][]byte{secret}},
	}
	for _, m := range mod {
		m(&cfg)
	}
	if e.app, err = newApp(cfg); err != nil {
		t.Fatal(err)
	}
	e.h = e.app.routes()
	return e
}

// browser keeps cookies like a browser would, for one client address.
type browser struct {
	e       *env
	addr    string
	ua      string
	cookies map[string]*http.Cookie
	header  http.Header // added to every request (a proxy's X-Forwarded-For)
}

func (e *env) browser(addr string) *browser {
	return &browser{e: e, addr: addr, ua: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0 Safari/537.36", cookies: map[string]*http.Cookie{}}
}

type response struct {
	*http.Response
	body string
}

func (r *response) json(t *testing.T, v any) {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q, want JSON; body %q", ct, r.body)
	}
	if err := json.Unmarshal([]byte(r.body), v); err != nil {
		t.Fatalf("decode %q: %v", r.body, err)
	}
}

// errorMsg returns the "error" of a JSON error body, failing if it is not one.
func (r *response) errorMsg(t *testing.T) string {
	t.Helper()
	var v map[string]string
	r.json(t, &v)
	if len(v) != 1 || v["error"] == "" {
		t.Fatalf("body %q is not {\"error\":...}", r.body)
	}
	return v["error"]
}

// cookie returns the Set-Cookie of the session cookie, or nil.
func (r *response) cookie() *http.Cookie {
	for _, c := range r.Cookies() {
		if c.Name == hostCookieName {
			return c
		}
	}
	return nil
}

func (b *browser) do(req *http.Request) *response {
	req.RemoteAddr = b.addr
	req.Header.Set("User-Agent", b.ua)
	for k, v := range b.header {
		req.Header[k] = v
	}
	for _, c := range b.cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	b.e.h.ServeHTTP(rec, req)
	res := rec.Result()
	body, _ := io.ReadAll(res.Body)
	for _, c := range res.Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = &http.Cookie{Name: c.Name, Value: c.Value}
		}
	}
	return &response{Response: res, body: string(body)}
}

func (b *browser) get(path string) *response {
	return b.do(httptest.NewRequest("GET", path, nil))
}

// page GETs path as a browser navigation (Accept: text/html).
func (b *browser) page(path string) *response {
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	return b.do(req)
}

func (b *browser) postJSON(path, body string) *response {
	req := httptest.NewRequest("POST", path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return b.do(req)
}

func (b *browser) postForm(path string, form url.Values) *response {
	req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// What a browser sends for a same-origin form.
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", "http://example.com")
	return b.do(req)
}

func (b *browser) login(user, pw string) *response {
	body, _ := json.Marshal(map[string]string{"username": user, "password": pw})
	return b.postJSON("/login", string(body))
}

func (b *browser) mustLogin() {
	b.e.t.Helper()
	if r := b.login(testUser, testPassword); r.StatusCode != http.StatusOK {
		b.e.t.Fatalf("login: %d %s", r.StatusCode, r.body)
	}
}

func wantStatus(t *testing.T, r *response, code int) {
	t.Helper()
	if r.StatusCode != code {
		t.Fatalf("status %d, want %d; body %q", r.StatusCode, code, r.body)
	}
}

// quietRedisLog drops go-redis's own "failed to dial" lines, which the
// store-down tests provoke on purpose.
type quietRedisLog struct{}

func (quietRedisLog) Printf(context.Context, string, ...any) {}

func init() { redis.SetLogger(quietRedisLog{}) }

// cheapHash is a bcrypt hash at the lowest cost (about 1 ms), so tests can
// fail many logins without paying for argon2id each time.
func cheapHash(t *testing.T, pw string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

func envFunc(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// startRun runs the server with env until the test ends and returns its
// address and log.
func startRun(t *testing.T, env map[string]string) (addr string, logs *syncBuffer, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs = &syncBuffer{}
	addrc := make(chan string, 1)
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, envFunc(env), logs, func(a string) { addrc <- a }) }()
	select {
	case addr = <-addrc:
	case err := <-errc:
		cancel()
		t.Fatalf("run: %v\n%s", err, logs)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-errc; err != nil {
				t.Errorf("run returned %v after shutdown", err)
			}
		})
	}
	t.Cleanup(stop)
	return addr, logs, stop
}

// wantBody fails unless the body contains every one of want.
func wantBody(t *testing.T, r *response, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(r.body, w) {
			t.Errorf("body lacks %q", w)
		}
	}
	if t.Failed() {
		t.Fatalf("body:\n%s", r.body)
	}
}

// focused returns the id of the input with autofocus, or "".
func (r *response) focused() string {
	m := regexp.MustCompile(`<input id="([a-z_]+)"[^>]* autofocus`).FindAllStringSubmatch(r.body, -1)
	if len(m) != 1 {
		return ""
	}
	return m[0][1]
}

// invalid returns the ids of the inputs marked aria-invalid.
func (r *response) invalid() []string {
	var ids []string
	for _, m := range regexp.MustCompile(`<input id="([a-z_]+)"[^>]* aria-invalid="true"`).FindAllStringSubmatch(r.body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

// loginDirect signs uid in through the Manager alone, without a password
// hash, and returns the session cookie: for tests that need many sessions.
func (e *env) loginDirect(uid string) *http.Cookie {
	e.t.Helper()
	h := e.app.sessions.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := e.app.sessions.Login(w, r, uid); err != nil {
			e.t.Error(err)
		}
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/", nil))
	for _, c := range rec.Result().Cookies() {
		if c.Name == hostCookieName {
			return &http.Cookie{Name: c.Name, Value: c.Value}
		}
	}
	e.t.Fatal("direct login set no cookie")
	return nil
}

// signOutAtFirstTouch deletes the session record that the next store Touch
// names, just before that Touch runs: the liveness check of a renewal
// (LogoutOthers, StepUp) then finds the session signed out, as if another
// device had signed it out meanwhile. The result reports whether it ran;
// clear the hook with e.faults.SetHook(nil).
func (e *env) signOutAtFirstTouch() *atomic.Bool {
	var fired atomic.Bool
	e.faults.SetHook(func(ctx context.Context, op, key string) error {
		if op == "Touch" && fired.CompareAndSwap(false, true) {
			e.store.Delete(ctx, key)
		}
		return nil
	})
	return &fired
}
