package session

import (
	"bytes"
	"encoding/base64"
	"errors"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"
)

// testSealer returns a sealer for the default cookie over the given keys.
func testSealer(t testing.TB, keys ...[]byte) *sealer {
	t.Helper()
	ring, err := NewKeyRing(keys...)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := CookieOptions{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	s, err := ring.newSealer(&opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func testPayload() sealedSession {
	return sealedSession{
		id:      bytes.Repeat([]byte{7}, sealIDLen),
		expires: time.UnixMilli(1767323045000),
		userID:  []byte("alice"),
		header: recordHeader{persistent: true, created: time.UnixMilli(1767320000000), idle: time.Hour, lifetime: 24 * time.Hour,
			authTime: time.UnixMilli(1767320600000), amr: "pwd otp"},
		values: map[string]string{"cart": "42", "theme": "dark"},
	}
}

func TestSealedSessionRoundTrips(t *testing.T) {
	t.Parallel()
	s := testSealer(t, testKeyA)
	p := testPayload()
	v, err := s.seal(&p)
	if err != nil {
		t.Fatal(err)
	}
	got, _, idx, ok := s.open(v)
	if !ok || idx != 0 {
		t.Fatalf("open: ok=%v key %d", ok, idx)
	}
	values, err := decodeValues(got.raw)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.id, p.id) || !bytes.Equal(got.userID, p.userID) || !got.expires.Equal(p.expires) || got.header != p.header || !maps.Equal(values, p.values) {
		t.Fatalf("opened %+v (values %v), sealed %+v", got, values, p)
	}
	// Sealing the raw values again (an unchanged session being extended)
	// gives the same session.
	got.values = nil
	v2, err := s.seal(&got)
	if err != nil {
		t.Fatal(err)
	}
	if v2 == v {
		t.Fatal("two seals of one session are identical: the nonce is not random")
	}
	again, _, _, ok := s.open(v2)
	if values2, _ := decodeValues(again.raw); !ok || !maps.Equal(values2, p.values) {
		t.Fatalf("resealed raw values: ok=%v %v", ok, values2)
	}
}

func TestSealedCookieHidesItsContent(t *testing.T) {
	t.Parallel()
	s := testSealer(t, testKeyA)
	p := testPayload()
	p.userID = []byte("user-with-a-recognisable-id")
	p.values = map[string]string{"secret-note": "visible-if-not-encrypted"}
	v, _ := s.seal(&p)
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		t.Fatal(err)
	}
	if sub := containsAny(string(raw), string(p.userID), "secret-note", "visible-if-not-encrypted"); sub != "" {
		t.Fatalf("the sealed cookie shows %q", sub)
	}
}

func TestS54_SealedCookieRejectsBadInput(t *testing.T) {
	t.Parallel()
	s := testSealer(t, testKeyA)
	p := testPayload()
	v, _ := s.seal(&p)
	raw, _ := base64.RawURLEncoding.DecodeString(v)
	signedRing, _ := NewKeyRing(testKeyA)
	signed, _ := signedRing.newSigner(defaultCookieName, time.Hour).sign(newToken())
	cases := map[string]string{
		"empty":            "",
		"short":            v[:10],
		"truncated":        v[:len(v)-1],
		"truncated tag":    base64.RawURLEncoding.EncodeToString(raw[:len(raw)-1]),
		"extended":         v + "AA",
		"padded":           v + "==",
		"standard base64":  base64.RawStdEncoding.EncodeToString(raw) + "+/",
		"oversized":        strings.Repeat("A", maxSetCookieLen+1),
		"not base64":       strings.Repeat("%", len(v)),
		"only newlines":    strings.Repeat("\n", len(v)), // the decoder skips them: nothing to decode
		"newline padded":   strings.Repeat("\r\n", len(v)/2) + v[:8],
		"server-side mode": signed,
		"other format":     base64.RawURLEncoding.EncodeToString(append([]byte{sealFormat + 1}, raw[1:]...)),
		"other key id":     base64.RawURLEncoding.EncodeToString(append([]byte{sealFormat, raw[1] + 1}, raw[2:]...)),
	}
	for name, c := range cases {
		if _, _, _, ok := s.open(c); ok {
			t.Errorf("%s: opened", name)
		}
	}
	// Every single-bit change anywhere is refused.
	for i := range raw {
		for bit := range 8 {
			b := bytes.Clone(raw)
			b[i] ^= 1 << bit
			if _, _, _, ok := s.open(base64.RawURLEncoding.EncodeToString(b)); ok {
				t.Fatalf("byte %d bit %d flipped: opened", i, bit)
			}
		}
	}
}

func TestSealedCookieIsBoundToItsName(t *testing.T) {
	t.Parallel()
	ring, _ := NewKeyRing(testKeyA)
	a, _ := CookieOptions{Name: "a"}.withDefaults()
	b, _ := CookieOptions{Name: "b"}.withDefaults()
	sa, err := ring.newSealer(&a)
	if err != nil {
		t.Fatal(err)
	}
	sb, _ := ring.newSealer(&b)
	p := testPayload()
	v, _ := sa.seal(&p)
	if _, _, _, ok := sb.open(v); ok {
		t.Fatal("a value sealed for cookie a opens as cookie b")
	}
}

func TestS54_SealedCookieKeysAreNotSigningKeys(t *testing.T) {
	t.Parallel()
	ring, _ := NewKeyRing(testKeyA)
	if bytes.Equal(ring.sealKeys[0], ring.hashKeys[0]) || bytes.Equal(ring.sealKeys[0], testKeyA[:32]) {
		t.Fatal("the sealing key is the signing key or the secret")
	}
}

func TestSealedCookieOpensUnderEveryRingKey(t *testing.T) {
	t.Parallel()
	old := testSealer(t, testKeyB)
	p := testPayload()
	v, _ := old.seal(&p)
	rotated := testSealer(t, testKeyA, testKeyB)
	if _, _, idx, ok := rotated.open(v); !ok || idx != 1 {
		t.Fatalf("old-key cookie after rotation: ok=%v key %d, want key 1", ok, idx)
	}
	v2, _ := rotated.seal(&p)
	if _, _, idx, ok := rotated.open(v2); !ok || idx != 0 {
		t.Fatalf("new cookie: ok=%v key %d", ok, idx)
	}
	if _, _, _, ok := testSealer(t, testKeyA).open(v); ok {
		t.Fatal("a cookie sealed under a removed key opens")
	}
}

func TestSealedCookieKeyIDCollisionStillOpens(t *testing.T) {
	t.Parallel()
	// Key IDs are one byte; two keys of a ring may share one. Both keys
	// must then be tried, the ciphertext intact for the second.
	s := testSealer(t, testKeyA, testKeyB)
	s.keys[1].id = s.keys[0].id
	s.keys[1].ad = append([]byte{sealFormat, s.keys[0].id}, s.keys[1].ad[2:]...)
	second := &sealer{keys: []sealKey{s.keys[1]}, maxValueLen: s.maxValueLen}
	p := testPayload()
	v, _ := second.seal(&p)
	if _, _, idx, ok := s.open(v); !ok || idx != 1 {
		t.Fatalf("ok=%v key %d, want key 1", ok, idx)
	}
}

func TestSealedSizeBoundHolds(t *testing.T) {
	t.Parallel()
	s := testSealer(t, testKeyA)
	for _, n := range []int{0, 1, 10, 100, 1000} {
		p := testPayload()
		p.userID = bytes.Repeat([]byte("u"), maxUserIDLen)
		p.values = map[string]string{}
		for i := range n {
			p.values[strings.Repeat("k", i%200+1)+string(rune('a'+i%26))] = strings.Repeat("v", i%300)
		}
		if s.check(payloadBound(string(p.userID), p.header.amr, p.values)) != nil {
			continue
		}
		v, err := s.seal(&p)
		if err != nil {
			t.Fatalf("%d values: the bound allowed it but seal failed: %v", n, err)
		}
		if len(v) > s.encodedLen(payloadBound(string(p.userID), p.header.amr, p.values)) {
			t.Fatalf("%d values: cookie value of %d bytes beyond the bound %d", n, len(v), s.encodedLen(payloadBound(string(p.userID), p.header.amr, p.values)))
		}
	}
}

func TestSealRefusesWhatDoesNotFit(t *testing.T) {
	t.Parallel()
	s := testSealer(t, testKeyA)
	p := testPayload()
	p.values = map[string]string{"big": strings.Repeat("x", maxSetCookieLen)}
	if _, err := s.seal(&p); !errors.Is(err, ErrCookieTooLarge) {
		t.Fatalf("err = %v, want ErrCookieTooLarge", err)
	}
}

func TestNewSealerRefusesAttributesThatLeaveNoRoom(t *testing.T) {
	t.Parallel()
	ring, _ := NewKeyRing(testKeyA)
	opts, err := CookieOptions{Name: "sid", Path: "/" + strings.Repeat("p", 3900), DisableSecure: true}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ring.newSealer(&opts); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("err = %v, want ErrInvalidConfig", err)
	}
}

