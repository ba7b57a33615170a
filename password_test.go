package session

import (
	"errors"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Public test vectors. The argon2id ones are the reference implementation's
// (phc-winner-argon2, password "password", salt "somesalt"); the bcrypt one is
// x/crypto's known answer for "allmine".
const (
	refArgon2idM65536 = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
	refArgon2idM256   = "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"
	refArgon2iM65536  = "$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$wWKIMhR9lyDFvRz9YTZweHKfbftvj+qf+YFY4NeBbtA"
	refBcryptAllmine  = "$2a$10$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga"
)

// hashWith makes an argon2id PHC string with arbitrary parameters, for tests
// of re-hashing and of the parser.
func hashWith(pw string, m, t uint32, p uint8, saltLen, keyLen int) string {
	salt := make([]byte, saltLen)
	for i := range salt {
		salt[i] = byte(i + 1)
	}
	key := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(keyLen))
	return encodeArgon2(argon2Params{memory: m, time: t, threads: p, salt: salt, key: key})
}

func TestS41_HashPasswordIsArgon2idPHC(t *testing.T) {
	t.Parallel()
	h1, err := HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !re.MatchString(h1) {
		t.Fatalf("hash %q is not a PHC argon2id string with the S41 parameters", h1)
	}
	p, err := parseArgon2(h1)
	if err != nil {
		t.Fatal(err)
	}
	if p.memory != 19456 || p.time != 2 || p.threads != 1 || len(p.salt) != 16 || len(p.key) != 32 {
		t.Fatalf("params m=%d t=%d p=%d salt=%d key=%d", p.memory, p.time, p.threads, len(p.salt), len(p.key))
	}
	h2, err := HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if h1 == h2 {
		t.Fatal("two hashes of one password are equal: salt is not random")
	}
	for _, h := range []string{h1, h2} {
		match, rehash, err := VerifyPassword("correct horse battery staple", h)
		if !match || rehash || err != nil {
			t.Fatalf("VerifyPassword(right) = %v, %v, %v; want true, false, nil", match, rehash, err)
		}
	}
}

func TestS41_VerifiesReferenceVectors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, pw, hash string
		match, rehash  bool
		err            error
	}{
		// Stronger memory than policy, but an 8-byte salt: below policy.
		{"m65536 right", "password", refArgon2idM65536, true, true, nil},
		{"m65536 wrong", "passworD", refArgon2idM65536, false, false, nil},
		{"m256 right", "password", refArgon2idM256, true, true, nil},
		{"m256 wrong", "password ", refArgon2idM256, false, false, nil},
		{"argon2i is not verified", "password", refArgon2iM65536, false, false, ErrUnsupportedHash},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			match, rehash, err := VerifyPassword(tc.pw, tc.hash)
			if match != tc.match || rehash != tc.rehash || !errors.Is(err, tc.err) {
				t.Fatalf("VerifyPassword = %v, %v, %v; want %v, %v, %v", match, rehash, err, tc.match, tc.rehash, tc.err)
			}
		})
	}
}

func TestS42_RehashWhenBelowPolicy(t *testing.T) {
	t.Parallel()
	const pw = "hunter2hunter2"
	bc, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		hash   string
		rehash bool
	}{
		{"policy", hashWith(pw, 19456, 2, 1, 16, 32), false},
		{"more memory", hashWith(pw, 24576, 2, 1, 16, 32), false},
		{"more passes", hashWith(pw, 19456, 3, 1, 16, 32), false},
		{"two lanes", hashWith(pw, 19456, 2, 2, 16, 32), false},
		{"longer salt and key", hashWith(pw, 19456, 2, 1, 32, 64), false},
		{"less memory", hashWith(pw, 8192, 2, 1, 16, 32), true},
		{"one pass", hashWith(pw, 19456, 1, 1, 16, 32), true},
		{"short salt", hashWith(pw, 19456, 2, 1, 8, 32), true},
		{"short key", hashWith(pw, 19456, 2, 1, 16, 16), true},
		{"bcrypt", string(bc), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			match, rehash, err := VerifyPassword(pw, tc.hash)
			if err != nil || !match || rehash != tc.rehash {
				t.Fatalf("right password: %v, %v, %v; want true, %v, nil", match, rehash, err, tc.rehash)
			}
			match, rehash, err = VerifyPassword(pw+"x", tc.hash)
			if err != nil || match || rehash {
				t.Fatalf("wrong password: %v, %v, %v; want false, false, nil", match, rehash, err)
			}
			// The upgrade a login handler makes: the new hash needs nothing more.
			if tc.rehash {
				nh, err := HashPassword(pw)
				if err != nil {
					t.Fatal(err)
				}
				if match, rehash, err := VerifyPassword(pw, nh); !match || rehash || err != nil {
					t.Fatalf("upgraded hash: %v, %v, %v", match, rehash, err)
				}
			}
		})
	}
}

