package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sessionauth/session"
)

// replaceTests are the cases of session.Replacer. They take a testing.TB so
// that the package's own tests can run them against stores that break the
// contract and see them fail.
var replaceTests = []struct {
	name string
	fn   func(t testing.TB, s session.Store)
}{
	{"ReplaceMovesRecordAndIndex", testReplace},
	{"ReplaceOntoLiveKeyFails", testReplaceOntoLiveKey},
	{"ReplaceKeepsTheNewestLimit", testReplaceKeepsNewest},
	{"ReplaceConcurrentStaysWithinLimit", testReplaceConcurrent},
}

func replacer(t testing.TB, s session.Store) session.Replacer {
	r, ok := s.(session.Replacer)
	if !ok {
		t.Skip("the store does not implement session.Replacer")
	}
	return r
}

// Replace behaves as Delete(oldKey) then Create(newKey): the old record and
// its index entry are gone, the new one is live and listed.
func testReplace(t testing.TB, s session.Store) {
	r := replacer(t, s)
	user := newUser("replace")
	oldKey, newKey := NewKey(), NewKey()
	mustCreate(t, s, oldKey, session.Record{UserID: user, Expires: later(time.Hour), Data: []byte("old")})
	rec := session.Record{UserID: user, Expires: later(time.Hour), Data: []byte("new")}
	if err := r.Replace(ctx(t), oldKey, newKey, rec, 5); err != nil {
		t.Fatalf("Replace: %v", err)
	}
	wantNotFound(t, s, oldKey)
	if got := mustGet(t, s, newKey); !bytes.Equal(got.Data, rec.Data) || got.UserID != user || !sameTime(got.Expires, rec.Expires) {
		t.Fatalf("Get after Replace = %+v, want %+v", got, rec)
	}
	entries, err := s.ListUser(ctx(t), user)
	if err != nil {
		t.Fatal(err)
	}
	if keys := keysOf(entries); len(keys) != 1 || keys[0] != newKey {
		t.Fatalf("ListUser after Replace = %v, want only the new key", keys)
	}
}

// Replace onto a live key fails with ErrExists and leaves that record as it
// was, as Create would.
func testReplaceOntoLiveKey(t testing.TB, s session.Store) {
	r := replacer(t, s)
	user := newUser("taken")
	oldKey, taken := NewKey(), NewKey()
	mustCreate(t, s, oldKey, session.Record{UserID: user, Expires: later(time.Hour), Data: []byte("old")})
	mustCreate(t, s, taken, session.Record{UserID: user, Expires: later(time.Hour), Data: []byte("taken")})
	err := r.Replace(ctx(t), oldKey, taken, session.Record{UserID: user, Expires: later(time.Hour), Data: []byte("new")}, 1)
	if !errors.Is(err, session.ErrExists) {
		t.Fatalf("Replace onto a live key = %v, want ErrExists", err)
	}
	if got := mustGet(t, s, taken); string(got.Data) != "taken" {
		t.Fatalf("the live record was overwritten: %q", got.Data)
	}
}

// Replace with a limit keeps exactly the newest limit live sessions of the
// user, the new one included, in creation order: deleted sessions do not
// count, the old key goes first, the ended ones are gone from Get and
// ListUser, and the kept ones are all listed. Anonymous records and a
// limit of 0 end nothing.
func testReplaceKeepsNewest(t testing.TB, s session.Store) {
	r := replacer(t, s)
	user := newUser("cap")
	keys := make([]string, 6)
	for i := range keys {
		keys[i] = NewKey()
		if err := r.Replace(ctx(t), "", keys[i], session.Record{UserID: user, Expires: later(time.Hour), Data: []byte{byte(i)}}, 0); err != nil {
			t.Fatalf("Replace %d with no limit: %v", i, err)
		}
	}
	anon := NewKey()
	if err := r.Replace(ctx(t), "", anon, session.Record{Expires: later(time.Hour)}, 1); err != nil {
		t.Fatalf("anonymous Replace: %v", err)
	}
	if list, err := s.ListUser(ctx(t), user); err != nil || len(list) != 6 {
		t.Fatalf("after 6 Replace calls with limit 0 and an anonymous one, ListUser = %d entries, %v; want 6", len(list), err)
	}
	if err := s.Delete(ctx(t), keys[4]); err != nil {
		t.Fatal(err)
	}
	newKey := NewKey()
	// Live before the cap: 0, 2, 3, 5 and the new one (1 is replaced, 4
	// deleted). The newest 3 are the new one, 5 and 3.
	if err := r.Replace(ctx(t), keys[1], newKey, session.Record{UserID: user, Expires: later(time.Hour), Data: []byte("new")}, 3); err != nil {
		t.Fatalf("Replace with limit 3: %v", err)
	}
	want := []string{newKey, keys[5], keys[3]}
	for _, k := range want {
		mustGet(t, s, k)
	}
	for _, i := range []int{0, 1, 2, 4} {
		if rec, err := s.Get(ctx(t), keys[i]); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("session %d of 6 after Replace with limit 3 = %+v, %v; want ErrNotFound (keep the newest 3 live, deleted ones not counted)", i, rec, err)
		}
	}
	mustGet(t, s, anon)
	list, err := s.ListUser(ctx(t), user)
	if err != nil {
		t.Fatal(err)
	}
	got, w := keysOf(list), slices.Clone(want)
	slices.Sort(w)
	if fmt.Sprint(got) != fmt.Sprint(w) {
		t.Fatalf("ListUser after Replace with limit 3 = %v, want %v", got, w)
	}
}

// Concurrent Replace calls for one user, some replacing their own previous
// session, never leave more than limit live sessions, and every live one is
// listed by ListUser.
func testReplaceConcurrent(t testing.TB, s session.Store) {
	r := replacer(t, s)
	const (
		limit      = 5
		goroutines = 8
		rounds     = 50
	)
	user := newUser("race")
	c := ctx(t)
	var (
		mu      sync.Mutex
		created []string
		wg      sync.WaitGroup
	)
	for g := range goroutines {
		wg.Go(func() {
			prev := ""
			for i := range rounds {
				if c.Err() != nil {
					return
				}
				key := NewKey()
				old := ""
				if i%3 == 0 {
					old = prev
				}
				rec := session.Record{UserID: user, Expires: later(time.Hour), Data: []byte{byte(g), byte(i)}}
				if err := r.Replace(c, old, key, rec, limit); err != nil {
					t.Errorf("Replace: %v", err)
					return
				}
				mu.Lock()
				created = append(created, key)
				mu.Unlock()
				prev = key
			}
		})
	}
	wg.Wait()
	if c.Err() != nil {
		t.Fatalf("%d concurrent Replace calls did not finish within 10s", goroutines*rounds)
	}
	var live []string
	for _, k := range created {
		switch _, err := s.Get(c, k); {
		case err == nil:
			live = append(live, k)
		case !errors.Is(err, session.ErrNotFound):
			t.Fatalf("Get: %v", err)
		}
	}
	list, err := s.ListUser(c, user)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(live)
	if got := keysOf(list); len(live) > limit || fmt.Sprint(got) != fmt.Sprint(live) {
		t.Fatalf("after %d concurrent Replace calls with limit %d: %d live sessions, ListUser lists %d (%d of them live); want at most %d, all listed",
			goroutines*rounds, limit, len(live), len(got), countIn(got, live), limit)
	}
	if len(live) == 0 {
		t.Fatal("no session survived the concurrent Replace calls")
	}
}

func countIn(keys, in []string) int {
	n := 0
	for _, k := range keys {
		if slices.Contains(in, k) {
			n++
		}
	}
	return n
}
