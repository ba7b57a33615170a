package session

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
	"unsafe"

	"github.com/redis/go-redis/v9"

	"github.com/sessionauth/session/internal/redistest"
)

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// The call context reports its deadline and ends at it, by Err alone and
// by Done (which arms a timer), the same as context.WithTimeout would.
func TestCallDeadlineEndsAtTheDeadline(t *testing.T) {
	t.Parallel()
	for _, useDone := range []bool{false, true} {
		name := "Err"
		if useDone {
			name = "Done"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				ctx, c := withCallDeadline(context.Background(), time.Now(), time.Second)
				defer c.release()
				if d, ok := ctx.Deadline(); !ok || !d.Equal(time.Now().Add(time.Second)) {
					t.Fatalf("Deadline = %v, %v; want now+1s", d, ok)
				}
				var done <-chan struct{}
				if useDone {
					done = ctx.Done()
					if isClosed(done) {
						t.Fatal("Done closed before the deadline")
					}
				}
				if ctx.Err() != nil {
					t.Fatalf("Err = %v before the deadline", ctx.Err())
				}
				time.Sleep(time.Second - time.Nanosecond)
				if ctx.Err() != nil {
					t.Fatalf("Err = %v 1ns before the deadline", ctx.Err())
				}
				time.Sleep(time.Nanosecond)
				synctest.Wait()
				if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
					t.Fatalf("Err = %v at the deadline, want DeadlineExceeded", ctx.Err())
				}
				if useDone && !isClosed(done) {
					t.Fatal("Done open at the deadline")
				}
				if !useDone && c.armed.Load() != nil {
					t.Fatal("a timer was armed though nobody called Done")
				}
			})
		})
	}
}

// The caller's cancellation ends the call context at once, through Err and
// through Done, and so does a context derived from it.
func TestCallDeadlineKeepsCallerCancellation(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		parent, cancel := context.WithCancel(context.Background())
		ctx, c := withCallDeadline(parent, time.Now(), time.Hour)
		defer c.release()
		child, cancelChild := context.WithCancel(ctx)
		defer cancelChild()
		done := ctx.Done()
		cancel()
		synctest.Wait()
		if !errors.Is(ctx.Err(), context.Canceled) || !isClosed(done) {
			t.Fatalf("after the caller canceled: Err = %v, Done closed %v", ctx.Err(), isClosed(done))
		}
		if !errors.Is(child.Err(), context.Canceled) {
			t.Fatalf("derived context: Err = %v, want Canceled", child.Err())
		}
	})
}

// A derived context and context.AfterFunc see the guard's deadline.
func TestCallDeadlineReachesDerivedContexts(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ctx, c := withCallDeadline(context.Background(), time.Now(), time.Second)
		defer c.release()
		child, cancel := context.WithCancel(ctx)
		defer cancel()
		ran := make(chan struct{})
		context.AfterFunc(ctx, func() { close(ran) })
		time.Sleep(time.Second)
		synctest.Wait()
		if !errors.Is(child.Err(), context.DeadlineExceeded) {
			t.Fatalf("derived context: Err = %v, want DeadlineExceeded", child.Err())
		}
		if !isClosed(ran) {
			t.Fatal("AfterFunc did not run at the deadline")
		}
	})
}

// A caller deadline as soon as the guard's is kept: no call context.
func TestCallDeadlineKeepsASoonerCallerDeadline(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		parent, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		ctx, c := withCallDeadline(parent, time.Now(), 2*time.Second)
		if ctx != parent || c != nil {
			t.Fatalf("withCallDeadline replaced a sooner caller deadline (%T)", ctx)
		}
		c.release() // nil: a no-op
		ctx, c = withCallDeadline(parent, time.Now(), time.Second/2)
		defer c.release()
		if d, _ := ctx.Deadline(); !d.Equal(time.Now().Add(time.Second / 2)) {
			t.Fatalf("Deadline = %v, want the guard's, sooner than the caller's", d)
		}
	})
}

// After release the call context is canceled, whether or not a timer was
// armed, and an armed timer is stopped.
func TestCallDeadlineReleaseCancels(t *testing.T) {
	t.Parallel()
	for _, armFirst := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) {
			ctx, c := withCallDeadline(context.Background(), time.Now(), time.Hour)
			if armFirst {
				ctx.Done()
			}
			c.release()
			if !errors.Is(ctx.Err(), context.Canceled) || !isClosed(ctx.Done()) {
				t.Fatalf("armed first %v: after release Err = %v, Done closed %v", armFirst, ctx.Err(), isClosed(ctx.Done()))
			}
		})
	}
}

