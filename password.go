package session

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Password hashing (SECURITY.md S41-S45).
//
// New hashes are argon2id with the OWASP parameters below, written as a PHC
// string:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
//
// where salt and key are unpadded standard base64. bcrypt hashes ($2a$, $2b$,
// $2y$) made elsewhere — by Node's bcrypt, Rails' has_secure_password, PHP's
// password_hash — verify too, and VerifyPassword asks for them to be re-hashed,
// so users move to argon2id the next time they sign in.

// Argon2id parameters of every new hash (OWASP Password Storage Cheat Sheet).
// One hash or verification costs about 19 MiB of memory and, on a current
// x86-64 core, a few tens of milliseconds.
const (
	Argon2Memory  = 19456 // KiB
	Argon2Time    = 2     // passes over memory
	Argon2Threads = 1     // lanes
	Argon2SaltLen = 16    // bytes
	Argon2KeyLen  = 32    // bytes
)

// Password length limits. Lengths of rules are counted in characters (Unicode
// code points); the hard cap is in bytes because it bounds hashing work.
const (
	// MinPasswordLength is the shortest password ValidatePassword accepts
	// (NIST SP 800-63B-4 for a password used with a second factor).
	MinPasswordLength = 8
	// RecommendedMinPasswordLength is NIST's minimum for a password that is the
	// only factor. Use PasswordPolicy{MinLength: RecommendedMinPasswordLength}.
	RecommendedMinPasswordLength = 15
	// MaxPasswordBytes is the hard cap on a password's size, in bytes of UTF-8,
	// for hashing, verifying and validating alike: at least 256 characters of
	// any script. Longer input is rejected with ErrPasswordTooLong, never
	// truncated. bcrypt hashes have a lower limit, BcryptMaxPasswordBytes.
	MaxPasswordBytes = 1024
	// BcryptMaxPasswordBytes is bcrypt's own limit. Verifying a longer password
	// against a bcrypt hash fails with ErrPasswordTooLong, because bcrypt would
	// otherwise ignore everything after byte 72.
	BcryptMaxPasswordBytes = 72
	// BcryptMinCost is the lowest cost HashPasswordBcrypt accepts. Stored
	// hashes of lower cost still verify (and ask to be re-hashed).
	BcryptMinCost = 10
)

// Bounds on parameters read from a stored hash. A hash string is data, maybe
// from a leaked or tampered database; these keep one verification from
// allocating gigabytes or running for minutes.
const (
	maxArgon2Memory  = 256 * 1024 // KiB (256 MiB)
	maxArgon2Time    = 16
	maxArgon2Threads = 16
	minArgon2SaltLen = 8
	maxArgon2SaltLen = 64
	minArgon2KeyLen  = 16
	maxArgon2KeyLen  = 64
	maxBcryptCost    = 16 // 2^16 rounds, several seconds
	maxEncodedHash   = 512
)

// Errors of the password functions. Test them with errors.Is.
var (
	// ErrPasswordTooShort: shorter than the policy's minimum.
	ErrPasswordTooShort = errors.New("session: password too short")
	// ErrPasswordTooLong: over MaxPasswordBytes, or over 72 bytes for bcrypt.
	ErrPasswordTooLong = errors.New("session: password too long")
	// ErrPasswordInvalid: not valid UTF-8 (ValidatePassword only).
	ErrPasswordInvalid = errors.New("session: password is not valid UTF-8")
	// ErrMalformedHash: the stored hash is not a well-formed PHC argon2id or
	// bcrypt string.
	ErrMalformedHash = errors.New("session: malformed password hash")
	// ErrUnsupportedHash: the stored hash is well formed but uses an algorithm,
	// version or parameters this package does not verify (for example argon2i,
	// scrypt, or a memory cost above 256 MiB).
	ErrUnsupportedHash = errors.New("session: unsupported password hash")
	// ErrBcryptCost: HashPasswordBcrypt was asked for a cost below
	// BcryptMinCost or above the verification limit of 16.
	ErrBcryptCost = errors.New("session: bcrypt cost out of range")
)

// argon2Params is one argon2id hash, parsed.
type argon2Params struct {
	memory  uint32 // KiB
	time    uint32
	threads uint8
	salt    []byte
	key     []byte
}

var defaultArgon2 = argon2Params{memory: Argon2Memory, time: Argon2Time, threads: Argon2Threads}