// TestSealedCookieFitsTheBrowserLimit checks the whole Set-Cookie line of
// the largest session the size check lets through, in its longest form.
func TestS54_SealedCookieFitsTheBrowserLimit(t *testing.T) {
	t.Parallel()
	for _, opts := range []CookieOptions{{}, {Name: "sid", Domain: "example.com", Path: "/app", SameSite: http.SameSiteNoneMode, Partitioned: true}} {
		opts, _ := opts.withDefaults()
		ring, _ := NewKeyRing(testKeyA)
		s, err := ring.newSealer(&opts)
		if err != nil {
			t.Fatal(err)
		}
		p := testPayload()
		p.userID = bytes.Repeat([]byte("u"), maxUserIDLen)
		p.values = map[string]string{}
		fill := ""
		for s.checkSet(string(p.userID), p.header.amr, p.values, "fill", fill+"x") == nil {
			fill += "x"
		}
		p.values["fill"] = fill
		v, err := s.seal(&p)
		if err != nil {
			t.Fatal(err)
		}
		line := opts.cookie(v, maxPersistentAge, time.Now()).String()
		if len(line) > maxSetCookieLen {
			t.Fatalf("Set-Cookie of %d bytes", len(line))
		}
		if len(line) < maxSetCookieLen-64 {
			t.Fatalf("the size check wastes room: Set-Cookie of %d bytes", len(line))
		}
	}
}

