// Package passkeytest checks that a passkey.Store keeps the contract the
// passkey Handler relies on. Run it from a store's tests:
//
//	func TestMyStore(t *testing.T) {
//		passkeytest.Run(t, func(t *testing.T) passkey.Store { return newMyStore(t) })
//	}
package passkeytest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sessionauth/session/passkey"
)

// Run runs the conformance tests against stores made by newStore, a new
// empty one for each subtest (subtests run in parallel). It covers every
// method, users kept apart, the counter rule of Use (refused regressions,
// atomic under concurrency, counters up to the largest uint32), IDs
// compared byte for byte, copies (a caller changing what it passed or got
// back changes nothing stored) and a canceled context.
func Run(t *testing.T, newStore func(t *testing.T) passkey.Store) {
	t.Helper()
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s passkey.Store)
	}{
		{"CreateThenGetReturnsEveryField", testCreateGet},
		{"CreateRefusesATakenID", testCreateExists},
		{"GetOfAnUnknownIDIsNotFound", testGetNotFound},
		{"ListUserIsOldestFirstAndPerUser", testListUser},
		{"RenameOnlyTheUsersOwn", testRename},
		{"DeleteOnlyTheUsersOwn", testDelete},
		{"UseRecordsCounterBackupAndTime", testUse},
		{"UseRefusesACounterThatDidNotGoUp", testUseRegression},
		{"UseWithTheSameCounterSucceedsOnce", testUseRace},
		{"StoredValuesAreCopies", testCopies},
		{"CountersUpToTheLargestUint32", testBigCounter},
		{"IDsAreComparedByteForByte", testIDBytes},
		{"CanceledContextIsAnError", testCanceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// credential returns a credential of userID with every field set.
func credential(userID string, created time.Time) passkey.Credential {
	return passkey.Credential{
		ID: randomBytes(32), UserID: userID, UserHandle: randomBytes(32),
		Name: "Laptop – Touch ID", PublicKey: randomBytes(77), SignCount: 7,
		BackupEligible: true, BackedUp: false, Transports: []string{"internal", "hybrid"},
		AAGUID: randomBytes(16), Created: created.Truncate(time.Millisecond).UTC(),
	}
}

func equal(a, b passkey.Credential) error {
	switch {
	case !bytes.Equal(a.ID, b.ID):
		return errors.New("ID differs")
	case a.UserID != b.UserID:
		return fmt.Errorf("UserID %q, want %q", a.UserID, b.UserID)
	case !bytes.Equal(a.UserHandle, b.UserHandle):
		return errors.New("UserHandle differs")
	case a.Name != b.Name:
		return fmt.Errorf("Name %q, want %q", a.Name, b.Name)
	case !bytes.Equal(a.PublicKey, b.PublicKey):
		return errors.New("PublicKey differs")
	case a.SignCount != b.SignCount:
		return fmt.Errorf("SignCount %d, want %d", a.SignCount, b.SignCount)
	case a.BackupEligible != b.BackupEligible || a.BackedUp != b.BackedUp:
		return fmt.Errorf("backup flags %v/%v, want %v/%v", a.BackupEligible, a.BackedUp, b.BackupEligible, b.BackedUp)
	case !slices.Equal(a.Transports, b.Transports):
		return fmt.Errorf("Transports %q, want %q", a.Transports, b.Transports)
	case !bytes.Equal(a.AAGUID, b.AAGUID):
		return errors.New("AAGUID differs")
	case !a.Created.Equal(b.Created):
		return fmt.Errorf("Created %v, want %v", a.Created, b.Created)
	case !a.LastUsed.Equal(b.LastUsed):
		return fmt.Errorf("LastUsed %v, want %v", a.LastUsed, b.LastUsed)
	}
	return nil
}

func mustCreate(t *testing.T, s passkey.Store, c passkey.Credential) {
	t.Helper()
	if err := s.Create(ctx(t), c); err != nil {
		t.Fatalf("Create: %v", err)
	}
}

func testCreateGet(t *testing.T, s passkey.Store) {
	c := credential("alice", time.Now())
	mustCreate(t, s, c)
	got, err := s.Get(ctx(t), c.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if err := equal(got, c); err != nil {
		t.Fatal(err)
	}
	// A credential with the fewest fields set round-trips as well.
	bare := passkey.Credential{ID: []byte{1}, UserID: "bob", UserHandle: []byte{2}, PublicKey: []byte{3}, Created: c.Created}
	mustCreate(t, s, bare)
	if got, err := s.Get(ctx(t), bare.ID); err != nil || equal(got, bare) != nil {
		t.Fatalf("bare credential: %v %v", err, equal(got, bare))
	}
}

func testCreateExists(t *testing.T, s passkey.Store) {
	c := credential("alice", time.Now())
	mustCreate(t, s, c)
	other := credential("bob", time.Now())
	other.ID = c.ID
	if err := s.Create(ctx(t), other); !errors.Is(err, passkey.ErrExists) {
		t.Fatalf("Create with a taken ID: %v, want ErrExists", err)
	}
	if got, _ := s.Get(ctx(t), c.ID); got.UserID != "alice" {
		t.Fatalf("the refused Create changed the credential to %q's", got.UserID)
	}
}

func testGetNotFound(t *testing.T, s passkey.Store) {
	if _, err := s.Get(ctx(t), randomBytes(16)); !errors.Is(err, passkey.ErrNotFound) {
		t.Fatalf("Get of an unknown ID: %v, want ErrNotFound", err)
	}
	if list, err := s.ListUser(ctx(t), "nobody"); err != nil || len(list) != 0 {
		t.Fatalf("ListUser of a user without passkeys: %v %v", list, err)
	}
}

func testListUser(t *testing.T, s passkey.Store) {
	base := time.Now()
	var want [][]byte
	for i := range 5 {
		// Created out of order; listed oldest first.
		c := credential("alice", base.Add(time.Duration((i*3)%5)*time.Minute))
		mustCreate(t, s, c)
		mustCreate(t, s, credential("bob", base))
		want = append(want, c.ID)
	}
	list, err := s.ListUser(ctx(t), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 5 {
		t.Fatalf("ListUser: %d credentials, want 5", len(list))
	}
	for i, c := range list {
		if c.UserID != "alice" {
			t.Fatalf("ListUser(alice) returned %q's credential", c.UserID)
		}
		if i > 0 && c.Created.Before(list[i-1].Created) {
			t.Fatalf("ListUser is not oldest first: %v after %v", c.Created, list[i-1].Created)
		}
		if !slices.ContainsFunc(want, func(id []byte) bool { return bytes.Equal(id, c.ID) }) {
			t.Fatal("ListUser returned a credential never created for alice")
		}
	}
}

func testRename(t *testing.T, s passkey.Store) {
	c := credential("alice", time.Now())
	mustCreate(t, s, c)
	if err := s.Rename(ctx(t), "bob", c.ID, "mine now"); !errors.Is(err, passkey.ErrNotFound) {
		t.Fatalf("Rename of another user's credential: %v, want ErrNotFound", err)
	}
	if err := s.Rename(ctx(t), "alice", randomBytes(16), "x"); !errors.Is(err, passkey.ErrNotFound) {
		t.Fatalf("Rename of an unknown credential: %v, want ErrNotFound", err)
	}
	if err := s.Rename(ctx(t), "alice", c.ID, "Phone"); err != nil {
		t.Fatalf("Rename: %v", err)
	}
	got, _ := s.Get(ctx(t), c.ID)
	c.Name = "Phone"
	if err := equal(got, c); err != nil {
		t.Fatalf("after Rename: %v", err)
	}
}

func testDelete(t *testing.T, s passkey.Store) {
	c, keep := credential("alice", time.Now()), credential("alice", time.Now())
	mustCreate(t, s, c)
	mustCreate(t, s, keep)
	if err := s.Delete(ctx(t), "bob", c.ID); !errors.Is(err, passkey.ErrNotFound) {
		t.Fatalf("Delete of another user's credential: %v, want ErrNotFound", err)
	}
	if _, err := s.Get(ctx(t), c.ID); err != nil {
		t.Fatalf("a refused Delete removed it: %v", err)
	}
	if err := s.Delete(ctx(t), "alice", c.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Get(ctx(t), c.ID); !errors.Is(err, passkey.ErrNotFound) {
		t.Fatalf("Get after Delete: %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx(t), "alice", c.ID); !errors.Is(err, passkey.ErrNotFound) {
		t.Fatalf("second Delete: %v, want ErrNotFound", err)
	}
	if list, _ := s.ListUser(ctx(t), "alice"); len(list) != 1 || !bytes.Equal(list[0].ID, keep.ID) {
		t.Fatalf("ListUser after Delete: %d credentials", len(list))
	}
	// The ID is free again.
	mustCreate(t, s, c)
}

func testUse(t *testing.T, s passkey.Store) {
	c := credential("alice", time.Now())
	mustCreate(t, s, c)
	at := c.Created.Add(time.Hour)
	if err := s.Use(ctx(t), c.ID, 8, true, at); err != nil {
		t.Fatalf("Use: %v", err)
	}
	got, _ := s.Get(ctx(t), c.ID)
	c.SignCount, c.BackedUp, c.LastUsed = 8, true, at
	if err := equal(got, c); err != nil {
		t.Fatalf("after Use: %v", err)
	}
	if err := s.Use(ctx(t), randomBytes(16), 1, false, at); !errors.Is(err, passkey.ErrNotFound) {
		t.Fatalf("Use of an unknown credential: %v, want ErrNotFound", err)
	}
	// Without a counter (0 and 0), every use is accepted.
	z := credential("alice", time.Now())
	z.SignCount = 0
	mustCreate(t, s, z)
	for i := range 3 {
		if err := s.Use(ctx(t), z.ID, 0, false, at.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatalf("use %d of a credential without a counter: %v", i, err)
		}
	}
}

func testUseRegression(t *testing.T, s passkey.Store) {
	c := credential("alice", time.Now())
	mustCreate(t, s, c) // counter 7
	at := c.Created.Add(time.Hour)
	for _, n := range []uint32{7, 6, 0} {
		if err := s.Use(ctx(t), c.ID, n, true, at); !errors.Is(err, passkey.ErrCounterRegression) {
			t.Fatalf("Use with counter %d after 7: %v, want ErrCounterRegression", n, err)
		}
	}
	if got, _ := s.Get(ctx(t), c.ID); equal(got, c) != nil {
		t.Fatalf("a refused Use changed the credential: %v", equal(got, c))
	}
	// 0 stored, then a counter: accepted; then back to 0: refused.
	z := credential("alice", time.Now())
	z.SignCount = 0
	mustCreate(t, s, z)
	if err := s.Use(ctx(t), z.ID, 1, false, at); err != nil {
		t.Fatal(err)
	}
	if err := s.Use(ctx(t), z.ID, 0, false, at); !errors.Is(err, passkey.ErrCounterRegression) {
		t.Fatalf("counter 0 after 1: %v, want ErrCounterRegression", err)
	}
}

func testUseRace(t *testing.T, s passkey.Store) {
	c := credential("alice", time.Now())
	mustCreate(t, s, c)
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{}) // all uses at once, not as their goroutines happen to start
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = s.Use(ctx(t), c.ID, 9, false, c.Created)
		})
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, passkey.ErrCounterRegression):
			t.Fatalf("concurrent Use: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d concurrent uses with the same counter succeeded, want 1", ok, n)
	}
}

func testCopies(t *testing.T, s passkey.Store) {
	c := credential("alice", time.Now())
	want := credential("alice", c.Created)
	want.ID, want.UserHandle, want.PublicKey, want.AAGUID = bytes.Clone(c.ID), bytes.Clone(c.UserHandle), bytes.Clone(c.PublicKey), bytes.Clone(c.AAGUID)
	want.Name, want.Transports = c.Name, slices.Clone(c.Transports)
	mustCreate(t, s, c)
	c.PublicKey[0] ^= 1
	c.Transports[0] = "usb"
	got, _ := s.Get(ctx(t), want.ID)
	if err := equal(got, want); err != nil {
		t.Fatalf("changing what was passed to Create changed the store: %v", err)
	}
	got.PublicKey[0] ^= 1
	got.Transports[0] = "nfc"
	if again, _ := s.Get(ctx(t), want.ID); equal(again, want) != nil {
		t.Fatalf("changing what Get returned changed the store: %v", equal(again, want))
	}
	list, err := s.ListUser(ctx(t), "alice")
	if err != nil || len(list) != 1 {
		t.Fatalf("ListUser: %d credentials, %v", len(list), err)
	}
	list[0].PublicKey[0] ^= 1
	list[0].ID[0] ^= 1
	list[0].Transports[0] = "ble"
	if again, err := s.Get(ctx(t), want.ID); err != nil || equal(again, want) != nil {
		t.Fatalf("changing what ListUser returned changed the store: %v %v", err, equal(again, want))
	}
}

// testBigCounter: counters are uint32 and reach the top of the range
// (a store must not keep them in a signed 32-bit column).
func testBigCounter(t *testing.T, s passkey.Store) {
	c := credential("alice", time.Now())
	c.SignCount = 3_000_000_000
	mustCreate(t, s, c)
	if got, err := s.Get(ctx(t), c.ID); err != nil || got.SignCount != c.SignCount {
		t.Fatalf("Get: counter %d (%v), want %d", got.SignCount, err, c.SignCount)
	}
	at := c.Created.Add(time.Hour)
	if err := s.Use(ctx(t), c.ID, 2_999_999_999, false, at); !errors.Is(err, passkey.ErrCounterRegression) {
		t.Fatalf("Use with a counter below 3000000000: %v, want ErrCounterRegression", err)
	}
	if err := s.Use(ctx(t), c.ID, math.MaxUint32, false, at); err != nil {
		t.Fatalf("Use with the largest counter: %v", err)
	}
	if err := s.Use(ctx(t), c.ID, math.MaxUint32, false, at); !errors.Is(err, passkey.ErrCounterRegression) {
		t.Fatalf("Use with the largest counter again: %v, want ErrCounterRegression", err)
	}
	if got, _ := s.Get(ctx(t), c.ID); got.SignCount != math.MaxUint32 {
		t.Fatalf("counter %d after Use, want %d", got.SignCount, uint32(math.MaxUint32))
	}
}

// testIDBytes: IDs that differ only in letter case once base64-encoded, or
// only by a trailing zero byte, are different credentials.
func testIDBytes(t *testing.T, s passkey.Store) {
	lower, _ := base64.RawURLEncoding.DecodeString("aaaaaaaaaaaaaaaaaaaaaaaa")
	upper, _ := base64.RawURLEncoding.DecodeString("AAAAAAAAAAAAAAAAAAAAAAAA")
	ids := [][]byte{lower, upper, {7}, {7, 0}}
	for i, id := range ids {
		c := credential(fmt.Sprintf("user%d", i), time.Now())
		c.ID = id
		if err := s.Create(ctx(t), c); err != nil {
			t.Fatalf("Create of ID %x: %v (another ID taken for it?)", id, err)
		}
	}
	for i, id := range ids {
		got, err := s.Get(ctx(t), id)
		if err != nil || got.UserID != fmt.Sprintf("user%d", i) || !bytes.Equal(got.ID, id) {
			t.Fatalf("Get of ID %x: %q's %x (%v), want user%d's", id, got.UserID, got.ID, err, i)
		}
	}
}

// testCanceled: every method given a canceled context fails, and a
// canceled Create stores nothing.
func testCanceled(t *testing.T, s passkey.Store) {
	c := credential("alice", time.Now())
	mustCreate(t, s, c)
	done, cancel := context.WithCancel(context.Background())
	cancel()
	other := credential("alice", time.Now())
	at := c.Created.Add(time.Hour)
	for name, err := range map[string]error{
		"Create":   s.Create(done, other),
		"Get":      func() error { _, err := s.Get(done, c.ID); return err }(),
		"ListUser": func() error { _, err := s.ListUser(done, "alice"); return err }(),
		"Rename":   s.Rename(done, "alice", c.ID, "x"),
		"Use":      s.Use(done, c.ID, 8, false, at),
		"Delete":   s.Delete(done, "alice", c.ID),
	} {
		if err == nil {
			t.Errorf("%s with a canceled context succeeded", name)
		}
	}
	if got, err := s.Get(ctx(t), c.ID); err != nil || equal(got, c) != nil {
		t.Fatalf("calls with a canceled context changed the credential: %v %v", err, equal(got, c))
	}
	if _, err := s.Get(ctx(t), other.ID); !errors.Is(err, passkey.ErrNotFound) {
		t.Fatalf("a Create with a canceled context stored it: %v", err)
	}
}