func TestS42_KeyCompareCoversEveryByte(t *testing.T) {
	t.Parallel()
	// A verifier that compared a prefix, or stopped at the first equal byte,
	// would accept one of these tampered keys.
	good := hashWith("password", 64, 1, 1, 16, 32)
	p, err := parseArgon2(good)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 15, 31} {
		q := p
		q.key = append([]byte(nil), p.key...)
		q.key[i] ^= 1
		match, _, err := VerifyPassword("password", encodeArgon2(q))
		if match || err != nil {
			t.Fatalf("key byte %d flipped: match=%v err=%v", i, match, err)
		}
	}
	if match, _, err := VerifyPassword("password", good); !match || err != nil {
		t.Fatalf("untampered: %v, %v", match, err)
	}
}

func TestS43_BcryptVerifies(t *testing.T) {
	t.Parallel()
	if match, rehash, err := VerifyPassword("allmine", refBcryptAllmine); !match || !rehash || err != nil {
		t.Fatalf("known bcrypt vector: %v, %v, %v; want true, true, nil", match, rehash, err)
	}
	b, err := bcrypt.GenerateFromPassword([]byte("s3cret password"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	// $2a$, $2b$ and $2y$ are the same algorithm for passwords under 255 bytes.
	for _, prefix := range []string{"$2a$", "$2b$", "$2y$"} {
		h := prefix + string(b[4:])
		if match, rehash, err := VerifyPassword("s3cret password", h); !match || !rehash || err != nil {
			t.Errorf("%s right: %v, %v, %v", prefix, match, rehash, err)
		}
		if match, rehash, err := VerifyPassword("s3cret passworD", h); match || rehash || err != nil {
			t.Errorf("%s wrong: %v, %v, %v", prefix, match, rehash, err)
		}
	}
	for _, prefix := range []string{"$2x$", "$2$"} {
		h := prefix + string(b[4:])
		if match, _, err := VerifyPassword("s3cret password", h); match || err == nil {
			t.Errorf("%s: match=%v err=%v, want an error", prefix, match, err)
		}
	}
}

func TestS43_BcryptRejectsOver72Bytes(t *testing.T) {
	t.Parallel()
	pw72 := strings.Repeat("a", 72)
	pw73 := pw72 + "b"
	if _, err := HashPasswordBcrypt(pw73, BcryptMinCost); !errors.Is(err, ErrPasswordTooLong) {
		t.Fatalf("HashPasswordBcrypt(73 bytes) err = %v, want ErrPasswordTooLong", err)
	}
	// Multi-byte characters count in bytes: 19 four-byte runes are 76 bytes.
	if _, err := HashPasswordBcrypt(strings.Repeat("🔑", 19), BcryptMinCost); !errors.Is(err, ErrPasswordTooLong) {
		t.Fatalf("HashPasswordBcrypt(76-byte emoji) err = %v, want ErrPasswordTooLong", err)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw72), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if match, _, err := VerifyPassword(pw72, string(h)); !match || err != nil {
		t.Fatalf("72 bytes: %v, %v", match, err)
	}
	// bcrypt alone would ignore byte 73 and accept this password.
	match, rehash, err := VerifyPassword(pw73, string(h))
	if match || rehash || !errors.Is(err, ErrPasswordTooLong) {
		t.Fatalf("73 bytes sharing the 72-byte prefix: %v, %v, %v; want false, false, ErrPasswordTooLong", match, rehash, err)
	}
}

func TestS43_BcryptCost(t *testing.T) {
	t.Parallel()
	for _, cost := range []int{0, 4, 9, 17, 31} {
		if _, err := HashPasswordBcrypt("password1", cost); !errors.Is(err, ErrBcryptCost) {
			t.Errorf("cost %d: err = %v, want ErrBcryptCost", cost, err)
		}
	}
	h, err := HashPasswordBcrypt("password1", BcryptMinCost)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := bcrypt.Cost([]byte(h)); err != nil || c != BcryptMinCost {
		t.Fatalf("cost = %d, %v", c, err)
	}
	if match, rehash, err := VerifyPassword("password1", h); !match || !rehash || err != nil {
		t.Fatalf("verify: %v, %v, %v", match, rehash, err)
	}
	// A hostile stored hash with a huge cost is refused before any work (a
	// cost-31 bcrypt would run for days, and this test would time out).
	huge := "$2b$31$" + h[7:]
	if _, _, err := VerifyPassword("password1", huge); !errors.Is(err, ErrUnsupportedHash) {
		t.Fatalf("cost 31: err = %v, want ErrUnsupportedHash", err)
	}
}

func TestS44_PasswordPolicy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		pw   string
		min  int
		err  error
	}{
		{"empty", "", 0, ErrPasswordTooShort},
		{"7 chars", "abcdefg", 0, ErrPasswordTooShort},
		{"8 chars", "abcdefgh", 0, nil},
		{"8 spaces", "        ", 0, nil},
		// Characters, not bytes: 7 emoji are 28 bytes but 7 characters.
		{"7 emoji", strings.Repeat("🔑", 7), 0, ErrPasswordTooShort},
		{"8 emoji", strings.Repeat("🔑", 8), 0, nil},
		{"8 CJK", "密码密码密码密码", 0, nil},
		{"Cyrillic and accents", "пароль-é-ü", 0, nil},
		{"64 chars", strings.Repeat("x", 64), 0, nil},
		{"256 four-byte chars = 1024 bytes", strings.Repeat("🔑", 256), 0, nil},
		{"1024 bytes", strings.Repeat("y", MaxPasswordBytes), 0, nil},
		{"1025 bytes", strings.Repeat("y", MaxPasswordBytes+1), 0, ErrPasswordTooLong},
		{"invalid UTF-8", "abcdefgh\xff", 0, ErrPasswordInvalid},
		{"min below floor is the floor", "abcdefg", 3, ErrPasswordTooShort},
		{"recommended 14", strings.Repeat("z", 14), RecommendedMinPasswordLength, ErrPasswordTooShort},
		{"recommended 15", strings.Repeat("z", 15), RecommendedMinPasswordLength, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var err error
			if tc.min == 0 {
				err = ValidatePassword(tc.pw)
			} else {
				err = PasswordPolicy{MinLength: tc.min}.Validate(tc.pw)
			}
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
		})
	}
}

