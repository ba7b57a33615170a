package session

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// events collects what an observer was told.
type events struct {
	mu   sync.Mutex
	list []Event
}

func (e *events) observe(ev Event) {
	e.mu.Lock()
	e.list = append(e.list, ev)
	e.mu.Unlock()
}

// take returns the events since the last take, without store calls, as
// "name/reason".
func (e *events) take() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, ev := range e.list {
		if ev.Name != evStore {
			out = append(out, ev.Name+"/"+ev.Reason)
		}
	}
	e.list = nil
	return out
}

// stores returns the store calls since the last take, as "op" or "op:err".
func (e *events) stores() []Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Event
	for _, ev := range e.list {
		if ev.Name == evStore {
			out = append(out, ev)
		}
	}
	e.list = nil
	return out
}

func TestObserveReportsSignInsSignOutsAndRefusedTokens(t *testing.T) {
	t.Parallel()
	ev := &events{}
	h := newHarness(t, func(c *Config) { c.Observe = ev.observe })

	c := h.login("alice")
	if got, want := ev.take(), []string{"session.login/"}; !slices.Equal(got, want) {
		t.Fatalf("login reported %q, want %q", got, want)
	}
	h.do("GET", "/whoami", c)
	if got := ev.take(); len(got) != 0 {
		t.Fatalf("a signed-in read reported %q, want nothing", got)
	}
	h.do("GET", "/whoami", c[:len(c)-2]+"xx")
	if got, want := ev.take(), []string{"session.rejected/forged"}; !slices.Equal(got, want) {
		t.Fatalf("a forged cookie reported %q, want %q", got, want)
	}
	if w := h.do("POST", "/logout", c); w.Code != http.StatusNoContent {
		t.Fatalf("logout: %d", w.Code)
	}
	if got, want := ev.take(), []string{"session.logout/logout"}; !slices.Equal(got, want) {
		t.Fatalf("logout reported %q, want %q", got, want)
	}
	h.do("GET", "/whoami", c) // the dead token, known to be dead
	if got, want := ev.take(), []string{"session.rejected/ended"}; !slices.Equal(got, want) {
		t.Fatalf("a logged-out cookie reported %q, want %q", got, want)
	}
	h.do("POST", "/logout") // no session: not a sign-out
	if got := ev.take(); len(got) != 0 {
		t.Fatalf("an anonymous logout reported %q, want nothing", got)
	}

	ctx := context.Background()
	h.login("bob")
	ev.take()
	if err := h.m.LogoutAll(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	if got, want := ev.take(), []string{"session.logout/all"}; !slices.Equal(got, want) {
		t.Fatalf("LogoutAll reported %q, want %q", got, want)
	}
}

func TestObserveReportsEndedSessionsTheStoreNoLongerHas(t *testing.T) {
	t.Parallel()
	ev := &events{}
	h := newHarness(t, func(c *Config) { c.Observe = ev.observe })
	c := h.login("alice")
	h.clock.Advance(31 * time.Minute) // past the idle timeout
	ev.take()
	if got := h.whoami(c); got != "" {
		t.Fatalf("whoami after the idle timeout = %q", got)
	}
	if got, want := ev.take(), []string{"session.rejected/ended"}; !slices.Equal(got, want) {
		t.Fatalf("a timed-out session reported %q, want %q", got, want)
	}
}

// The signature's own maximum age (the longest lifetime and a minute) runs
// on securecookie's clock, time.Now: synctest's virtual time moves it.
func TestObserveTellsExpiredTokensFromForgedOnes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ev := &events{}
		ring, err := NewKeyRing(testKeyA)
		if err != nil {
			t.Fatal(err)
		}
		m, err := New(Config{Keys: ring, Observe: ev.observe, Lifetime: time.Hour, RememberMeLifetime: time.Hour, RememberMeIdleTimeout: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		value, err := m.signer.sign(make([]byte, tokenLen))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Hour + 2*time.Minute)
		r := httptest.NewRequest("GET", "/", nil)
		r.AddCookie(&http.Cookie{Name: m.cookie.Name, Value: value})
		m.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).ServeHTTP(httptest.NewRecorder(), r)
		if got, want := ev.take(), []string{"session.rejected/expired"}; !slices.Equal(got, want) {
			t.Fatalf("an expired signature reported %q, want %q", got, want)
		}
	})
}

func TestObserveCookieOnlyReportsForgedAndExpiredCookies(t *testing.T) {
	t.Parallel()
	ev := &events{}
	h := newHarness(t, func(c *Config) { c.Store, c.CookieOnly, c.Observe = nil, true, ev.observe })
	c := h.login("alice")
	ev.take()
	h.do("GET", "/whoami", c[:len(c)-2]+"xx")
	h.clock.Advance(13 * time.Hour) // past the lifetime
	h.do("GET", "/whoami", c)
	if got, want := ev.take(), []string{"session.rejected/forged", "session.rejected/expired"}; !slices.Equal(got, want) {
		t.Fatalf("cookie-only reported %q, want %q", got, want)
	}
}

