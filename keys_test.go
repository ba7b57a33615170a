package session

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
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
		{"none", nil, ErrInvalidKey},
		{"short", [][]byte{[]byte("short")}, ErrInvalidKey},
		{"31 bytes", [][]byte{long[:31]}, ErrInvalidKey},
		{"empty", [][]byte{{}}, ErrInvalidKey},
		{"second short", [][]byte{long, []byte("x")}, ErrInvalidKey},
		{"duplicate", [][]byte{long, bytes.Clone(long)}, ErrInvalidKey},
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
	if _, err := New(Config{}); !errors.Is(err, ErrInvalidKey) {
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
		{"", 0, ErrInvalidKey},
		{"   ", 0, ErrInvalidKey},
		{std + ",", 0, ErrInvalidKey},
		{"not base64!!", 0, ErrInvalidKey},
		{base64.StdEncoding.EncodeToString([]byte("too short")), 0, ErrInvalidKey},
		{std + "," + url, 0, ErrInvalidKey},
	}
	for _, tc := range tests {
		ring, err := ParseKeyRing(tc.in)
		if !errors.Is(err, tc.wantErr) {
			t.Fatalf("ParseKeyRing(%q) = %v, want %v", tc.in, err, tc.wantErr)
		}
		if err == nil && ring.len() != tc.wantLen {
			t.Fatalf("ParseKeyRing(%q) has %d keys", tc.in, ring.len())
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

// ParseKeyRing and NewKeyRing name a bad key by its position counted from
// 1, and never put the key, or any long piece of it, in the message.
func TestKeyErrorsNamePositionFromOneNeverTheKey(t *testing.T) {
	t.Parallel()
	k1, k2 := GenerateKey(), GenerateKey()
	good1, good2 := base64.StdEncoding.EncodeToString(k1), base64.RawURLEncoding.EncodeToString(k2)
	short := base64.StdEncoding.EncodeToString([]byte("only-twenty-bytes-xx"))
	notB64 := "secret*secret*secret*secret*secret*secret*secr"
	tests := []struct {
		in   string
		want string // the position the message must name
	}{
		{short, "key 1 "},
		{good1 + "," + short, "key 2 "},
		{good1 + ",," + good2, "key 2 "},
		{good1 + "," + good2 + ",", "key 3 "},
		{good1 + "," + good2 + "," + notB64, "key 3 "},
		{good1 + "," + base64.RawURLEncoding.EncodeToString(k1), "keys 1 and 2 "},
		{good2 + "," + good1 + "," + good1, "keys 2 and 3 "},
		{" " + good1 + " ,\t" + notB64, "key 2 "},
	}
	secrets := []string{good1, good2, short, notB64, base64.RawURLEncoding.EncodeToString(k1)}
	for _, tc := range tests {
		_, err := ParseKeyRing(tc.in)
		if !errors.Is(err, ErrInvalidKey) {
			t.Fatalf("ParseKeyRing = %v, want ErrInvalidKey", err)
		}
		msg := err.Error()
		if !strings.Contains(msg, tc.want) {
			t.Fatalf("message %q does not name %q", msg, strings.TrimSpace(tc.want))
		}
		for _, s := range secrets {
			for i := 0; i+8 <= len(s); i++ {
				if strings.Contains(msg, s[i:i+8]) {
					t.Fatalf("message %q contains 8 characters of a key", msg)
				}
			}
		}
	}
}
