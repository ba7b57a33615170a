package session

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestGenerateKey(t *testing.T) {
	t.Parallel()
	a, b := GenerateKey(), GenerateKey()
	if len(a) != 32 || bytes.Equal(a, b) {
		t.Fatalf("GenerateKey: %d bytes, repeated %v", len(a), bytes.Equal(a, b))
	}
}

func TestS8_KeyRingRejectsBadKeys(t *testing.T) {
	t.Parallel()
	long := bytes.Repeat([]byte("k"), 32)
	tests := []struct {
		name string
		keys [][]byte
		want error
	}{
		{"none", nil, ErrNoKeys},
		{"short", [][]byte{[]byte("short")}, ErrKeyTooShort},
		{"31 bytes", [][]byte{long[:31]}, ErrKeyTooShort},
		{"empty", [][]byte{{}}, ErrKeyTooShort},
		{"second short", [][]byte{long, []byte("x")}, ErrKeyTooShort},
		{"duplicate", [][]byte{long, bytes.Clone(long)}, ErrKeyDuplicate},
		{"ok", [][]byte{long}, nil},
		{"ok two", [][]byte{long, GenerateKey()}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewKeyRing(tc.keys...)
			if !errors.Is(err, tc.want) {
				t.Fatalf("NewKeyRing = %v, want %v", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), string(long)) {
				t.Fatal("error message contains the key")
			}
		})
	}
	if _, err := New(Config{}); !errors.Is(err, ErrNoKeys) {
		t.Fatalf("New without keys = %v", err)
	}
}

func TestS8_ParseKeyRing(t *testing.T) {
	t.Parallel()
	k1, k2 := GenerateKey(), GenerateKey()
	k1[0], k1[1] = 0xfb, 0xff // base64 with + and / (standard) or - and _ (URL)
	std, url := base64.StdEncoding.EncodeToString(k1), base64.URLEncoding.EncodeToString(k1)
	raw2 := base64.RawStdEncoding.EncodeToString(k2)
	tests := []struct {
		in      string
		wantLen int
		wantErr error
	}{
		{std, 1, nil},
		{url, 1, nil},
		{base64.RawURLEncoding.EncodeToString(k1), 1, nil},
		{" " + std + " , " + raw2 + " ", 2, nil},
		{"", 0, ErrNoKeys},
		{"   ", 0, ErrNoKeys},
		{std + ",", 0, ErrKeyNotBase64},
		{"not base64!!", 0, ErrKeyNotBase64},
		{base64.StdEncoding.EncodeToString([]byte("too short")), 0, ErrKeyTooShort},
		{std + "," + url, 0, ErrKeyDuplicate},
	}
	for _, tc := range tests {
		ring, err := ParseKeyRing(tc.in)
		if !errors.Is(err, tc.wantErr) {
			t.Fatalf("ParseKeyRing(%q) = %v, want %v", tc.in, err, tc.wantErr)
		}
		if err == nil && ring.Len() != tc.wantLen {
			t.Fatalf("ParseKeyRing(%q) has %d keys", tc.in, ring.Len())
		}
		if err != nil && (strings.Contains(err.Error(), std) || strings.Contains(err.Error(), raw2)) {
			t.Fatal("error contains key material")
		}
	}
	// The parsed ring verifies what a ring built from the raw bytes signs.
	r1, _ := ParseKeyRing(url)
	r2, _ := NewKeyRing(k1)
	v, _ := r2.newSigner("n", 0).sign(make([]byte, 32))
	if _, _, ok := r1.newSigner("n", 0).verifyBytes(v); !ok {
		t.Fatal("URL-base64 key parsed to different bytes")
	}
}

func TestS9_FirstKeySignsAllVerify(t *testing.T) {
	t.Parallel()
	ra, _ := NewKeyRing(testKeyA, testKeyB)
	rb, _ := NewKeyRing(testKeyB)
	sa, sb := ra.newSigner("n", 0), rb.newSigner("n", 0)
	tok := newToken()
	byB, _ := sb.sign(tok)
	got, idx, ok := sa.verifyBytes(byB)
	if !ok || idx != 1 || !bytes.Equal(got, tok) {
		t.Fatalf("ring [A,B] on a B cookie: %v %d", ok, idx)
	}
	byA, _ := sa.sign(tok)
	if _, idx, ok := sa.verifyBytes(byA); !ok || idx != 0 {
		t.Fatal("ring [A,B] does not sign with A")
	}
	if _, _, ok := sb.verifyBytes(byA); ok {
		t.Fatal("ring [B] verified an A cookie")
	}
}

func TestKeyDerivationUsesHKDF(t *testing.T) {
	t.Parallel()
	ring, _ := NewKeyRing(testKeyA)
	if bytes.Equal(ring.hashKeys[0], testKeyA[:32]) || len(ring.hashKeys[0]) != 32 {
		t.Fatal("the raw secret is used as the HMAC key")
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
	sum := sha256.Sum256([]byte(v))
	sh := &s.cache[sum[0]%verifiedShards]
	sh.mu.RLock()
	cached, hit := sh.m[sum]
	sh.mu.RUnlock()
	if !hit || !bytes.Equal(cached.token[:], got) || cached.storeKey != storeKey(tok) {
		t.Fatal("a verified value was not cached")
	}
	// Values that do not verify are never cached, and the cache is bounded.
	for i := range 20 * verifiedPerShard {
		s.verifyBytes(v[:len(v)-3] + string(rune('A'+i%26)) + "xy")
		w, _ := s.sign(newToken())
		s.verifyBytes(w)
	}
	for i := range s.cache {
		s.cache[i].mu.RLock()
		n := len(s.cache[i].m)
		s.cache[i].mu.RUnlock()
		if n > verifiedPerShard {
			t.Fatalf("shard %d holds %d values", i, n)
		}
	}
	// An expired entry is verified again (and still accepted).
	sh.mu.Lock()
	e := sh.m[sum]
	e.until = 0
	e.token[0] ^= 1 // if the stale entry were used, the token would be wrong
	sh.m[sum] = e
	sh.mu.Unlock()
	if got, _, ok := s.verifyBytes(v); !ok || !bytes.Equal(got[:], tok) {
		t.Fatal("expired cache entry used")
	}
}