func TestS44_HardCapAndNoTruncation(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("p", MaxPasswordBytes)
	if _, err := HashPassword(long + "!"); !errors.Is(err, ErrPasswordTooLong) {
		t.Fatalf("HashPassword(1025 bytes) err = %v", err)
	}
	if _, err := HashPassword(""); !errors.Is(err, ErrPasswordTooShort) {
		t.Fatalf("HashPassword(\"\") err = %v", err)
	}
	h, err := HashPassword(long)
	if err != nil {
		t.Fatal(err)
	}
	if match, _, err := VerifyPassword(long, h); !match || err != nil {
		t.Fatalf("1024 bytes: %v, %v", match, err)
	}
	// Differs only in the last byte: every byte counts.
	if match, _, err := VerifyPassword(long[:MaxPasswordBytes-1]+"q", h); match || err != nil {
		t.Fatalf("last byte changed: %v, %v", match, err)
	}
	if match, _, err := VerifyPassword(long[:MaxPasswordBytes-1], h); match || err != nil {
		t.Fatalf("last byte dropped: %v, %v", match, err)
	}
	if match, _, err := VerifyPassword(long+"p", h); match || !errors.Is(err, ErrPasswordTooLong) {
		t.Fatalf("1025 bytes: %v, %v", match, err)
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
// upwards only, so the lower bounds below stay sound either way.
func TestS45_DummyVerifyCostsAVerification(t *testing.T) {
	h, err := HashPassword("the real password")
	if err != nil {
		t.Fatal(err)
	}
	const argonBytes = Argon2Memory * 1024
	real := allocated(func() { VerifyPassword("a wrong password", h) })
	dummy := allocated(func() { DummyVerifyPassword("a wrong password") })
	if real < argonBytes || dummy < argonBytes {
		t.Fatalf("allocated real=%d dummy=%d, want both >= %d (one argon2id pass over 19 MiB)", real, dummy, argonBytes)
	}
	// bcrypt's 72-byte refusal also spends an argon2id verification, so a
	// long password does not reveal which users still have a bcrypt hash.
	b, err := bcrypt.GenerateFromPassword([]byte("x"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	long := allocated(func() { VerifyPassword(strings.Repeat("z", 100), string(b)) })
	if long < argonBytes {
		t.Fatalf("bcrypt over-long refusal allocated %d, want >= %d", long, argonBytes)
	}
}

func TestS45_DummyVerifyNeverPanics(t *testing.T) {
	t.Parallel()
	for _, pw := range []string{"", "x", strings.Repeat("y", MaxPasswordBytes+1)} {
		DummyVerifyPassword(pw)
	}
}

func TestMalformedHashesAreErrors(t *testing.T) {
	t.Parallel()
	good := hashWith("pw", 64, 1, 1, 16, 32)
	i := strings.LastIndexByte(good, '$')
	salt, key := good[strings.LastIndexByte(good[:i], '$')+1:i], good[i+1:]
	tests := []struct {
		name string
		hash string
		err  error
	}{
		{"empty", "", ErrMalformedHash},
		{"plain text", "password", ErrMalformedHash},
		{"dollar", "$", ErrMalformedHash},
		{"argon2id only", "$argon2id$", ErrMalformedHash},
		{"no version", "$argon2id$m=64,t=1,p=1$" + salt + "$" + key, ErrMalformedHash},
		{"version 16", "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key, ErrUnsupportedHash},
		{"params out of order", "$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key, ErrMalformedHash},
		{"missing p", "$argon2id$v=19$m=64,t=1$" + salt + "$" + key, ErrMalformedHash},
		{"extra param", "$argon2id$v=19$m=64,t=1,p=1,k=1$" + salt + "$" + key, ErrMalformedHash},
		{"leading zero", "$argon2id$v=19$m=064,t=1,p=1$" + salt + "$" + key, ErrMalformedHash},
		{"negative", "$argon2id$v=19$m=-64,t=1,p=1$" + salt + "$" + key, ErrMalformedHash},
		{"plus sign", "$argon2id$v=19$m=+64,t=1,p=1$" + salt + "$" + key, ErrMalformedHash},
		{"overflow", "$argon2id$v=19$m=99999999999999999999,t=1,p=1$" + salt + "$" + key, ErrMalformedHash},
		{"t=0", "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key, ErrUnsupportedHash},
		{"p=0", "$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key, ErrUnsupportedHash},
		{"p=256", "$argon2id$v=19$m=4096,t=1,p=256$" + salt + "$" + key, ErrUnsupportedHash},
		{"m below 8p", "$argon2id$v=19$m=15,t=1,p=2$" + salt + "$" + key, ErrUnsupportedHash},
		{"4 GiB memory", "$argon2id$v=19$m=4194304,t=1,p=1$" + salt + "$" + key, ErrUnsupportedHash},
		{"1000 passes", "$argon2id$v=19$m=64,t=1000,p=1$" + salt + "$" + key, ErrUnsupportedHash},
		{"padded base64", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key, ErrMalformedHash},
		{"url base64", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + strings.NewReplacer("+", "-", "/", "_").Replace(key) + "-_", ErrMalformedHash},
		{"empty salt", "$argon2id$v=19$m=64,t=1,p=1$$" + key, ErrUnsupportedHash},
		{"4-byte salt", "$argon2id$v=19$m=64,t=1,p=1$AAAAAA$" + key, ErrUnsupportedHash},
		{"empty key", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$", ErrUnsupportedHash},
		{"trailing field", good + "$x", ErrMalformedHash},
		{"huge", good + strings.Repeat("A", 1000), ErrMalformedHash},
		{"scrypt", "$scrypt$ln=16,r=8,p=1$c2FsdA$aGFzaA", ErrUnsupportedHash},
		{"bcrypt short", "$2b$10$abc", ErrMalformedHash},
		{"bcrypt bad cost", "$2b$1x$" + strings.Repeat("a", 53), ErrMalformedHash},
		{"bcrypt cost 3", "$2b$03$" + strings.Repeat("a", 53), ErrUnsupportedHash},
		{"bcrypt bad alphabet", "$2b$10$" + strings.Repeat("+", 53), ErrMalformedHash},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			match, rehash, err := VerifyPassword("pw", tc.hash)
			if match || rehash || !errors.Is(err, tc.err) {
				t.Fatalf("VerifyPassword = %v, %v, %v; want false, false, %v", match, rehash, err, tc.err)
			}
		})
	}
	if match, _, err := VerifyPassword("pw", good); !match || err != nil {
		t.Fatalf("control: %v, %v", match, err)
	}
}

// FuzzParsePHC checks that no input makes the parser panic, that whatever it
// accepts is within the bounds that make verification safe to run, and that
// it accepts only the canonical encoding (so parse and encode round-trip).
func FuzzParsePHC(f *testing.F) {
	for _, s := range []string{
		refArgon2idM65536, refArgon2idM256, refArgon2iM65536,
		"$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$m=4294967295,t=4294967295,p=255$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$m=,t=,p=$$", "$argon2id$$$$$", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parseArgon2(s)
		if err != nil {
			if !errors.Is(err, ErrMalformedHash) && !errors.Is(err, ErrUnsupportedHash) {
				t.Fatalf("error %v is neither ErrMalformedHash nor ErrUnsupportedHash", err)
			}
			return
		}
		if p.memory > maxArgon2Memory || p.memory < 8*uint32(p.threads) || p.time < 1 || p.time > maxArgon2Time ||
			p.threads < 1 || p.threads > maxArgon2Threads ||
			len(p.salt) < minArgon2SaltLen || len(p.salt) > maxArgon2SaltLen ||
			len(p.key) < minArgon2KeyLen || len(p.key) > maxArgon2KeyLen {
			t.Fatalf("accepted out-of-bounds params: m=%d t=%d p=%d salt=%d key=%d", p.memory, p.time, p.threads, len(p.salt), len(p.key))
		}
		if enc := encodeArgon2(p); enc != s {
			t.Fatalf("round trip: parsed %q, encodes as %q", s, enc)
		}
	})
}

// FuzzVerifyPasswordHashShape feeds arbitrary stored hashes to VerifyPassword
// with the KDF work kept cheap: inputs whose parameters would be expensive are
// only parsed. Nothing may panic, and every failure is one of our errors.
func FuzzVerifyPasswordHashShape(f *testing.F) {
	for _, s := range []string{refBcryptAllmine, refArgon2idM256, "$2b$04$" + strings.Repeat(".", 53), "$2y$", "$x$y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if p, err := parseArgon2(s); err == nil && uint64(p.memory)*uint64(p.time) > 4096 {
			return
		}
		if c, err := parseBcrypt(s); err == nil && c > 5 {
			return
		}
		_, _, err := VerifyPassword("password", s)
		if err != nil && !errors.Is(err, ErrMalformedHash) && !errors.Is(err, ErrUnsupportedHash) {
			t.Fatalf("VerifyPassword(%q) error %v is not ours", s, err)
		}
	})
}

// Found by FuzzParsePHC: encoding/base64 skips line breaks even in strict
// mode, so a hash with one parsed to the same bytes as the canonical form.
func TestVerifyPasswordRejectsLineBreaksInHash(t *testing.T) {
	t.Parallel()
	good, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	i := strings.LastIndexByte(good, '$') + 5
	for _, brk := range []string{"\n", "\r", "\r\n"} {
		bad := good[:i] + brk + good[i:]
		if ok, _, err := VerifyPassword("correct horse battery", bad); ok || !errors.Is(err, ErrMalformedHash) {
			t.Fatalf("hash with %q: match %v, err %v; want ErrMalformedHash", brk, ok, err)
		}
	}
}
