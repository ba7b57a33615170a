package password

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// refBcryptAllmine is x/crypto's known answer for the password "allmine".
const refBcryptAllmine = "$2a$10$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga"

func mustBcrypt(t testing.TB, pw string, cost int) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

func TestVerifyBcryptMatchesAndAlwaysNeedsRehash(t *testing.T) {
	t.Parallel()
	b := mustBcrypt(t, "s3cret password", bcrypt.MinCost)
	tests := []struct {
		name, pw, hash string
		match          bool
	}{
		{"known vector", "allmine", refBcryptAllmine, true},
		{"known vector, wrong", "allmin", refBcryptAllmine, false},
		// $2a$, $2b$ and $2y$ are one algorithm for passwords under 255 bytes.
		{"$2a$", "s3cret password", "$2a$" + b[4:], true},
		{"$2b$", "s3cret password", "$2b$" + b[4:], true},
		{"$2y$", "s3cret password", "$2y$" + b[4:], true},
		{"$2y$ wrong", "s3cret passworD", "$2y$" + b[4:], false},
		{"cost 4 verifies", "s3cret password", b, true},
		{"cost 10 verifies", "hunter2hunter2", mustBcrypt(t, "hunter2hunter2", 10), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			match, rehash, err := Verify(tc.pw, tc.hash)
			// This package hashes with argon2id only, so a matching bcrypt
			// hash is always one to replace.
			if match != tc.match || rehash != tc.match || err != nil {
				t.Fatalf("Verify = %v, %v, %v; want %v, %v, nil", match, rehash, err, tc.match, tc.match)
			}
		})
	}
}

func TestVerifyBcryptRefusesPasswordsOver72Bytes(t *testing.T) {
	t.Parallel()
	pw72 := strings.Repeat("a", 72)
	h := mustBcrypt(t, pw72, bcrypt.MinCost)
	if match, _, err := Verify(pw72, h); !match || err != nil {
		t.Fatalf("72 bytes: %v, %v", match, err)
	}
	tests := []struct{ name, pw string }{
		// bcrypt alone would ignore byte 73 and accept this password.
		{"73 bytes sharing the prefix", pw72 + "b"},
		{"1024 bytes sharing the prefix", pw72 + strings.Repeat("c", MaxBytes-72)},
		// Bytes, not characters: 19 four-byte runes are 76 bytes.
		{"19 emoji", strings.Repeat("🔑", 19)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			match, rehash, err := Verify(tc.pw, h)
			if match || rehash || !errors.Is(err, ErrTooLong) {
				t.Fatalf("Verify = %v, %v, %v; want false, false, ErrTooLong", match, rehash, err)
			}
		})
	}
}

func TestVerifyBcryptBoundsCost(t *testing.T) {
	t.Parallel()
	h := mustBcrypt(t, "password1", bcrypt.MinCost)
	tests := []struct {
		cost string
		err  error
	}{
		{"03", errUnsupported},
		// A hostile stored hash of cost 31 would run for days; it is refused
		// before any work, or this test would time out.
		{"17", errUnsupported},
		{"31", errUnsupported},
		{"1x", errMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.cost, func(t *testing.T) {
			t.Parallel()
			if _, _, err := Verify("password1", "$2b$"+tc.cost+h[6:]); !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
		})
	}
}

func TestParseBcryptRefusesMalformedHashes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, hash string
		err        error
	}{
		{"short", "$2b$10$abc", errMalformed},
		{"bad alphabet", "$2b$10$" + strings.Repeat("+", 53), errMalformed},
		{"no separator", "$2b$10x" + strings.Repeat("a", 53), errMalformed},
		{"$2x$", "$2x$10$" + strings.Repeat("a", 53), errMalformed},
		{"cost 3", "$2b$03$" + strings.Repeat("a", 53), errUnsupported},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := parseBcrypt(tc.hash); !errors.Is(err, tc.err) || !errors.Is(err, ErrInvalidHash) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
		})
	}
}

// FuzzParseBcrypt checks that no input makes the bcrypt parser panic, that
// it accepts only costs that are safe to run, and that whatever it accepts
// x/crypto can read without an error other than a mismatch.
func FuzzParseBcrypt(f *testing.F) {
	for _, s := range []string{refBcryptAllmine, "$2b$04$" + strings.Repeat(".", 53), "$2y$", "$2b$99$" + strings.Repeat("a", 53), ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cost, err := parseBcrypt(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidHash) {
				t.Fatalf("error %v is not ErrInvalidHash", err)
			}
			return
		}
		if cost < minBcryptCost || cost > maxBcryptCost {
			t.Fatalf("accepted cost %d", cost)
		}
		if cost > 6 {
			return // keep the fuzzer fast
		}
		if c, err := bcrypt.Cost([]byte(s)); err != nil || c != cost {
			t.Fatalf("x/crypto reads cost %d, %v; parser said %d", c, err, cost)
		}
	})
}

// FuzzVerifyHashShape feeds arbitrary stored hashes to Verify with the KDF
// work kept cheap: inputs whose parameters would be expensive are only
// parsed. Nothing may panic, and every failure is one of ours.
func FuzzVerifyHashShape(f *testing.F) {
	for _, s := range []string{refBcryptAllmine, refArgon2idM256, "$2b$04$" + strings.Repeat(".", 53), "$2y$", "$x$y", "plain"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if h, err := parseArgon2(s); err == nil && uint64(h.memory)*uint64(h.time) > 4096 {
			return
		}
		if c, err := parseBcrypt(s); err == nil && c > 5 {
			return
		}
		match, rehash, err := Verify("password", s)
		if err != nil && !errors.Is(err, ErrInvalidHash) {
			t.Fatalf("Verify(%q) error %v is not ours", s, err)
		}
		if err != nil && (match || rehash) {
			t.Fatalf("Verify(%q) = %v, %v with error %v", s, match, rehash, err)
		}
	})
}