// HashPassword hashes pw with argon2id (S41) and a fresh 16-byte salt from
// crypto/rand, and returns the PHC string to store. It costs one argon2id
// derivation (about 19 MiB and tens of milliseconds).
//
// It enforces only the hard cap (ErrPasswordTooLong) and refuses the empty
// password (ErrPasswordTooShort); check new passwords with ValidatePassword or
// a PasswordPolicy first.
func HashPassword(pw string) (string, error) {
	if err := checkHashable(pw); err != nil {
		return "", err
	}
	p := defaultArgon2
	p.salt = make([]byte, Argon2SaltLen)
	rand.Read(p.salt) // never returns an error; crashes the program if the OS has no randomness
	p.key = argon2.IDKey([]byte(pw), p.salt, p.time, p.memory, p.threads, Argon2KeyLen)
	return encodeArgon2(p), nil
}

// HashPasswordBcrypt hashes pw with bcrypt at the given cost, for systems that
// must share hashes with bcrypt-only software. Prefer HashPassword: bcrypt
// reads at most 72 bytes, so longer passwords are rejected with
// ErrPasswordTooLong (S43), and VerifyPassword always asks for bcrypt hashes
// to be re-hashed. Costs below BcryptMinCost (10) or above 16 fail with
// ErrBcryptCost. Cost c takes 2^c Blowfish key setups (about 50 ms at 10).
func HashPasswordBcrypt(pw string, cost int) (string, error) {
	if err := checkHashable(pw); err != nil {
		return "", err
	}
	if len(pw) > BcryptMaxPasswordBytes {
		return "", fmt.Errorf("%w: bcrypt reads at most %d bytes", ErrPasswordTooLong, BcryptMaxPasswordBytes)
	}
	if cost < BcryptMinCost || cost > maxBcryptCost {
		return "", fmt.Errorf("%w: %d not in [%d, %d]", ErrBcryptCost, cost, BcryptMinCost, maxBcryptCost)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	if err != nil {
		return "", fmt.Errorf("session: bcrypt: %w", err)
	}
	return string(h), nil
}

// VerifyPassword reports whether pw matches the stored hash encoded, an
// argon2id PHC string or a bcrypt hash. The comparison of derived keys is
// constant-time (S42).
//
// When the password matches, rehash reports that encoded is below the
// current policy — bcrypt, or argon2id with less memory, fewer passes, a
// shorter salt or a shorter key than HashPassword uses — and the caller
// should store HashPassword(pw) in its place. rehash is false when match is
// false.
//
// A wrong password is (false, false, nil). err is non-nil only when the check
// could not be made: pw over MaxPasswordBytes (or over 72 bytes against a
// bcrypt hash) is ErrPasswordTooLong; a hash that does not parse is
// ErrMalformedHash; an unknown algorithm or parameters beyond safe bounds is
// ErrUnsupportedHash. Treat every error as "invalid credentials" towards the
// client, and log the hash errors: they mean bad data in the user store.
//
// Cost: one derivation with the stored parameters, at most 256 MiB and 16
// passes for argon2id and cost 16 for bcrypt; about 19 MiB and tens of
// milliseconds for hashes made by HashPassword.
func VerifyPassword(pw, encoded string) (match, rehash bool, err error) {
	if len(pw) > MaxPasswordBytes {
		return false, false, ErrPasswordTooLong
	}
	switch {
	case strings.HasPrefix(encoded, "$argon2id$"):
		p, err := parseArgon2(encoded)
		if err != nil {
			return false, false, err
		}
		key := argon2.IDKey([]byte(pw), p.salt, p.time, p.memory, p.threads, uint32(len(p.key)))
		if subtle.ConstantTimeCompare(key, p.key) != 1 {
			return false, false, nil
		}
		return true, p.belowPolicy(), nil
	case isBcrypt(encoded):
		if _, err := parseBcrypt(encoded); err != nil {
			return false, false, err
		}
		if len(pw) > BcryptMaxPasswordBytes {
			// x/crypto would compare only the first 72 bytes, so a longer
			// password sharing that prefix would match (S43). Spend what a
			// verification costs, so the answer takes the usual time.
			DummyVerifyPassword(pw)
			return false, false, fmt.Errorf("%w: bcrypt reads at most %d bytes", ErrPasswordTooLong, BcryptMaxPasswordBytes)
		}
		switch err := bcrypt.CompareHashAndPassword([]byte(encoded), []byte(pw)); {
		case err == nil:
			return true, true, nil
		case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
			return false, false, nil
		default:
			return false, false, fmt.Errorf("%w: %v", ErrMalformedHash, err)
		}
	default:
		// "$id$...": some other algorithm (scrypt, pbkdf2, argon2i, $2x$).
		if len(encoded) > 1 && encoded[0] == '$' && strings.IndexByte(encoded[1:], '$') > 0 {
			return false, false, ErrUnsupportedHash
		}
		return false, false, ErrMalformedHash
	}
}

// dummySalt is a fixed salt for DummyVerifyPassword; its value is irrelevant.
var dummySalt = []byte("session-dummy-16")

// DummyVerifyPassword does the work of VerifyPassword against a hash made by
// HashPassword, and always fails. Call it when the user is unknown, so that
// "no such user" and "wrong password" take the same path and the same time
// and cannot be told apart (S45):
//
//	u, found := users.Lookup(name)
//	if !found {
//		session.DummyVerifyPassword(pw)
//		return errInvalidCredentials
//	}
//	ok, rehash, err := session.VerifyPassword(pw, u.Hash)
//
// Passwords over MaxPasswordBytes return at once, as VerifyPassword does.
// Cost: one argon2id derivation (about 19 MiB, tens of milliseconds).
func DummyVerifyPassword(pw string) {
	if len(pw) > MaxPasswordBytes {
		return
	}
	key := argon2.IDKey([]byte(pw), dummySalt, Argon2Time, Argon2Memory, Argon2Threads, Argon2KeyLen)
	var zero [Argon2KeyLen]byte
	subtle.ConstantTimeCompare(key, zero[:])
}

// PasswordPolicy holds the rules a new password must meet (S44). Rules count
// characters (Unicode code points), accept any Unicode, including spaces and
// emoji, and never truncate. Passwords are hashed byte for byte as given: an
// application that wants Unicode normalization (NFKC, as NIST suggests) applies
// it before validating, hashing and verifying.
type PasswordPolicy struct {
	// MinLength in characters. Values below MinPasswordLength (8) count as 8.
	MinLength int
}

// Validate checks pw against the policy: valid UTF-8 (ErrPasswordInvalid), at
// least MinLength characters (ErrPasswordTooShort), at most MaxPasswordBytes
// bytes (ErrPasswordTooLong). It costs one pass over pw.
func (p PasswordPolicy) Validate(pw string) error {
	min := max(p.MinLength, MinPasswordLength)
	if len(pw) > MaxPasswordBytes {
		return fmt.Errorf("%w: at most %d bytes", ErrPasswordTooLong, MaxPasswordBytes)
	}
	if !utf8.ValidString(pw) {
		return ErrPasswordInvalid
	}
	if utf8.RuneCountInString(pw) < min {
		return fmt.Errorf("%w: at least %d characters", ErrPasswordTooShort, min)
	}
	return nil
}

// ValidatePassword checks a new password against the minimum policy: at least
// MinPasswordLength (8) characters, at most MaxPasswordBytes (1024) bytes,
// valid UTF-8. Where the password is the only factor, prefer
// PasswordPolicy{MinLength: RecommendedMinPasswordLength}.Validate.
func ValidatePassword(pw string) error {
	return PasswordPolicy{MinLength: MinPasswordLength}.Validate(pw)
}

func checkHashable(pw string) error {
	if pw == "" {
		return fmt.Errorf("%w: empty", ErrPasswordTooShort)
	}
	if len(pw) > MaxPasswordBytes {
		return fmt.Errorf("%w: at most %d bytes", ErrPasswordTooLong, MaxPasswordBytes)
	}
	return nil
}

// belowPolicy reports whether a hash is weaker than what HashPassword makes.
func (p argon2Params) belowPolicy() bool {
	return p.memory < Argon2Memory || p.time < Argon2Time ||
		len(p.salt) < Argon2SaltLen || len(p.key) < Argon2KeyLen
}

var b64 = base64.RawStdEncoding.Strict()

var errB64Newline = errors.New("line break in base64")

// decodeB64 is b64.DecodeString without its tolerance of line breaks, so
// that only the canonical form of a hash parses.
func decodeB64(s string) ([]byte, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, errB64Newline
	}
	return b64.DecodeString(s)
}

