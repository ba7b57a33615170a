package session

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionauth/session/internal/redistest"
)

// countingStore wraps a Store, counts calls and can be made to fail.
type countingStore struct {
	Store
	gets, creates, updates, touches, deletes, lists, deleteUsers atomic.Int64
	fail                                                         atomic.Bool
	failDelete                                                   atomic.Bool
}

var errStoreDown = errors.New("store is down")

func (c *countingStore) writes() int64 {
	return c.creates.Load() + c.updates.Load() + c.touches.Load() + c.deletes.Load() + c.deleteUsers.Load()
}

func (c *countingStore) calls() int64 { return c.gets.Load() + c.writes() + c.lists.Load() }

func (c *countingStore) Get(ctx context.Context, key string) (Record, error) {
	c.gets.Add(1)
	if c.fail.Load() {
		return Record{}, errStoreDown
	}
	return c.Store.Get(ctx, key)
}

func (c *countingStore) Create(ctx context.Context, key string, rec Record) error {
	c.creates.Add(1)
	if c.fail.Load() {
		return errStoreDown
	}
	return c.Store.Create(ctx, key, rec)
}

func (c *countingStore) Update(ctx context.Context, key string, rec Record) error {
	c.updates.Add(1)
	if c.fail.Load() {
		return errStoreDown
	}
	return c.Store.Update(ctx, key, rec)
}

func (c *countingStore) Touch(ctx context.Context, key string, exp time.Time) error {
	c.touches.Add(1)
	if c.fail.Load() {
		return errStoreDown
	}
	return c.Store.Touch(ctx, key, exp)
}

func (c *countingStore) Delete(ctx context.Context, key string) error {
	c.deletes.Add(1)
	if c.fail.Load() || c.failDelete.Load() {
		return errStoreDown
	}
	return c.Store.Delete(ctx, key)
}

func (c *countingStore) ListUser(ctx context.Context, userID string) ([]Entry, error) {
	c.lists.Add(1)
	if c.fail.Load() {
		return nil, errStoreDown
	}
	return c.Store.ListUser(ctx, userID)
}

func (c *countingStore) DeleteUser(ctx context.Context, userID string) error {
	c.deleteUsers.Add(1)
	if c.fail.Load() {
		return errStoreDown
	}
	return c.Store.DeleteUser(ctx, userID)
}

// clock is a settable time source shared by the Manager and the MemoryStore.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var (
	testKeyA = []byte("0123456789abcdef0123456789abcdef-key-A")
	testKeyB = []byte("0123456789abcdef0123456789abcdef-key-B")
)

// harness is a Manager over a counting memory store with a fake clock, and
// an app with the routes most tests need.
type harness struct {
	t     *testing.T
	m     *Manager
	store *countingStore
	mem   *MemoryStore
	clock *clock
	app   http.Handler
}

func newHarness(t *testing.T, mod func(*Config)) *harness {
	t.Helper()
	clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	mem := NewMemoryStore()
	mem.now = clk.Now
	cs := &countingStore{Store: mem}
	ring, err := NewKeyRing(testKeyA)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Store: cs, Keys: ring}
	if mod != nil {
		mod(&cfg)
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m.now = clk.Now
	h := &harness{t: t, m: m, store: cs, mem: mem, clock: clk}
	h.app = m.Middleware(h.routes())
	return h
}