// FuzzSealedCookie feeds arbitrary cookie values to the cookie-only
// decoder: it never panics, and whatever it opens re-seals to a value that
// opens to the same session.
func FuzzSealedCookie(f *testing.F) {
	s := testSealer(f, testKeyA, testKeyB)
	p := testPayload()
	v, _ := s.seal(&p)
	raw, _ := base64.RawURLEncoding.DecodeString(v)
	f.Add(v)
	f.Add(v[:len(v)/2])
	f.Add("")
	f.Add(strings.Repeat("A", 200))
	f.Add(base64.RawURLEncoding.EncodeToString(raw[:sealHeaderLen]))
	f.Fuzz(func(t *testing.T, value string) {
		got, _, idx, ok := s.open(value)
		if !ok {
			return
		}
		if idx < 0 || idx >= len(s.keys) {
			t.Fatalf("key index %d", idx)
		}
		again, err := s.seal(&got)
		if err != nil {
			t.Fatal(err)
		}
		back, _, _, ok := s.open(again)
		if !ok || !bytes.Equal(back.id, got.id) || !bytes.Equal(back.userID, got.userID) || back.header != got.header || !bytes.Equal(back.raw, got.raw) {
			t.Fatal("re-sealed session differs")
		}
	})
}

// FuzzSealedPayload checks the payload decoder on arbitrary bytes, past the
// AEAD that keeps them out of reach of clients: no panic, and what it
// accepts re-encodes to the same session.
func FuzzSealedPayload(f *testing.F) {
	p := testPayload()
	f.Add(p.encode())
	f.Add([]byte{})
	f.Add(make([]byte, minSealedPlain))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := decodePayload(b)
		if !ok {
			return
		}
		if len(got.userID) > maxUserIDLen {
			t.Fatal("over-long user ID accepted")
		}
		again := got.encode()
		back, ok := decodePayload(again)
		if !ok || !bytes.Equal(back.userID, got.userID) || back.header != got.header || !back.expires.Equal(got.expires) || !bytes.Equal(back.raw, got.raw) {
			t.Fatal("re-encoded payload differs")
		}
	})
}

func BenchmarkSealedOpen(b *testing.B) {
	s := testSealer(b, testKeyA)
	p := testPayload()
	v, _ := s.seal(&p)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, _, ok := s.open(v); !ok {
			b.Fatal("does not open")
		}
	}
}

func BenchmarkSeal(b *testing.B) {
	s := testSealer(b, testKeyA)
	p := testPayload()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.seal(&p); err != nil {
			b.Fatal(err)
		}
	}
}