// The caller's context values pass through.
func TestCallDeadlineKeepsValues(t *testing.T) {
	t.Parallel()
	type key struct{}
	ctx, c := withCallDeadline(context.WithValue(context.Background(), key{}, "v"), time.Now(), time.Hour)
	defer c.release()
	if ctx.Value(key{}) != "v" {
		t.Fatal("value of the caller's context lost")
	}
}

// On a healthy store, a guarded call that only asks Err (as MemoryStore
// does) costs one allocation: no timer, no context.WithTimeout.
func TestStoreGuardHealthyCallAllocatesOnce(t *testing.T) {
	mem := NewMemoryStore()
	ctx := context.Background()
	if err := mem.Create(ctx, "k", Record{Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	s := newGuard(&stubStore{inner: mem}, time.Second, nil)
	inner := testing.AllocsPerRun(100, func() { mem.Get(ctx, "k") })
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := s.Get(ctx, "k"); err != nil {
			t.Fatal(err)
		}
	})
	if allocs-inner > 1 {
		t.Fatalf("guarded Get allocates %v times more than the store's own %v, want at most 1", allocs-inner, inner)
	}
}

// shiftWall moves the wall-clock part of t (which carries a monotonic
// reading) by d, leaving the monotonic reading: what a wall-clock step of -d
// after t was read looks like to monoTime.
func shiftWall(t *time.Time, d time.Duration) {
	p := (*struct {
		wall uint64
		ext  int64
		loc  *time.Location
	})(unsafe.Pointer(t))
	p.wall += uint64(d/time.Second) << 30
}

// A wall-clock step back after the process started (NTP correcting a clock
// set ahead at boot) must not stretch a store call past StoreTimeout:
// go-redis compares the call's deadline with a wall-clock time (it has no
// monotonic reading), so the deadline the guard reports must be the wall
// clock's now plus StoreTimeout, not one derived from the monotonic clock
// since the process started. The step is simulated by moving the wall part
// of monoEpoch, the monotonic clock's reference.
func TestStoreCallDeadlineFollowsTheWallClockAfterAStep(t *testing.T) {
	srv := redistest.New(t)
	o := srv.Options()
	o.ContextTimeoutEnabled, o.ReadTimeout, o.MaxRetries = true, 3*time.Second, -1
	store := NewRedisStore(redis.NewClient(o), RedisConfig{KeyPrefix: redistest.Prefix()})
	g := newGuard(store, 200*time.Millisecond, nil).(*guard)
	ctx := context.Background()
	if _, err := g.Get(ctx, "warm"); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	for _, step := range []time.Duration{0, 10 * time.Second} {
		saved := monoEpoch
		shiftWall(&monoEpoch, step)
		srv.Pause(t)
		start := time.Now()
		_, err := g.Get(ctx, "k")
		took := time.Since(start)
		srv.Resume(t)
		monoEpoch = saved
		g.breaker.failures.Store(0)
		t.Logf("wall step -%v: Get took %v (%v)", step, took.Round(time.Millisecond), err)
		if took > time.Second {
			t.Errorf("wall step -%v: store call ran %v, StoreTimeout is 200ms", step, took.Round(time.Millisecond))
		}
	}
}

// A StoreTimeout of math.MaxInt64 ("no practical limit") saturates: the
// call's deadline is far ahead, not overflowed into the past.
func TestHugeStoreTimeoutDoesNotOverflow(t *testing.T) {
	g := newGuard(&countingStore{Store: NewMemoryStore()}, time.Duration(math.MaxInt64), nil)
	if _, err := g.Get(context.Background(), "k"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get = %v, want ErrNotFound", err)
	}
}

type retainingStore struct {
	Store
	wg      sync.WaitGroup
	slot, n atomic.Int64
}

func (s *retainingStore) Get(ctx context.Context, key string) (Record, error) {
	s.n.Add(1)
	if _, ok := ctx.(*callContext); ok {
		s.slot.Add(1)
	}
	for range 4 {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			for range 50 {
				_ = ctx.Err()
				<-func() <-chan struct{} { d := ctx.Done(); return d }()
				stop := context.AfterFunc(ctx, func() {})
				stop()
				c, cancel := context.WithCancel(ctx)
				<-c.Done()
				cancel()
			}
		}()
	}
	_ = ctx.Done()
	return s.Store.Get(ctx, key)
}

