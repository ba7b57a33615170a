package storetest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sessionauth/session"
	"github.com/sessionauth/session/storetest"
)

// A store seen through WithFaults with no faults set passes the whole suite,
// Replace cases included when the inner store has them.
func TestWithFaultsPassesConformanceWhenHealthy(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) session.Store {
		s, _ := storetest.WithFaults(session.NewMemoryStore())
		return s
	})
}

func TestWithFaultsKeepsReplacerOnlyWhenTheStoreHasIt(t *testing.T) {
	t.Parallel()
	plain, _ := storetest.WithFaults(struct{ session.Store }{session.NewMemoryStore()})
	if _, ok := plain.(session.Replacer); ok {
		t.Fatal("a store without Replace gained it through WithFaults")
	}
	withReplace, _ := storetest.WithFaults(session.NewMemoryStore())
	if _, ok := withReplace.(session.Replacer); !ok {
		t.Fatal("a store with Replace lost it through WithFaults")
	}
}

func TestFaultsFailHangHookAndCount(t *testing.T) {
	t.Parallel()
	s, f := storetest.WithFaults(session.NewMemoryStore())
	ctx := context.Background()
	key := storetest.NewKey()
	rec := session.Record{Expires: time.Now().Add(time.Hour)}
	if err := s.Create(ctx, key, rec); err != nil {
		t.Fatal(err)
	}

	f.Fail(nil, "Get")
	if _, err := s.Get(ctx, key); !errors.Is(err, storetest.ErrInjected) {
		t.Fatalf("Get with Get failing = %v, want ErrInjected", err)
	}
	if err := s.Touch(ctx, key, rec.Expires); err != nil {
		t.Fatalf("Touch while only Get fails = %v", err)
	}
	down := errors.New("down")
	f.Fail(down)
	if err := s.Delete(ctx, key); !errors.Is(err, down) {
		t.Fatalf("Delete with every op failing = %v, want the given error", err)
	}
	f.Heal()

	f.Hang("Get")
	hctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := s.Get(hctx, key); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hung Get = %v, want the context's deadline", err)
	}
	f.Heal()

	var seen []string
	f.SetHook(func(_ context.Context, op string, k string) error {
		if k == key {
			seen = append(seen, op)
		}
		return nil
	})
	if _, err := s.Get(ctx, key); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || seen[0] != "Get" {
		t.Fatalf("hook saw %v, want [Get]", seen)
	}
	f.Heal()

	if got := f.Calls("Get"); got != 3 {
		t.Fatalf("Calls(Get) = %d, want 3", got)
	}
	if got := f.Calls(); got != 6 {
		t.Fatalf("Calls() = %d, want 6", got)
	}
}

// TestFaultsRefuseUnknownOperations checks that a misspelt operation name
// panics instead of injecting nothing.
func TestFaultsRefuseUnknownOperations(t *testing.T) {
	t.Parallel()
	_, f := storetest.WithFaults(session.NewMemoryStore())
	for name, call := range map[string]func(){
		"Fail":  func() { f.Fail(nil, "get") },
		"Hang":  func() { f.Hang("Lookup") },
		"Calls": func() { f.Calls("CreateCounting") },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s with an unknown operation did not panic", name)
				}
			}()
			call()
		}()
	}
}
