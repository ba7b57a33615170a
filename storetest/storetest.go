// Package storetest is the conformance suite for session.Store
// implementations. Every store in this repository passes it; authors of other
// stores call it from a test of their own:
//
//	func TestMyStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) session.Store { return newMyStore(t) })
//	}
//
// newStore is called once per subtest and must return an empty store (or one
// whose keys cannot collide with other subtests'). The suite uses real time
// with expiries of a second and a half, so it takes about three seconds.
package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/sessionauth/session"
)

// Run runs the whole suite against stores made by newStore. The Replace
// cases, among them the per-user cap (MaxSessionsPerUser) under concurrent
// Replace calls, run when the store implements session.Replacer and are
// skipped otherwise.
func Run(t *testing.T, newStore func(t *testing.T) session.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s session.Store)
	}{
		{"GetMissing", testGetMissing},
		{"CreateGet", testCreateGet},
		{"CreateExisting", testCreateExisting},
		{"CreateCopiesData", testCreateCopiesData},
		{"UpdateExisting", testUpdateExisting},
		{"UpdateMissingDoesNotCreate", testUpdateMissing},
		{"UpdateAfterDeleteDoesNotResurrect", testUpdateAfterDelete},
		{"TouchExisting", testTouchExisting},
		{"TouchMissingDoesNotCreate", testTouchMissing},
		{"DeleteIdempotent", testDeleteIdempotent},
		{"Expiry", testExpiry},
		{"TouchExtendsLife", testTouchExtendsLife},
		{"ListUser", testListUser},
		{"ListUserSkipsDeletedAndExpired", testListUserSkipsDeletedAndExpired},
		{"DeleteUser", testDeleteUser},
		{"DeleteUserConcurrentCreate", testDeleteUserConcurrentCreate},
		{"AnonymousNotIndexed", testAnonymousNotIndexed},
		{"CanceledContext", testCanceledContext},
		{"ConcurrentUse", testConcurrentUse},
	}
	for _, tc := range replaceTests {
		tests = append(tests, struct {
			name string
			fn   func(t *testing.T, s session.Store)
		}{tc.name, func(t *testing.T, s session.Store) { tc.fn(t, s) }})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

// NewKey returns a random key in the form the Manager uses (hex SHA-256).
func NewKey() string {
	var tok [32]byte
	rand.Read(tok[:])
	sum := sha256.Sum256(tok[:])
	return hex.EncodeToString(sum[:])
}

// newUser returns a user ID that no other subtest uses, so that stores shared
// between subtests still give exact answers.
func newUser(name string) string {
	return name + "-" + NewKey()[:12]
}

// shortLife is the lifetime of records the suite waits to see expire: long
// enough that a store on a loaded machine answers well within it.
const shortLife = 1500 * time.Millisecond

func later(d time.Duration) time.Time { return time.Now().Add(d).Truncate(time.Millisecond) }

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func mustCreate(t testing.TB, s session.Store, key string, rec session.Record) {
	t.Helper()
	if err := s.Create(ctx(t), key, rec); err != nil {
		t.Fatalf("Create: %v", err)
	}
}

func mustGet(t testing.TB, s session.Store, key string) session.Record {
	t.Helper()
	rec, err := s.Get(ctx(t), key)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return rec
}

func wantNotFound(t testing.TB, s session.Store, key string) {
	t.Helper()
	if rec, err := s.Get(ctx(t), key); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Get = %+v, %v; want ErrNotFound", rec, err)
	}
}

func sameTime(a, b time.Time) bool {
	d := a.Sub(b)
	return d > -time.Millisecond && d < time.Millisecond
}

func testGetMissing(t *testing.T, s session.Store) {
	wantNotFound(t, s, NewKey())
}

func testCreateGet(t *testing.T, s session.Store) {
	key, user := NewKey(), newUser("alice")
	want := session.Record{UserID: user, Expires: later(time.Hour), Data: []byte("hello\x00world")}
	mustCreate(t, s, key, want)
	got := mustGet(t, s, key)
	if got.UserID != want.UserID || !bytes.Equal(got.Data, want.Data) || !sameTime(got.Expires, want.Expires) {
		t.Fatalf("Get = %+v, want %+v", got, want)
	}
}

