package password

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
)

// Public test vectors of the reference implementation (phc-winner-argon2,
// password "password", salt "somesalt").
const (
	refArgon2idM65536 = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
	refArgon2idM256   = "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"
	refArgon2iM65536  = "$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$wWKIMhR9lyDFvRz9YTZweHKfbftvj+qf+YFY4NeBbtA"
)

// hashWith makes an argon2id PHC string with arbitrary parameters, including
// ones Params refuses, for tests of re-hashing and of the parser.
func hashWith(pw string, m, t uint32, p uint8, saltLen, keyLen int) string {
	salt := make([]byte, saltLen)
	for i := range salt {
		salt[i] = byte(i + 1)
	}
	key := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(keyLen))
	return argon2Hash{memory: m, time: t, threads: p, salt: salt, key: key}.encode()
}

func TestParseArgon2RefusesMalformedAndUnsafeHashes(t *testing.T) {
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
		{"line break in key", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key[:5] + "\n" + key[5:], ErrMalformedHash},
		{"empty salt", "$argon2id$v=19$m=64,t=1,p=1$$" + key, ErrUnsupportedHash},
		{"4-byte salt", "$argon2id$v=19$m=64,t=1,p=1$AAAAAA$" + key, ErrUnsupportedHash},
		{"empty key", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$", ErrUnsupportedHash},
		{"trailing field", good + "$x", ErrMalformedHash},
		{"huge", good + strings.Repeat("A", 1000), ErrMalformedHash},
		{"argon2i", refArgon2iM65536, ErrUnsupportedHash},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := parseArgon2(tc.hash); !errors.Is(err, tc.err) {
				t.Fatalf("parseArgon2 err = %v, want %v", err, tc.err)
			}
		})
	}
	if _, err := parseArgon2(good); err != nil {
		t.Fatalf("control: %v", err)
	}
}

// FuzzParseArgon2 checks that no input makes the PHC parser panic, that
// whatever it accepts is within the bounds that make verification safe to
// run, and that it accepts only the canonical encoding (parse and encode
// round-trip).
func FuzzParseArgon2(f *testing.F) {
	for _, s := range []string{
		refArgon2idM65536, refArgon2idM256, refArgon2iM65536,
		"$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$m=4294967295,t=4294967295,p=255$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$m=,t=,p=$$", "$argon2id$$$$$", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parseArgon2(s)
		if err != nil {
			if !errors.Is(err, ErrMalformedHash) && !errors.Is(err, ErrUnsupportedHash) {
				t.Fatalf("error %v is neither ErrMalformedHash nor ErrUnsupportedHash", err)
			}
			return
		}
		if h.memory > maxMemory || h.memory < 8*uint32(h.threads) || h.time < 1 || h.time > maxTime ||
			h.threads < 1 || h.threads > maxThreads ||
			len(h.salt) < minStoredSaltLen || len(h.salt) > maxSaltLen ||
			len(h.key) < minStoredKeyLen || len(h.key) > maxKeyLen {
			t.Fatalf("accepted out-of-bounds params: m=%d t=%d p=%d salt=%d key=%d", h.memory, h.time, h.threads, len(h.salt), len(h.key))
		}
		if enc := h.encode(); enc != s {
			t.Fatalf("round trip: parsed %q, encodes as %q", s, enc)
		}
	})
}
