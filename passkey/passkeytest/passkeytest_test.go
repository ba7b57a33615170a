package passkeytest_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"math"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionauth/session/passkey"
	"github.com/sessionauth/session/passkey/passkeytest"
)

// flawedStore is a map-backed passkey.Store with one deliberate flaw, named
// by flaw ("" for none): the suite must fail every flawed one.
type flawedStore struct {
	mu   sync.Mutex
	flaw string
	m    map[string]*passkey.Credential
	keys []string // creation order
}

func clone(c passkey.Credential) passkey.Credential {
	c.ID, c.UserHandle, c.PublicKey, c.AAGUID = bytes.Clone(c.ID), bytes.Clone(c.UserHandle), bytes.Clone(c.PublicKey), bytes.Clone(c.AAGUID)
	c.Transports = slices.Clone(c.Transports)
	return c
}

func (s *flawedStore) key(id []byte) string {
	if s.flaw == "case-insensitive-ids" {
		// A text key in a case-insensitive collation.
		return strings.ToLower(base64.RawURLEncoding.EncodeToString(id))
	}
	return string(id)
}

func (s *flawedStore) check(ctx context.Context, count uint32) error {
	if s.flaw != "ignores-context" {
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	if s.flaw == "int32-counter" && count > math.MaxInt32 {
		return errors.New("value out of range for type integer")
	}
	return nil
}

func (s *flawedStore) Create(ctx context.Context, c passkey.Credential) error {
	if err := s.check(ctx, c.SignCount); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.key(c.ID)
	if _, ok := s.m[k]; ok {
		return passkey.ErrExists
	}
	c = clone(c)
	s.m[k] = &c
	s.keys = append(s.keys, k)
	return nil
}

func (s *flawedStore) Get(ctx context.Context, id []byte) (passkey.Credential, error) {
	if err := s.check(ctx, 0); err != nil {
		return passkey.Credential{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.m[s.key(id)]
	if !ok {
		return passkey.Credential{}, passkey.ErrNotFound
	}
	return clone(*c), nil
}

func (s *flawedStore) ListUser(ctx context.Context, userID string) ([]passkey.Credential, error) {
	if err := s.check(ctx, 0); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []passkey.Credential
	for _, k := range s.keys {
		if c, ok := s.m[k]; ok && c.UserID == userID {
			if s.flaw == "aliased-list" {
				out = append(out, *c) // shares the stored slices
			} else {
				out = append(out, clone(*c))
			}
		}
	}
	slices.SortStableFunc(out, func(a, b passkey.Credential) int { return a.Created.Compare(b.Created) })
	return out, nil
}

func (s *flawedStore) own(userID string, id []byte) *passkey.Credential {
	if c, ok := s.m[s.key(id)]; ok && c.UserID == userID {
		return c
	}
	return nil
}

func (s *flawedStore) Rename(ctx context.Context, userID string, id []byte, name string) error {
	if err := s.check(ctx, 0); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.own(userID, id)
	if c == nil {
		return passkey.ErrNotFound
	}
	c.Name = name
	return nil
}

func (s *flawedStore) Use(ctx context.Context, id []byte, signCount uint32, backedUp bool, at time.Time) error {
	if err := s.check(ctx, signCount); err != nil {
		return err
	}
	if s.flaw == "racy-use" {
		// Checks, lets go of the lock, then writes: two uses both pass.
		s.mu.Lock()
		c, ok := s.m[s.key(id)]
		prev := uint32(0)
		if ok {
			prev = c.SignCount
		}
		s.mu.Unlock()
		if !ok {
			return passkey.ErrNotFound
		}
		if !(signCount > prev || (signCount == 0 && prev == 0)) {
			return passkey.ErrCounterRegression
		}
		time.Sleep(time.Millisecond) // a round trip between the check and the write
		s.mu.Lock()
		c.SignCount, c.BackedUp, c.LastUsed = signCount, backedUp, at
		s.mu.Unlock()
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.m[s.key(id)]
	if !ok {
		return passkey.ErrNotFound
	}
	if !(signCount > c.SignCount || (signCount == 0 && c.SignCount == 0)) {
		return passkey.ErrCounterRegression
	}
	c.SignCount, c.BackedUp, c.LastUsed = signCount, backedUp, at
	return nil
}

func (s *flawedStore) Delete(ctx context.Context, userID string, id []byte) error {
	if err := s.check(ctx, 0); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.own(userID, id) == nil {
		return passkey.ErrNotFound
	}
	k := s.key(id)
	delete(s.m, k)
	s.keys = slices.DeleteFunc(s.keys, func(v string) bool { return v == k })
	return nil
}

// TestFlawedStore runs the suite on the flawed store named by
// PASSKEYTEST_FLAW, in the process TestTheSuiteFailsFlawedStores starts.
func TestFlawedStore(t *testing.T) {
	flaw, ok := os.LookupEnv("PASSKEYTEST_FLAW")
	if !ok {
		t.Skip("run by TestTheSuiteFailsFlawedStores")
	}
	passkeytest.Run(t, func(t *testing.T) passkey.Store {
		return &flawedStore{flaw: flaw, m: make(map[string]*passkey.Credential)}
	})
}

func TestTheSuiteFailsFlawedStores(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ flaw, fails string }{
		{"", ""},
		{"int32-counter", "CountersUpToTheLargestUint32"},
		{"aliased-list", "StoredValuesAreCopies"},
		{"case-insensitive-ids", "IDsAreComparedByteForByte"},
		{"ignores-context", "CanceledContextIsAnError"},
		{"racy-use", "UseWithTheSameCounterSucceedsOnce"},
	} {
		flaw := tc.flaw
		t.Run("flaw="+flaw, func(t *testing.T) {
			t.Parallel()
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestFlawedStore$", "-test.count=1")
			cmd.Env = append(os.Environ(), "PASSKEYTEST_FLAW="+flaw)
			out, err := cmd.CombinedOutput()
			switch {
			case flaw == "" && err != nil:
				t.Fatalf("the suite fails the store without a flaw:\n%s", out)
			case flaw != "" && err == nil:
				t.Fatalf("the suite passes a store whose flaw is %s", flaw)
			case flaw != "" && !strings.Contains(string(out), "--- FAIL: TestFlawedStore/"+tc.fails+" "):
				t.Fatalf("the store whose flaw is %s did not fail %s:\n%s", flaw, tc.fails, out)
			}
		})
	}
}