func (h *harness) routes() http.Handler {
	mux := http.NewServeMux()
	m := h.m
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		var opts []LoginOption
		if r.URL.Query().Get("remember") != "" {
			opts = append(opts, RememberMe())
		}
		if err := m.Login(w, r, r.URL.Query().Get("user"), opts...); err != nil {
			http.Error(w, "login: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.Write([]byte("ok"))
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		if err := m.Logout(w, r); err != nil {
			http.Error(w, "logout failed", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("/whoami", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(FromContext(r.Context()).UserID()))
	})
	mux.HandleFunc("/get", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(FromContext(r.Context()).Get(r.URL.Query().Get("k"))))
	})
	mux.HandleFunc("/set", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		FromContext(r.Context()).Set(q.Get("k"), q.Get("v"))
		w.Write([]byte("set"))
	})
	mux.HandleFunc("/renew", func(w http.ResponseWriter, r *http.Request) {
		if err := m.Renew(w, r); err != nil {
			http.Error(w, "renew failed", http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("/logout-others", func(w http.ResponseWriter, r *http.Request) {
		if err := m.LogoutOthers(w, r); err != nil {
			http.Error(w, "failed", http.StatusInternalServerError)
		}
	})
	mux.Handle("/private", m.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("private:" + FromContext(r.Context()).UserID()))
	})))
	return mux
}

// do sends a request with the given cookie values (of the session cookie's
// name) and returns the recorder.
func (h *harness) do(method, target string, cookies ...string) *httptest.ResponseRecorder {
	h.t.Helper()
	r := httptest.NewRequest(method, target, nil)
	for _, c := range cookies {
		r.AddCookie(&http.Cookie{Name: h.m.cookie.Name, Value: c})
	}
	w := httptest.NewRecorder()
	h.app.ServeHTTP(w, r)
	return w
}

// login signs user in and returns the cookie value.
func (h *harness) login(user string, cookies ...string) string {
	h.t.Helper()
	w := h.do("POST", "/login?user="+user, cookies...)
	if w.Code != 200 {
		h.t.Fatalf("login %s: %d %s", user, w.Code, w.Body)
	}
	c := sessionCookie(h.t, w, h.m.cookie.Name)
	if c == nil || c.Value == "" {
		h.t.Fatalf("login %s set no cookie", user)
	}
	return c.Value
}

// sessionCookie returns the Set-Cookie of our name, or nil.
func sessionCookie(t *testing.T, w *httptest.ResponseRecorder, name string) *http.Cookie {
	t.Helper()
	var found *http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Name == name {
			if found != nil {
				t.Fatalf("two Set-Cookie headers for %s", name)
			}
			found = c
		}
	}
	return found
}

func (h *harness) whoami(cookies ...string) string {
	h.t.Helper()
	return h.do("GET", "/whoami", cookies...).Body.String()
}

func isExpiry(c *http.Cookie) bool { return c != nil && c.MaxAge < 0 && c.Value == "" }

func containsAny(s string, subs ...string) string {
	for _, sub := range subs {
		if sub != "" && strings.Contains(s, sub) {
			return sub
		}
	}
	return ""
}

func hexEncode(b []byte) string { return fmt.Sprintf("%x", b) }

func hexDecode(s string) ([]byte, error) { return hex.DecodeString(s) }

// slowRequest starts a request with cookie c through h.m.Middleware whose
// handler waits after the session was loaded, then runs fn. It returns a
// function that lets the handler go on and returns the response.
func slowRequest(t *testing.T, h *harness, c string, fn func(w http.ResponseWriter, r *http.Request)) (release func() *httptest.ResponseRecorder) {
	t.Helper()
	loaded, goOn := make(chan struct{}), make(chan struct{})
	app := h.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		FromContext(r.Context()).UserID() // the session is loaded before the revocation
		close(loaded)
		<-goOn
		fn(w, r)
	}))
	done := make(chan *httptest.ResponseRecorder)
	go func() {
		r := httptest.NewRequest("POST", "/", nil)
		r.AddCookie(&http.Cookie{Name: h.m.cookie.Name, Value: c})
		w := httptest.NewRecorder()
		app.ServeHTTP(w, r)
		done <- w
	}()
	<-loaded
	return func() *httptest.ResponseRecorder {
		close(goOn)
		return <-done
	}
}

// verifyBytes is signer.verify with the token as a slice, for tests.
func (s *signer) verifyBytes(v string) ([]byte, int, bool) {
	r, ok := s.verify(v)
	if !ok {
		if r != nil {
			panic("verify returned an entry for a value it refused")
		}
		return nil, -1, false
	}
	if r.storeKey != storeKey(r.token[:]) {
		panic("cached store key does not match the token")
	}
	return r.token[:], r.keyIndex, true
}