func encodeArgon2(p argon2Params) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.memory, p.time, p.threads,
		b64.EncodeToString(p.salt), b64.EncodeToString(p.key))
}

// parseArgon2 parses "$argon2id$v=19$m=M,t=T,p=P$salt$key" in canonical form
// (parameters in this order, decimal without leading zeros, unpadded base64)
// and checks every parameter against the bounds above, so that a successful
// parse is always safe to run.
func parseArgon2(s string) (argon2Params, error) {
	var p argon2Params
	if len(s) > maxEncodedHash {
		return p, fmt.Errorf("%w: too long", ErrMalformedHash)
	}
	parts := strings.Split(s, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, key
	if len(parts) != 6 || parts[0] != "" {
		return p, fmt.Errorf("%w: want 5 $-separated fields", ErrMalformedHash)
	}
	if parts[1] != "argon2id" {
		return p, fmt.Errorf("%w: algorithm %q", ErrUnsupportedHash, parts[1])
	}
	v, ok := strings.CutPrefix(parts[2], "v=")
	if !ok {
		return p, fmt.Errorf("%w: missing version", ErrMalformedHash)
	}
	ver, err := parseDecimal(v)
	if err != nil {
		return p, fmt.Errorf("%w: version: %v", ErrMalformedHash, err)
	}
	if ver != argon2.Version {
		return p, fmt.Errorf("%w: argon2 version %d", ErrUnsupportedHash, ver)
	}
	fields := strings.Split(parts[3], ",")
	if len(fields) != 3 {
		return p, fmt.Errorf("%w: want m, t and p", ErrMalformedHash)
	}
	var vals [3]uint64
	for i, name := range [3]string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(fields[i], name)
		if !ok {
			return p, fmt.Errorf("%w: want parameter %q", ErrMalformedHash, name[:1])
		}
		if vals[i], err = parseDecimal(v); err != nil {
			return p, fmt.Errorf("%w: %s: %v", ErrMalformedHash, name[:1], err)
		}
	}
	m, t, th := vals[0], vals[1], vals[2]
	if th < 1 || th > maxArgon2Threads {
		return p, fmt.Errorf("%w: p=%d outside [1, %d]", ErrUnsupportedHash, th, maxArgon2Threads)
	}
	if m < 8*th || m > maxArgon2Memory {
		return p, fmt.Errorf("%w: m=%d outside [%d, %d]", ErrUnsupportedHash, m, 8*th, maxArgon2Memory)
	}
	if t < 1 || t > maxArgon2Time {
		return p, fmt.Errorf("%w: t=%d outside [1, %d]", ErrUnsupportedHash, t, maxArgon2Time)
	}
	p.memory, p.time, p.threads = uint32(m), uint32(t), uint8(th)
	if p.salt, err = decodeB64(parts[4]); err != nil {
		return p, fmt.Errorf("%w: salt: %v", ErrMalformedHash, err)
	}
	if p.key, err = decodeB64(parts[5]); err != nil {
		return p, fmt.Errorf("%w: key: %v", ErrMalformedHash, err)
	}
	if n := len(p.salt); n < minArgon2SaltLen || n > maxArgon2SaltLen {
		return p, fmt.Errorf("%w: salt of %d bytes outside [%d, %d]", ErrUnsupportedHash, n, minArgon2SaltLen, maxArgon2SaltLen)
	}
	if n := len(p.key); n < minArgon2KeyLen || n > maxArgon2KeyLen {
		return p, fmt.Errorf("%w: key of %d bytes outside [%d, %d]", ErrUnsupportedHash, n, minArgon2KeyLen, maxArgon2KeyLen)
	}
	return p, nil
}

