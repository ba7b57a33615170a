package session

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"hash/maphash"
	"strings"
	"testing"
	"time"
)

func TestS1_TokensAre32RandomBytes(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	seen := map[string]bool{}
	for range 50 {
		c := h.login("u")
		tok, _, ok := h.m.signer.verifyBytes(c)
		if !ok || len(tok) != 32 {
			t.Fatalf("token of %d bytes (verified %v)", len(tok), ok)
		}
		if seen[string(tok)] {
			t.Fatal("token repeated")
		}
		seen[string(tok)] = true
		// The cookie value is URL-safe base64 (no padding-sensitive characters).
		if _, err := base64.URLEncoding.DecodeString(c); err != nil {
			t.Fatalf("cookie value is not base64url: %v", err)
		}
	}
}

func TestS2_StoreKeyIsHashAndHashIsNotAToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	c := h.login("alice")
	tok, _, _ := h.m.signer.verifyBytes(c)
	entries, _ := h.mem.ListUser(context.Background(), "alice")
	if len(entries) != 1 {
		t.Fatalf("%d entries", len(entries))
	}
	key := entries[0].Key
	if key != storeKey(tok) || len(key) != 64 || strings.Contains(key, string(tok)) {
		t.Fatalf("store key %q is not hex SHA-256 of the token", key)
	}
	for i := range h.mem.shards {
		for k := range h.mem.shards[i].records {
			if strings.Contains(k, base64.RawURLEncoding.EncodeToString(tok)) {
				t.Fatal("raw token found in the store")
			}
		}
	}
	// A cookie carrying the store key (even validly signed) is not a session.
	hashBytes, _ := hexDecode(key)
	forged, err := h.m.signer.sign(hashBytes)
	if err != nil {
		t.Fatal(err)
	}
	if got := h.whoami(forged); got != "" {
		t.Fatalf("the store key worked as a token: %q", got)
	}
}

func TestS3_SignatureVerifiedBeforeStoreAndBoundToName(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	c := h.login("alice")
	before := h.store.gets.Load()
	tampered := []byte(c)
	tampered[len(tampered)/2] ^= 1
	for _, v := range []string{string(tampered), c[:len(c)-2], c + "A"} {
		if got := h.whoami(v); got != "" {
			t.Fatalf("tampered cookie accepted as %q", got)
		}
	}
	if n := h.store.gets.Load() - before; n != 0 {
		t.Fatalf("%d store reads for cookies that do not verify", n)
	}
	// The same value under another cookie name does not verify.
	other, err := NewKeyRing(testKeyA)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok := other.newSigner("other", time.Hour).verifyBytes(c); ok {
		t.Fatal("a value signed for one cookie name verified under another")
	}
}

func mustVerify(t *testing.T, h *harness, v string) []byte {
	tok, _, ok := h.m.signer.verifyBytes(v)
	if !ok {
		t.Fatal("does not verify")
	}
	return tok
}

// forgeSigned builds a token signed under the ring's first key with a chosen
// securecookie timestamp (the wire format: base64url("date|b64(value)|mac"),
// mac = HMAC-SHA256(name|date|b64(value))).
func forgeSigned(ring *KeyRing, name string, token []byte, unix int64) string {
	v := base64.URLEncoding.EncodeToString(token)
	mac := hmac.New(sha256.New, ring.hashKeys[0])
	fmt.Fprintf(mac, "%s|%d|%s", name, unix, v)
	raw := fmt.Sprintf("%d|%s|", unix, v) + string(mac.Sum(nil))
	return base64.URLEncoding.EncodeToString([]byte(raw))
}

// Coverage for S23/"MaxAge never caps our own lifetime": a remember-me
// lifetime of 90 days must accept a token signed 60 days ago (securecookie's
// default MaxAge is 30 days) and reject one older than the lifetime, before
// any store call. TestTooOldTokenRejectedWithoutStore passes even when
// newSigner never sets MaxAge; this test fails then.
func TestS23_SignerMaxAgeFollowsLifetime(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) {
		c.RememberMeLifetime = 90 * 24 * time.Hour
		c.RememberMeIdleTimeout = 30 * 24 * time.Hour
	})
	ring, _ := NewKeyRing(testKeyA)
	tok := newToken()
	now := time.Now().Unix()
	day := int64(24 * 3600)
	fresh := forgeSigned(ring, h.m.cookie.Name, tok, now)
	if _, _, ok := h.m.signer.verifyBytes(fresh); !ok {
		t.Fatal("forged fresh token does not verify: the test's wire format is wrong")
	}
	if _, _, ok := h.m.signer.verifyBytes(forgeSigned(ring, h.m.cookie.Name, tok, now-60*day)); !ok {
		t.Fatal("a 60-day-old token is rejected although remember-me sessions live 90 days")
	}
	old := forgeSigned(ring, h.m.cookie.Name, tok, now-91*day)
	if _, _, ok := h.m.signer.verifyBytes(old); ok {
		t.Fatal("a token older than the longest lifetime verifies")
	}
	calls := h.store.calls()
	if w := h.do("GET", "/private", old); w.Code != 401 || h.store.calls() != calls {
		t.Fatalf("too-old token: %d, %d store calls", w.Code, h.store.calls()-calls)
	}
}

func TestTooOldTokenRejectedWithoutStore(t *testing.T) {
	t.Parallel()
	ring, _ := NewKeyRing(testKeyA)
	s := ring.newSigner("n", 2*time.Hour)
	v, _ := s.sign(newToken())
	if _, _, ok := s.verifyBytes(v); !ok {
		t.Fatal("fresh token rejected")
	}
	// securecookie rejects a timestamp more than MaxAge seconds old; a
	// negative MaxAge makes a token signed this second already too old. A
	// fresh signer, so that the verified-value cache does not answer.
	old := ring.newSigner("n", 2*time.Hour)
	old.codecs[0].MaxAge(-1)
	if _, _, ok := old.verifyBytes(v); ok {
		t.Fatal("token older than MaxAge accepted")
	}
}