// A store that keeps the call's context after returning and uses it from
// other goroutines (Err, Done, AfterFunc, derived contexts) while the guard
// releases it: race-free (run with -race), and the load's read is served
// on the Session's slot.
func TestStoreThatKeepsTheCallContextIsRaceFree(t *testing.T) {
	rs := &retainingStore{Store: NewMemoryStore()}
	ring, _ := NewKeyRing(testKeyA)
	m, err := New(Config{Store: rs, Keys: ring, StoreTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var cookie string
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/login" {
			if err := m.Login(w, r, "u"); err != nil {
				t.Error(err)
			}
			return
		}
		s := FromContext(r.Context())
		s.Set("k", "v")
		_ = s.UserID()
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/login", nil))
	cookie = w.Header().Get("Set-Cookie")
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				r := httptest.NewRequest("GET", "/", nil)
				r.Header.Set("Cookie", cookie)
				h.ServeHTTP(httptest.NewRecorder(), r)
			}
		}()
	}
	wg.Wait()
	rs.wg.Wait()
	if rs.slot.Load() == 0 {
		t.Errorf("%d gets, none on a callContext", rs.n.Load())
	}
}

// errNow answers as Err does (the caller's cancellation, the release, an
// armed timer, the deadline) and gives the time of its own clock reading,
// with a monotonic reading; none when the call started on a test's clock.
// errAt answers the same as of the reading it is given (at after the
// start), comparing the deadline with that reading instead of the clock.
func TestCallContextErrNowAndErrAtAgreeWithErr(t *testing.T) {
	t.Parallel()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name      string
		ctx       context.Context
		testClock bool
		timeout   time.Duration
		setup     func(*callContext)
		at        time.Duration // errAt's reading, after the start
		want      error         // errNow's
		wantAt    error         // errAt's
	}{
		{name: "live", ctx: context.Background(), timeout: time.Minute},
		{name: "saturated", ctx: context.Background(), timeout: time.Duration(math.MaxInt64)},
		{name: "test clock", ctx: context.Background(), testClock: true, timeout: time.Minute},
		{name: "a reading just before the deadline", ctx: context.Background(), timeout: time.Minute, at: time.Minute - 1},
		{name: "a reading at the deadline", ctx: context.Background(), timeout: time.Minute, at: time.Minute, wantAt: context.DeadlineExceeded},
		{name: "caller canceled", ctx: canceled, timeout: time.Minute, want: context.Canceled, wantAt: context.Canceled},
		{name: "released", ctx: context.Background(), timeout: time.Minute, setup: (*callContext).release, want: context.Canceled, wantAt: context.Canceled},
		{name: "deadline passed, not armed", ctx: context.Background(), timeout: time.Millisecond, setup: func(*callContext) { time.Sleep(5 * time.Millisecond) }, want: context.DeadlineExceeded},
		{name: "deadline passed, armed", ctx: context.Background(), timeout: time.Millisecond, setup: func(c *callContext) { <-c.Done() }, want: context.DeadlineExceeded, wantAt: context.DeadlineExceeded},
		{name: "armed", ctx: context.Background(), timeout: time.Minute, setup: func(c *callContext) { c.Done() }},
		{name: "armed, released", ctx: context.Background(), timeout: time.Minute, setup: func(c *callContext) { c.Done(); c.release() }, want: context.Canceled, wantAt: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			if tt.testClock {
				start = start.Round(0)
			}
			c := &callContext{}
			withCallDeadlineIn(c, tt.ctx, start, tt.timeout)
			defer c.release()
			if tt.setup != nil {
				tt.setup(c)
			}
			before := time.Now()
			at, err := c.errNow()
			after := time.Now()
			if err != tt.want {
				t.Fatalf("errNow = %v, want %v", err, tt.want)
			}
			if !tt.testClock { // errAt needs a monotonic reading
				if err := c.errAt(start.Add(tt.at)); err != tt.wantAt {
					t.Fatalf("errAt = %v, want %v", err, tt.wantAt)
				}
			}
			switch {
			case err != nil:
			case tt.testClock:
				if !at.IsZero() {
					t.Fatalf("errNow's time = %v on a test's clock, want zero", at)
				}
			case at == at.Round(0):
				t.Fatalf("errNow's time %v has no monotonic reading", at)
			case at.Before(before) || at.After(after):
				t.Fatalf("errNow's time %v, want between %v and %v", at, before, after)
			}
		})
	}
}

// slowWrapper waits before it hands a Get to the store it wraps (a lock,
// a log write, a fault hook).
type slowWrapper struct {
	Store
	delay time.Duration
}

func (s slowWrapper) Get(ctx context.Context, key string) (Record, error) {
	time.Sleep(s.delay)
	return s.Store.Get(ctx, key)
}

