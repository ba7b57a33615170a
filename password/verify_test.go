package password

import (
	"errors"
	"runtime"
	"strings"
	"testing"
)

func TestVerifyReferenceVectors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, pw, hash string
		match, rehash  bool
		err            error
	}{
		// More memory than the default, but an 8-byte salt: below it.
		{"m65536 right", "password", refArgon2idM65536, true, true, nil},
		{"m65536 wrong", "passworD", refArgon2idM65536, false, false, nil},
		{"m256 right", "password", refArgon2idM256, true, true, nil},
		{"m256 wrong", "password ", refArgon2idM256, false, false, nil},
		{"argon2i is not verified", "password", refArgon2iM65536, false, false, errUnsupported},
		{"scrypt is not verified", "password", "$scrypt$ln=16,r=8,p=1$c2FsdA$aGFzaA", false, false, errUnsupported},
		{"plain text", "password", "password", false, false, errMalformed},
		{"empty", "password", "", false, false, errMalformed},
		{"dollar", "password", "$", false, false, errMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			match, rehash, err := Verify(tc.pw, tc.hash)
			if match != tc.match || rehash != tc.rehash || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("Verify = %v, %v, %v; want %v, %v, %v", match, rehash, err, tc.match, tc.rehash, tc.err)
			}
		})
	}
}

func TestVerifyFlagsHashesBelowParams(t *testing.T) {
	t.Parallel()
	const pw = "hunter2hunter2"
	tests := []struct {
		name   string
		hash   string
		rehash bool
	}{
		{"default", hashWith(pw, 19456, 2, 1, 16, 32), false},
		{"more memory", hashWith(pw, 24576, 2, 1, 16, 32), false},
		{"more passes", hashWith(pw, 19456, 3, 1, 16, 32), false},
		{"two lanes", hashWith(pw, 19456, 2, 2, 16, 32), false},
		{"longer salt and key", hashWith(pw, 19456, 2, 1, 32, 64), false},
		{"less memory", hashWith(pw, 8192, 2, 1, 16, 32), true},
		{"one pass", hashWith(pw, 19456, 1, 1, 16, 32), true},
		{"short salt", hashWith(pw, 19456, 2, 1, 8, 32), true},
		{"short key", hashWith(pw, 19456, 2, 1, 16, 16), true},
		{"bcrypt", mustBcrypt(t, pw, 4), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			match, rehash, err := Verify(pw, tc.hash)
			if err != nil || !match || rehash != tc.rehash {
				t.Fatalf("right password: %v, %v, %v; want true, %v, nil", match, rehash, err, tc.rehash)
			}
			match, rehash, err = Verify(pw+"x", tc.hash)
			if err != nil || match || rehash {
				t.Fatalf("wrong password: %v, %v, %v; want false, false, nil", match, rehash, err)
			}
		})
	}
}

// Raising the cost later needs no new API: hashes made under the old Params
// are flagged under the new ones, and their replacements are not.
func TestVerifyUpgradesHashesWhenParamsAreRaised(t *testing.T) {
	t.Parallel()
	const pw = "a long passphrase"
	old, err := Hash(pw)
	if err != nil {
		t.Fatal(err)
	}
	raised := Params{Memory: 24576}
	match, rehash, err := raised.Verify(pw, old)
	if !match || !rehash || err != nil {
		t.Fatalf("old hash under raised params: %v, %v, %v; want true, true, nil", match, rehash, err)
	}
	upgraded, err := raised.Hash(pw)
	if err != nil {
		t.Fatal(err)
	}
	if match, rehash, err := raised.Verify(pw, upgraded); !match || rehash || err != nil {
		t.Fatalf("upgraded hash: %v, %v, %v; want true, false, nil", match, rehash, err)
	}
	// The default still verifies the upgraded hash, without a downgrade.
	if match, rehash, err := Verify(pw, upgraded); !match || rehash || err != nil {
		t.Fatalf("upgraded hash under the default: %v, %v, %v; want true, false, nil", match, rehash, err)
	}
}

func TestVerifyComparesEveryKeyByte(t *testing.T) {
	t.Parallel()
	// A verifier that compared a prefix, or stopped at the first equal byte,
	// would accept one of these tampered keys.
	good := hashWith("password", 64, 1, 1, 16, 32)
	h, err := parseArgon2(good)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 15, 31} {
		q := h
		q.key = append([]byte(nil), h.key...)
		q.key[i] ^= 1
		if match, _, err := Verify("password", q.encode()); match || err != nil {
			t.Fatalf("key byte %d flipped: match=%v err=%v", i, match, err)
		}
	}
	if match, _, err := Verify("password", good); !match || err != nil {
		t.Fatalf("untampered: %v, %v", match, err)
	}
}

func TestVerifyNeverTruncates(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("p", MaxBytes)
	h := hashWith(long, 64, 1, 1, 16, 32)
	tests := []struct {
		name  string
		pw    string
		match bool
		err   error
	}{
		{"1024 bytes", long, true, nil},
		{"last byte changed", long[:MaxBytes-1] + "q", false, nil},
		{"last byte dropped", long[:MaxBytes-1], false, nil},
		{"1025 bytes", long + "p", false, ErrTooLong},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			match, _, err := Verify(tc.pw, h)
			if match != tc.match || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("Verify = %v, %v; want %v, %v", match, err, tc.match, tc.err)
			}
		})
	}
}

// allocated returns the bytes f allocates on the heap.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// Not parallel: it measures the heap, which parallel tests would disturb
// upwards only, so the lower bounds stay sound either way.
func TestDummyVerifyCostsAVerification(t *testing.T) {
	h, err := Hash("the real password")
	if err != nil {
		t.Fatal(err)
	}
	argonBytes := uint64(19456) * 1024 // the default Params' memory
	raised := Params{Memory: 2 * 19456}
	tests := []struct {
		name string
		f    func()
		min  uint64
	}{
		{"Verify", func() { Verify("a wrong password", h) }, argonBytes},
		{"DummyVerify", func() { DummyVerify("a wrong password") }, argonBytes},
		{"Params.DummyVerify with raised memory", func() { raised.DummyVerify("a wrong password") }, 2 * argonBytes},
		{"Params.DummyVerify with invalid params", func() { Params{Memory: 64}.DummyVerify("a wrong password") }, argonBytes},
		// bcrypt's 72-byte refusal also spends a verification, so a long
		// password does not reveal which users still have a bcrypt hash.
		{"bcrypt over 72 bytes", func() { Verify(strings.Repeat("z", 100), mustBcrypt(t, "x", 4)) }, argonBytes},
	}
	for _, tc := range tests {
		if got := allocated(tc.f); got < tc.min {
			t.Errorf("%s allocated %d bytes, want >= %d (one argon2id pass over its memory)", tc.name, got, tc.min)
		}
	}
}

func TestDummyVerifyNeverPanics(t *testing.T) {
	t.Parallel()
	for _, pw := range []string{"", "x", strings.Repeat("y", MaxBytes+1)} {
		DummyVerify(pw)
	}
}