func TestVerifiedCache(t *testing.T) {
	t.Parallel()
	ring, _ := NewKeyRing(testKeyA)
	s := ring.newSigner("n", time.Hour)
	tok := newToken()
	v, _ := s.sign(tok)
	got, idx, ok := s.verifyBytes(v)
	if !ok || idx != 0 || !bytes.Equal(got[:], tok) {
		t.Fatal("verify")
	}
	sum := maphash.String(s.seed, v)
	slot := &s.cache[sum&(verifiedSlots-1)]
	cached := slot.Load()
	if cached == nil || cached.sum != sum || !bytes.Equal(cached.token[:], got) || cached.storeKey != storeKey(tok) {
		t.Fatal("a verified value was not cached")
	}
	// Values that do not verify are never cached.
	for i := range 2 * verifiedSlots {
		forged := v[:len(v)-3] + string(rune('A'+i%26)) + "xy"
		s.verifyBytes(forged)
		if e := s.cache[maphash.String(s.seed, forged)&(verifiedSlots-1)].Load(); e != nil && e.value == forged {
			t.Fatalf("the forged value %q was cached", forged)
		}
	}
	// An expired entry is verified again (and still accepted).
	e := *slot.Load()
	e.until = 0
	e.token[0] ^= 1 // if the stale entry were used, the token would be wrong
	slot.Store(&e)
	if got, _, ok := s.verifyBytes(v); !ok || !bytes.Equal(got[:], tok) {
		t.Fatal("expired cache entry used")
	}
}

// The cache answers only for the exact value that verified: an entry found
// under another value's hash (a collision of the 64-bit maphash) is not
// used, so a forged value can never borrow a verified one's token.
func TestVerifiedCacheComparesTheWholeValue(t *testing.T) {
	t.Parallel()
	ring, _ := NewKeyRing(testKeyA)
	s := ring.newSigner("n", time.Hour)
	v, _ := s.sign(newToken())
	if _, ok := s.verify(v); !ok {
		t.Fatal("a fresh value does not verify")
	}
	sum := maphash.String(s.seed, v)
	e := *s.cache[sum&(verifiedSlots-1)].Load()
	for _, forged := range []string{v[:len(v)-1] + "A", v[:len(v)-1], "x", v + "A"} {
		// Plant the verified entry in the forged value's slot, tagged with
		// the forged value's hash, as a full 64-bit collision would.
		fsum := maphash.String(s.seed, forged)
		planted := e
		planted.sum = fsum
		s.cache[fsum&(verifiedSlots-1)].Store(&planted)
		if _, ok := s.verify(forged); ok {
			t.Fatalf("%q verified through a colliding cache entry", forged)
		}
	}
}

// The dead-token set and the verified-value cache have a fixed number of
// slots: a flood of distinct tokens only replaces entries, the newest is
// found, and a token never added (or one that shares a slot with a newer
// one) is not taken for dead.
func TestDeadSetAndVerifiedCacheAreBounded(t *testing.T) {
	t.Parallel()
	var d deadTokens
	first := [tokenLen]byte(newToken())
	d.add(first)
	if !d.has(first) {
		t.Fatal("a token just added is not known dead")
	}
	sameSlot := [tokenLen]byte(newToken())
	copy(sameSlot[:2], first[:2])
	if d.has(sameSlot) {
		t.Fatal("a token that shares a slot with a dead one is taken for dead")
	}
	d.add(sameSlot)
	if !d.has(sameSlot) || d.has(first) {
		t.Fatalf("after a second token in the slot: has(second) = %v, has(first) = %v; want true, false", d.has(sameSlot), d.has(first))
	}
	var lastDead [tokenLen]byte
	for range 3 * deadSlots {
		lastDead = [tokenLen]byte(newToken())
		d.add(lastDead)
	}
	if !d.has(lastDead) {
		t.Fatal("the token added last is not known dead")
	}
	if d.has([tokenLen]byte(newToken())) {
		t.Fatal("a token never added is taken for dead")
	}

	// The verified-value cache has a fixed number of slots; a flood of
	// distinct values only replaces entries, and the newest stays found.
	ring, _ := NewKeyRing(testKeyA)
	s := ring.newSigner("sid", time.Hour)
	var last string
	for range 3 * verifiedSlots {
		last, _ = s.sign(newToken())
		if _, ok := s.verify(last); !ok {
			t.Fatal("a fresh value does not verify")
		}
	}
	if e := s.cache[maphash.String(s.seed, last)&(verifiedSlots-1)].Load(); e == nil || e.value != last {
		t.Fatal("the value verified last is not in the cache")
	}
}

// constantTimeEqual agrees with == on strings and byte slices of every
// length around its eight-byte steps, whichever byte differs.
func TestConstantTimeEqualAgreesWithEquality(t *testing.T) {
	t.Parallel()
	for n := range 26 {
		a := strings.Repeat("x", n)
		if !constantTimeEqual(a, strings.Clone(a)) || !constantTimeEqual([]byte(a), []byte(a)) {
			t.Fatalf("length %d: equal values compare unequal", n)
		}
		if constantTimeEqual(a, a+"x") || constantTimeEqual(a+"x", a) {
			t.Fatalf("length %d: values of different lengths compare equal", n)
		}
		for i := range n {
			b := []byte(a)
			b[i] ^= 0x80
			if constantTimeEqual(a, string(b)) || constantTimeEqual([]byte(a), b) {
				t.Fatalf("length %d: a difference at byte %d is missed", n, i)
			}
		}
	}
}