// hookStore wraps a Store and lets a test act around its calls. The hooks
// are set before the calls they watch start, and not changed meanwhile.
type hookStore struct {
	Store
	// before runs before every call (op is the method's name, key the store
	// key or user ID); a non-nil error is returned instead of calling.
	before    func(ctx context.Context, op, key string, rec Record) error
	afterList func(userID string) // runs after ListUser, before it returns
}

func (s *hookStore) hook(ctx context.Context, op, key string, rec Record) error {
	if s.before == nil {
		return nil
	}
	return s.before(ctx, op, key, rec)
}

func (s *hookStore) Get(ctx context.Context, key string) (Record, error) {
	if err := s.hook(ctx, "Get", key, Record{}); err != nil {
		return Record{}, err
	}
	return s.Store.Get(ctx, key)
}

func (s *hookStore) Create(ctx context.Context, key string, rec Record) error {
	if err := s.hook(ctx, "Create", key, rec); err != nil {
		return err
	}
	return s.Store.Create(ctx, key, rec)
}

func (s *hookStore) Update(ctx context.Context, key string, rec Record) error {
	if err := s.hook(ctx, "Update", key, rec); err != nil {
		return err
	}
	return s.Store.Update(ctx, key, rec)
}

func (s *hookStore) Touch(ctx context.Context, key string, exp time.Time) error {
	if err := s.hook(ctx, "Touch", key, Record{Expires: exp}); err != nil {
		return err
	}
	return s.Store.Touch(ctx, key, exp)
}

func (s *hookStore) Delete(ctx context.Context, key string) error {
	if err := s.hook(ctx, "Delete", key, Record{}); err != nil {
		return err
	}
	return s.Store.Delete(ctx, key)
}

func (s *hookStore) ListUser(ctx context.Context, userID string) ([]Entry, error) {
	if err := s.hook(ctx, "ListUser", userID, Record{}); err != nil {
		return nil, err
	}
	entries, err := s.Store.ListUser(ctx, userID)
	if s.afterList != nil {
		s.afterList(userID)
	}
	return entries, err
}

func (s *hookStore) DeleteUser(ctx context.Context, userID string) error {
	if err := s.hook(ctx, "DeleteUser", userID, Record{}); err != nil {
		return err
	}
	return s.Store.DeleteUser(ctx, userID)
}

// barrier lets n goroutines wait for each other, for at most 5 seconds.
type barrier struct {
	n       atomic.Int32
	all     chan struct{}
	parties int32
}

func newBarrier(n int32) *barrier { return &barrier{all: make(chan struct{}), parties: n} }

func (b *barrier) wait() {
	if b.n.Add(1) == b.parties {
		close(b.all)
	}
	select {
	case <-b.all:
	case <-time.After(5 * time.Second):
	}
}

// newHookHarness is a harness whose store is wrapped in a hookStore.
func newHookHarness(t *testing.T, mod func(*Config)) (*harness, *hookStore) {
	t.Helper()
	hs := &hookStore{}
	h := newHarness(t, func(c *Config) {
		hs.Store = c.Store
		c.Store = hs
		if mod != nil {
			mod(c)
		}
	})
	return h, hs
}

// newRedisTestStore is a RedisStore on a throwaway redis-server.
func newRedisTestStore(t *testing.T) *RedisStore {
	t.Helper()
	return NewRedisStore(redistest.New(t).Client(t), RedisConfig{KeyPrefix: redistest.Prefix()})
}

// mustToken returns the raw token of a signed value.
func mustToken(t *testing.T, h *harness, signed string) []byte {
	t.Helper()
	tok, _, ok := h.m.signer.verifyBytes(signed)
	if !ok {
		t.Fatal("value does not verify")
	}
	return tok
}

// testSealer is a cookie-only Manager's sealer.
func (m *Manager) testSealer() *sealer { return m.mode.(sealedBackend).sealer }
