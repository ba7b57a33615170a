package password

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

func TestHashIsArgon2idPHCWithDefaultParams(t *testing.T) {
	t.Parallel()
	h1, err := Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !re.MatchString(h1) {
		t.Fatalf("hash %q is not a PHC argon2id string with m=19456,t=2,p=1, 16-byte salt, 32-byte key", h1)
	}
	h2, err := Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if h1 == h2 {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
}

// The rehash flag agrees with hashing: whatever Params made a hash, Verify
// under the same Params never asks for it to be made again.
func TestHashWithParamsNeverNeedsRehashUnderThem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		p    Params
	}{
		{"default", Params{}},
		{"OWASP 46 MiB, 1 pass", Params{Memory: 47104, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}},
		{"OWASP 12 MiB, 3 passes", Params{Memory: 12288, Time: 3, Threads: 1, SaltLen: 16, KeyLen: 32}},
		{"two lanes, long salt and key", Params{Memory: 19456, Time: 2, Threads: 2, SaltLen: 32, KeyLen: 64}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h, err := tc.p.Hash("tr0ub4dor&3 and more")
			if err != nil {
				t.Fatal(err)
			}
			match, rehash, err := tc.p.Verify("tr0ub4dor&3 and more", h)
			if !match || rehash || err != nil {
				t.Fatalf("Verify(own hash) = %v, %v, %v; want true, false, nil", match, rehash, err)
			}
			if match, rehash, err := tc.p.Verify("tr0ub4dor&3 and mor", h); match || rehash || err != nil {
				t.Fatalf("Verify(wrong) = %v, %v, %v; want false, false, nil", match, rehash, err)
			}
		})
	}
}

func TestHashRefusesEmptyAndOverCap(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		pw   string
		err  error
	}{
		{"empty", "", ErrTooShort},
		{"one byte over the cap", strings.Repeat("p", MaxBytes+1), ErrTooLong},
		{"at the cap", strings.Repeat("p", MaxBytes), nil},
		{"short is the policy's business", "x", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h, err := Hash(tc.pw)
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if (h == "") != (err != nil) {
				t.Fatalf("hash %q with error %v", h, err)
			}
		})
	}
}