func testCreateExisting(t *testing.T, s session.Store) {
	key := NewKey()
	mustCreate(t, s, key, session.Record{UserID: newUser("a"), Expires: later(time.Hour), Data: []byte("first")})
	err := s.Create(ctx(t), key, session.Record{UserID: newUser("b"), Expires: later(time.Hour), Data: []byte("second")})
	if !errors.Is(err, session.ErrExists) {
		t.Fatalf("second Create = %v, want ErrExists", err)
	}
	if got := mustGet(t, s, key); string(got.Data) != "first" {
		t.Fatalf("Create overwrote an existing record: %q", got.Data)
	}
}

func testCreateCopiesData(t *testing.T, s session.Store) {
	key := NewKey()
	data := []byte("original")
	mustCreate(t, s, key, session.Record{Expires: later(time.Hour), Data: data})
	copy(data, "XXXXXXXX")
	if got := mustGet(t, s, key); string(got.Data) != "original" {
		t.Fatalf("store kept a reference to the caller's slice: %q", got.Data)
	}
}

func testUpdateExisting(t *testing.T, s session.Store) {
	key, user := NewKey(), newUser("u")
	mustCreate(t, s, key, session.Record{UserID: user, Expires: later(time.Hour), Data: []byte("v1")})
	exp := later(2 * time.Hour)
	if err := s.Update(ctx(t), key, session.Record{UserID: user, Expires: exp, Data: []byte("v2")}); err != nil {
		t.Fatalf("Update: %v", err)
	}
	got := mustGet(t, s, key)
	if string(got.Data) != "v2" || !sameTime(got.Expires, exp) || got.UserID != user {
		t.Fatalf("after Update: %+v", got)
	}
}

func testUpdateMissing(t *testing.T, s session.Store) {
	key := NewKey()
	err := s.Update(ctx(t), key, session.Record{Expires: later(time.Hour), Data: []byte("x")})
	if !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Update of a missing key = %v, want ErrNotFound", err)
	}
	wantNotFound(t, s, key)
}

func testUpdateAfterDelete(t *testing.T, s session.Store) {
	key, user := NewKey(), newUser("u")
	mustCreate(t, s, key, session.Record{UserID: user, Expires: later(time.Hour), Data: []byte("v1")})
	if err := s.Delete(ctx(t), key); err != nil {
		t.Fatal(err)
	}
	err := s.Update(ctx(t), key, session.Record{UserID: user, Expires: later(time.Hour), Data: []byte("v2")})
	if !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Update after Delete = %v, want ErrNotFound", err)
	}
	wantNotFound(t, s, key)
	if list, err := s.ListUser(ctx(t), user); err != nil || len(list) != 0 {
		t.Fatalf("ListUser after Delete+Update = %v, %v; want empty", list, err)
	}
}

func testTouchExisting(t *testing.T, s session.Store) {
	key := NewKey()
	mustCreate(t, s, key, session.Record{Expires: later(time.Hour), Data: []byte("keep")})
	exp := later(3 * time.Hour)
	if err := s.Touch(ctx(t), key, exp); err != nil {
		t.Fatalf("Touch: %v", err)
	}
	got := mustGet(t, s, key)
	if string(got.Data) != "keep" || !sameTime(got.Expires, exp) {
		t.Fatalf("after Touch: %+v", got)
	}
}

func testTouchMissing(t *testing.T, s session.Store) {
	key := NewKey()
	if err := s.Touch(ctx(t), key, later(time.Hour)); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Touch of a missing key = %v, want ErrNotFound", err)
	}
	wantNotFound(t, s, key)
}

func testDeleteIdempotent(t *testing.T, s session.Store) {
	key := NewKey()
	mustCreate(t, s, key, session.Record{Expires: later(time.Hour)})
	for i := range 2 {
		if err := s.Delete(ctx(t), key); err != nil {
			t.Fatalf("Delete #%d: %v", i+1, err)
		}
	}
	wantNotFound(t, s, key)
	if err := s.Delete(ctx(t), NewKey()); err != nil {
		t.Fatalf("Delete of a never-seen key: %v", err)
	}
}