func TestObserveReportsEveryStoreCallWithItsLatencyAndError(t *testing.T) {
	t.Parallel()
	ev := &events{}
	h := newHarness(t, func(c *Config) { c.Observe = ev.observe })
	c := h.login("alice")
	ev.take()
	h.do("GET", "/whoami", c)
	got := ev.stores()
	if len(got) != 1 || got[0].Reason != "get" || got[0].Err != nil || got[0].Duration <= 0 {
		t.Fatalf("a read reported %+v, want one successful get with a duration", got)
	}
	h.store.fail.Store(true)
	h.do("GET", "/whoami", c)
	got = ev.stores()
	if len(got) != 1 || got[0].Reason != "get" || !errors.Is(got[0].Err, errStoreDown) {
		t.Fatalf("a failing read reported %+v, want one get with the store's error", got)
	}
}

func TestObserveReportsTheBreakerOpeningAndClosing(t *testing.T) {
	t.Parallel()
	const timeout = 100 * time.Millisecond
	ev := &events{}
	stub := &stubStore{}
	s, g, clk := newTestGuard(t, stub, timeout, nil)
	g.observeWith(ev.observe)
	trip(t, s, stub, clk, timeout)
	if got, want := ev.take(), []string{"session.breaker/open"}; !slices.Equal(got, want) {
		t.Fatalf("tripping reported %q, want %q", got, want)
	}
	stub.set(nil)
	clk.Advance(guardCooldown)
	if _, err := s.Get(context.Background(), "k"); err != nil {
		t.Fatalf("probe: %v", err)
	}
	if got, want := ev.take(), []string{"session.breaker/closed"}; !slices.Equal(got, want) {
		t.Fatalf("a successful probe reported %q, want %q", got, want)
	}
}

func TestObserveNilCostsNothing(t *testing.T) {
	h := newHarness(t, nil)
	if _, ok := h.m.store.(*observedStore); ok {
		t.Fatal("without Observe the store is wrapped")
	}
	if _, ok := h.m.store.(*observedReplacer); ok {
		t.Fatal("without Observe the store is wrapped")
	}
	bad := "forged-value"
	if n := testing.AllocsPerRun(100, func() { h.m.rejectedSigned(bad); h.m.report(evLogin, "") }); n != 0 {
		t.Fatalf("reporting without an observer allocates %v times", n)
	}
}

func TestObserveLeavesAMemoryStoreUntimed(t *testing.T) {
	t.Parallel()
	ring, err := NewKeyRing(testKeyA)
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(Config{Keys: ring, Observe: (&events{}).observe})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.store.(*MemoryStore); !ok {
		t.Fatalf("a MemoryStore with Observe is wrapped in %T", m.store)
	}
}

// Observing the store hides neither the guard's health check nor its
// answer.
func TestObserveKeepsPing(t *testing.T) {
	t.Parallel()
	ev := &events{}
	h := newHarness(t, func(c *Config) { c.Observe = ev.observe })
	if _, ok := h.m.store.(*observedReplacer); !ok {
		t.Fatalf("the store is %T, want it observed", h.m.store)
	}
	if err := h.m.Ping(context.Background()); err != nil {
		t.Fatalf("Ping = %v", err)
	}
	h.store.fail.Store(true)
	if err := h.m.Ping(context.Background()); !errors.Is(err, ErrStoreUnavailable) || !errors.Is(err, errStoreDown) {
		t.Fatalf("Ping of a failing store = %v", err)
	}
}

// A partition's breaker (one dead Redis Cluster master) reports its
// opening and closing with the partition's name; the whole store's breaker
// stays closed and reports nothing.
func TestObserveReportsAPartitionsBreakerWithItsName(t *testing.T) {
	t.Parallel()
	const timeout = 100 * time.Millisecond
	ev := &events{}
	p := &partStub{stubStore: &stubStore{}, down: map[string]bool{"a": true}}
	s, g, clk := newTestGuard(t, p, timeout, nil)
	g.observeWith(ev.observe)
	for i := range 2 * guardTrips {
		if i%guardTrips == 0 {
			clk.Advance(timeout / 2)
		}
		s.Get(context.Background(), "a1")
		s.Get(context.Background(), "b1")
	}
	breakers := func() (out []string) {
		ev.mu.Lock()
		defer ev.mu.Unlock()
		for _, e := range ev.list {
			if e.Name == evBreaker {
				out = append(out, e.Reason+"@"+e.Partition)
			}
		}
		ev.list = nil
		return out
	}
	if got, want := breakers(), []string{"open@a"}; !slices.Equal(got, want) {
		t.Fatalf("a dead partition reported %q, want %q", got, want)
	}
	p.mu.Lock()
	p.down["a"] = false
	p.mu.Unlock()
	clk.Advance(guardCooldown)
	if _, err := s.Get(context.Background(), "a2"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("probe: %v", err)
	}
	if got, want := breakers(), []string{"closed@a"}; !slices.Equal(got, want) {
		t.Fatalf("the partition back reported %q, want %q", got, want)
	}
}
