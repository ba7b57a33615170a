package session

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
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
				ctx, c := withCallDeadline(context.Background(), monoNow(), time.Second)
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
		ctx, c := withCallDeadline(parent, monoNow(), time.Hour)
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
		ctx, c := withCallDeadline(context.Background(), monoNow(), time.Second)
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
		ctx, c := withCallDeadline(parent, monoNow(), 2*time.Second)
		if ctx != parent || c != nil {
			t.Fatalf("withCallDeadline replaced a sooner caller deadline (%T)", ctx)
		}
		c.release() // nil: a no-op
		ctx, c = withCallDeadline(parent, monoNow(), time.Second/2)
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
			ctx, c := withCallDeadline(context.Background(), monoNow(), time.Hour)
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
	ctx, c := withCallDeadline(context.WithValue(context.Background(), key{}, "v"), monoNow(), time.Hour)
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