func testExpiry(t *testing.T, s session.Store) {
	key, user := NewKey(), newUser("exp")
	mustCreate(t, s, key, session.Record{UserID: user, Expires: later(shortLife), Data: []byte("x")})
	mustGet(t, s, key)
	time.Sleep(shortLife + 500*time.Millisecond)
	wantNotFound(t, s, key)
	if err := s.Touch(ctx(t), key, later(time.Hour)); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Touch of an expired record = %v, want ErrNotFound", err)
	}
	if err := s.Update(ctx(t), key, session.Record{UserID: user, Expires: later(time.Hour)}); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Update of an expired record = %v, want ErrNotFound", err)
	}
	wantNotFound(t, s, key)
	if list, err := s.ListUser(ctx(t), user); err != nil || len(list) != 0 {
		t.Fatalf("ListUser lists an expired record: %v, %v", list, err)
	}
	// The key of an expired record can be created again.
	mustCreate(t, s, key, session.Record{UserID: user, Expires: later(time.Hour)})
}

func testTouchExtendsLife(t *testing.T, s session.Store) {
	key := NewKey()
	mustCreate(t, s, key, session.Record{Expires: later(shortLife)})
	if err := s.Touch(ctx(t), key, later(time.Hour)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(shortLife + 500*time.Millisecond)
	mustGet(t, s, key)
}

func keysOf(entries []session.Entry) []string {
	keys := make([]string, 0, len(entries))
	for _, e := range entries {
		keys = append(keys, e.Key)
	}
	sort.Strings(keys)
	return keys
}

func testListUser(t *testing.T, s session.Store) {
	alice, bob := newUser("alice"), newUser("bob")
	var want []string
	for i := range 3 {
		k := NewKey()
		want = append(want, k)
		mustCreate(t, s, k, session.Record{UserID: alice, Expires: later(time.Hour), Data: []byte(fmt.Sprint(i))})
	}
	mustCreate(t, s, NewKey(), session.Record{UserID: bob, Expires: later(time.Hour)})
	list, err := s.ListUser(ctx(t), alice)
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(want)
	if got := keysOf(list); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("ListUser keys = %v, want %v", got, want)
	}
	for _, e := range list {
		if e.UserID != alice || len(e.Data) != 1 || e.Expires.IsZero() {
			t.Fatalf("ListUser entry %+v", e)
		}
	}
	if list, err := s.ListUser(ctx(t), newUser("nobody")); err != nil || len(list) != 0 {
		t.Fatalf("ListUser of an unknown user = %v, %v", list, err)
	}
}

func testListUserSkipsDeletedAndExpired(t *testing.T, s session.Store) {
	user := newUser("carol")
	live, gone, short := NewKey(), NewKey(), NewKey()
	mustCreate(t, s, live, session.Record{UserID: user, Expires: later(time.Hour)})
	mustCreate(t, s, gone, session.Record{UserID: user, Expires: later(time.Hour)})
	mustCreate(t, s, short, session.Record{UserID: user, Expires: later(shortLife)})
	if err := s.Delete(ctx(t), gone); err != nil {
		t.Fatal(err)
	}
	time.Sleep(shortLife + 500*time.Millisecond)
	list, err := s.ListUser(ctx(t), user)
	if err != nil {
		t.Fatal(err)
	}
	if got := keysOf(list); len(got) != 1 || got[0] != live {
		t.Fatalf("ListUser = %v, want only the live key", got)
	}
}

