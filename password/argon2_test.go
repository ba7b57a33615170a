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
		{"empty", "", errMalformed},
		{"argon2id only", "$argon2id$", errMalformed},
		{"no version", "$argon2id$m=64,t=1,p=1$" + salt + "$" + key, errMalformed},
		{"version 16", "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key, errUnsupported},
		{"params out of order", "$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key, errMalformed},
		{"missing p", "$argon2id$v=19$m=64,t=1$" + salt + "$" + key, errMalformed},
		{"extra param", "$argon2id$v=19$m=64,t=1,p=1,k=1$" + salt + "$" + key, errMalformed},
		{"leading zero", "$argon2id$v=19$m=064,t=1,p=1$" + salt + "$" + key, errMalformed},
		{"negative", "$argon2id$v=19$m=-64,t=1,p=1$" + salt + "$" + key, errMalformed},
		{"plus sign", "$argon2id$v=19$m=+64,t=1,p=1$" + salt + "$" + key, errMalformed},
		{"overflow", "$argon2id$v=19$m=99999999999999999999,t=1,p=1$" + salt + "$" + key, errMalformed},
		{"t=0", "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key, errUnsupported},
		{"p=0", "$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key, errUnsupported},
		{"p=256", "$argon2id$v=19$m=4096,t=1,p=256$" + salt + "$" + key, errUnsupported},
		{"m below 8p", "$argon2id$v=19$m=15,t=1,p=2$" + salt + "$" + key, errUnsupported},
		{"4 GiB memory", "$argon2id$v=19$m=4194304,t=1,p=1$" + salt + "$" + key, errUnsupported},
		{"1000 passes", "$argon2id$v=19$m=64,t=1000,p=1$" + salt + "$" + key, errUnsupported},
		{"padded base64", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key, errMalformed},
		{"url base64", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + strings.NewReplacer("+", "-", "/", "_").Replace(key) + "-_", errMalformed},
		{"line break in key", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key[:5] + "\n" + key[5:], errMalformed},
		{"empty salt", "$argon2id$v=19$m=64,t=1,p=1$$" + key, errUnsupported},
		{"4-byte salt", "$argon2id$v=19$m=64,t=1,p=1$AAAAAA$" + key, errUnsupported},
		{"empty key", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$", errUnsupported},
		{"trailing field", good + "$x", errMalformed},
		{"huge", good + strings.Repeat("A", 1000), errMalformed},
		{"argon2i", refArgon2iM65536, errUnsupported},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := parseArgon2(tc.hash); !errors.Is(err, tc.err) || !errors.Is(err, ErrInvalidHash) {
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
			if !errors.Is(err, ErrInvalidHash) {
				t.Fatalf("error %v is not ErrInvalidHash", err)
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