// parseDecimal parses a canonical unsigned decimal: digits only, no sign, no
// leading zero, at most 10 digits.
func parseDecimal(s string) (uint64, error) {
	if s == "" || len(s) > 10 || (len(s) > 1 && s[0] == '0') {
		return 0, fmt.Errorf("bad number %q", s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("bad number %q", s)
		}
	}
	return strconv.ParseUint(s, 10, 64)
}

func isBcrypt(s string) bool {
	return strings.HasPrefix(s, "$2a$") || strings.HasPrefix(s, "$2b$") || strings.HasPrefix(s, "$2y$")
}

// bcryptAlphabet is bcrypt's own base64 alphabet.
const bcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// parseBcrypt checks the shape "$2b$CC$" + 53 characters of bcrypt base64 and
// returns the cost, refusing costs above maxBcryptCost before x/crypto runs.
func parseBcrypt(s string) (int, error) {
	if len(s) != 60 || !isBcrypt(s) || s[6] != '$' {
		return 0, fmt.Errorf("%w: want $2b$NN$ and 53 characters", ErrMalformedHash)
	}
	if s[4] < '0' || s[4] > '9' || s[5] < '0' || s[5] > '9' {
		return 0, fmt.Errorf("%w: bcrypt cost", ErrMalformedHash)
	}
	for i := 7; i < len(s); i++ {
		if !strings.ContainsRune(bcryptAlphabet, rune(s[i])) {
			return 0, fmt.Errorf("%w: bcrypt salt or hash", ErrMalformedHash)
		}
	}
	cost := int(s[4]-'0')*10 + int(s[5]-'0')
	if cost < bcrypt.MinCost || cost > maxBcryptCost {
		return 0, fmt.Errorf("%w: bcrypt cost %d outside [%d, %d]", ErrUnsupportedHash, cost, bcrypt.MinCost, maxBcryptCost)
	}
	return cost, nil
}