func testDeleteUser(t *testing.T, s session.Store) {
	alice, bob := newUser("alice"), newUser("bob")
	var aliceKeys []string
	for range 5 {
		k := NewKey()
		aliceKeys = append(aliceKeys, k)
		mustCreate(t, s, k, session.Record{UserID: alice, Expires: later(time.Hour)})
	}
	bobKey, anonKey := NewKey(), NewKey()
	mustCreate(t, s, bobKey, session.Record{UserID: bob, Expires: later(time.Hour)})
	mustCreate(t, s, anonKey, session.Record{Expires: later(time.Hour)})
	if err := s.DeleteUser(ctx(t), alice); err != nil {
		t.Fatal(err)
	}
	for _, k := range aliceKeys {
		wantNotFound(t, s, k)
	}
	mustGet(t, s, bobKey)
	mustGet(t, s, anonKey)
	if list, _ := s.ListUser(ctx(t), alice); len(list) != 0 {
		t.Fatalf("ListUser after DeleteUser = %v", keysOf(list))
	}
	if list, _ := s.ListUser(ctx(t), bob); len(list) != 1 {
		t.Fatalf("DeleteUser touched another user: %v", keysOf(list))
	}
	if err := s.DeleteUser(ctx(t), newUser("nobody")); err != nil {
		t.Fatalf("DeleteUser of an unknown user: %v", err)
	}
}

// testDeleteUserConcurrentCreate checks that a Create that returned before
// DeleteUser returned never leaves a live record behind it.
func testDeleteUserConcurrentCreate(t *testing.T, s session.Store) {
	user := newUser("race")
	for round := range 20 {
		const n = 8
		keys := make([]string, n)
		done := make([]time.Time, n)
		var wg sync.WaitGroup
		for i := range n {
			keys[i] = NewKey()
			wg.Go(func() {
				if err := s.Create(ctx(t), keys[i], session.Record{UserID: user, Expires: later(time.Hour)}); err != nil {
					t.Errorf("Create: %v", err)
				}
				done[i] = time.Now()
			})
		}
		started := time.Now()
		if err := s.DeleteUser(ctx(t), user); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		for i, k := range keys {
			if done[i].Before(started) {
				if _, err := s.Get(ctx(t), k); !errors.Is(err, session.ErrNotFound) {
					t.Fatalf("round %d: a record created before DeleteUser started survived it (%v)", round, err)
				}
			}
		}
		if err := s.DeleteUser(ctx(t), user); err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			wantNotFound(t, s, k)
		}
	}
}

func testAnonymousNotIndexed(t *testing.T, s session.Store) {
	key := NewKey()
	mustCreate(t, s, key, session.Record{Expires: later(time.Hour)})
	if list, err := s.ListUser(ctx(t), ""); err != nil || len(list) != 0 {
		t.Fatalf("ListUser(\"\") = %v, %v; want empty", keysOf(list), err)
	}
	if err := s.DeleteUser(ctx(t), ""); err != nil {
		t.Fatal(err)
	}
	mustGet(t, s, key)
}

func testCanceledContext(t *testing.T, s session.Store) {
	c, cancel := context.WithCancel(context.Background())
	cancel()
	key := NewKey()
	if err := s.Create(c, key, session.Record{Expires: later(time.Hour)}); err == nil {
		t.Fatal("Create with a canceled context succeeded")
	}
	if _, err := s.Get(c, key); err == nil || errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Get with a canceled context = %v, want the context's error", err)
	}
}

func testConcurrentUse(t *testing.T, s session.Store) {
	user := newUser("many")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 25 {
				k := NewKey()
				rec := session.Record{UserID: user, Expires: later(time.Hour), Data: []byte{byte(g), byte(i)}}
				if err := s.Create(ctx(t), k, rec); err != nil {
					t.Errorf("Create: %v", err)
					return
				}
				rec.Data = append(rec.Data, 1)
				if err := s.Update(ctx(t), k, rec); err != nil {
					t.Errorf("Update: %v", err)
					return
				}
				if got, err := s.Get(ctx(t), k); err != nil || !bytes.Equal(got.Data, rec.Data) {
					t.Errorf("Get = %v, %v", got, err)
					return
				}
				if i%2 == 0 {
					if err := s.Delete(ctx(t), k); err != nil {
						t.Errorf("Delete: %v", err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	list, err := s.ListUser(ctx(t), user)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 8*12 {
		t.Fatalf("ListUser after concurrent use has %d entries, want %d", len(list), 8*12)
	}
}