// A MemoryStore behind a wrapper that waits past StoreTimeout answers the
// deadline, and judges expiry at the time it reads, not at the call's
// start.
func TestWrappedMemoryStoreAnswersTheDeadlineAfterASlowWrapper(t *testing.T) {
	t.Parallel()
	mem := NewMemoryStore()
	ctx := context.Background()
	if err := mem.Create(ctx, "k", Record{UserID: "u", Expires: time.Now().Add(30 * time.Millisecond)}); err != nil {
		t.Fatal(err)
	}
	late := newGuard(slowWrapper{Store: mem, delay: 100 * time.Millisecond}, 50*time.Millisecond, nil).(*guard)
	if _, err := late.getAt(ctx, "k", time.Now(), nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a read after the deadline: err = %v, want context.DeadlineExceeded", err)
	}
	if err := mem.Create(ctx, "j", Record{UserID: "u", Expires: time.Now().Add(30 * time.Millisecond)}); err != nil {
		t.Fatal(err)
	}
	slow := newGuard(slowWrapper{Store: mem, delay: 60 * time.Millisecond}, time.Second, nil).(*guard)
	if _, err := slow.getAt(ctx, "j", time.Now(), nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a record that expired while the wrapper waited: err = %v, want ErrNotFound", err)
	}
}

// A wrapped MemoryStore compares expiries on the monotonic clock, as a bare
// one does: a wall-clock step forward does not end a live session.
func TestWrappedMemoryStoreComparesExpiryOnTheMonotonicClock(t *testing.T) {
	t.Parallel()
	mem := NewMemoryStore()
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	shiftWall(&exp, -2*time.Hour) // the wall clock has stepped 2h ahead since exp was computed
	if err := mem.Create(ctx, "k", Record{UserID: "u", Expires: exp}); err != nil {
		t.Fatal(err)
	}
	g := newGuard(&countingStore{Store: mem}, time.Minute, nil).(*guard)
	if _, err := g.getAt(ctx, "k", time.Now(), nil); err != nil {
		t.Fatalf("wrapped MemoryStore after a wall-clock step: %v", err)
	}
	if _, err := mem.getAt(ctx, "k", time.Now(), nil); err != nil {
		t.Fatalf("bare MemoryStore after a wall-clock step: %v", err)
	}
}

// A MemoryStore behind a wrapper (the guard's context, no reading from the
// Manager) still ends records at their expiry, and still answers the
// guard's deadline and the caller's cancellation.
func TestWrappedMemoryStoreKeepsExpiryAndCancellation(t *testing.T) {
	t.Parallel()
	mem := NewMemoryStore()
	g := newGuard(&countingStore{Store: mem}, time.Minute, nil).(*guard)
	ctx := context.Background()
	now := time.Now()
	for key, expires := range map[string]time.Time{"live": now.Add(time.Hour), "ended": now.Add(-time.Millisecond), "soon": now.Add(30 * time.Millisecond)} {
		if err := mem.Create(ctx, key, Record{UserID: "u", Expires: expires}); err != nil && key != "ended" {
			t.Fatal(err)
		}
	}
	if _, err := g.getAt(ctx, "live", time.Now(), nil); err != nil {
		t.Fatalf("live record: %v", err)
	}
	for _, key := range []string{"ended", "missing"} {
		if _, err := g.getAt(ctx, key, time.Now(), nil); !errors.Is(err, ErrNotFound) {
			t.Fatalf("%s record: err = %v, want ErrNotFound", key, err)
		}
	}
	time.Sleep(40 * time.Millisecond)
	if _, err := g.getAt(ctx, "soon", time.Now(), nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("record past its expiry: err = %v, want ErrNotFound", err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := g.getAt(canceled, "live", time.Now(), nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled caller: err = %v, want context.Canceled", err)
	}
}

// An app that tests itself inside a testing/synctest bubble, with a
// MemoryStore behind a wrapper, sees sessions end on the bubble's clock.
func TestWrappedMemoryStoreFollowsASynctestClock(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ring, _ := NewKeyRing(testKeyA)
		m, err := New(Config{Store: &countingStore{Store: NewMemoryStore()}, Keys: ring, IdleTimeout: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/login" {
				if err := m.Login(w, r, "u"); err != nil {
					t.Error(err)
				}
				return
			}
			w.Write([]byte(FromContext(r.Context()).UserID()))
		}))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("POST", "/login", nil))
		cookie := w.Result().Cookies()[0]
		who := func() string {
			r := httptest.NewRequest("GET", "/", nil)
			r.AddCookie(cookie)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			return w.Body.String()
		}
		time.Sleep(30 * time.Minute)
		if got := who(); got != "u" {
			t.Fatalf("after 30 idle minutes: user %q, want u", got)
		}
		time.Sleep(2 * time.Hour)
		if got := who(); got != "" {
			t.Fatalf("after 2 idle hours (IdleTimeout 1h): user %q, want none", got)
		}
	})
}
