package password

import (
	"crypto/subtle"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Verify reports whether pw matches the stored hash encoded, an argon2id PHC
// string or a bcrypt hash, holding it to the default Params. The comparison
// of derived keys is constant-time.
//
// When the password matches, needsRehash reports that encoded is below the
// default Params (any bcrypt hash; argon2id with less memory, fewer passes,
// a shorter salt or a shorter key) and the caller should store Hash(pw) in
// its place. A hash made by Hash never needs a rehash. needsRehash is false when
// match is false.
//
// A wrong password is (false, false, nil). err is non-nil only when the check
// could not be made: pw over MaxBytes (or over 72 bytes against a bcrypt
// hash) is ErrTooLong; a hash that does not parse, or uses an unknown
// algorithm or parameters beyond safe bounds, is ErrInvalidHash. Answer
// every error as "invalid credentials" and log ErrInvalidHash: it means bad
// data in the user store.
//
// Cost: one derivation with the stored parameters, bounded at 256 MiB and 16
// passes for argon2id and cost 16 for bcrypt; about 19 MiB and tens of
// milliseconds for hashes made by Hash.
func Verify(pw, encoded string) (match, needsRehash bool, err error) {
	return Params{}.Verify(pw, encoded)
}

// Verify is the package's Verify holding encoded to p instead of the
// defaults: needsRehash is set for argon2id hashes below p, so raising p's
// Memory or Time upgrades stored hashes at sign-in. A hash made by p.Hash
// never needs a rehash under p. It fails with ErrInvalidConfig when
// p.Validate does.
func (p Params) Verify(pw, encoded string) (match, needsRehash bool, err error) {
	p = p.withDefaults()
	if err := p.check(); err != nil {
		return false, false, err
	}
	if len(pw) > MaxBytes {
		return false, false, ErrTooLong
	}
	switch {
	case strings.HasPrefix(encoded, "$argon2id$"):
		h, err := parseArgon2(encoded)
		if err != nil {
			return false, false, err
		}
		key := argon2.IDKey([]byte(pw), h.salt, h.time, h.memory, h.threads, uint32(len(h.key)))
		if subtle.ConstantTimeCompare(key, h.key) != 1 {
			return false, false, nil
		}
		return true, p.below(h), nil
	case isBcrypt(encoded):
		match, err := verifyBcrypt(pw, encoded, p)
		// Every bcrypt hash is below policy: this package hashes with
		// argon2id only.
		return match, match, err
	default:
		// "$id$...": some other algorithm (scrypt, pbkdf2, argon2i, $2x$).
		if len(encoded) > 1 && encoded[0] == '$' && strings.IndexByte(encoded[1:], '$') > 0 {
			return false, false, unsupported("neither argon2id nor bcrypt")
		}
		return false, false, malformed("not a PHC or bcrypt string")
	}
}

// dummySalt is the fixed salt of DummyVerify; its value is irrelevant.
var dummySalt [maxSaltLen]byte

// DummyVerify does the work of Verify against a hash made by Hash, and
// always fails. Call it when the user is unknown, so that "no such user" and
// "wrong password" take the same path and the same time and cannot be told
// apart. Passwords over MaxBytes return at once, as Verify does. Cost: one
// argon2id derivation with the default Params.
func DummyVerify(pw string) {
	Params{}.DummyVerify(pw)
}

// DummyVerify is the package's DummyVerify with p's cost, for applications
// that hash with p. An invalid p costs what the default Params do.
func (p Params) DummyVerify(pw string) {
	if len(pw) > MaxBytes {
		return
	}
	p = p.withDefaults()
	if p.check() != nil {
		p = Params{}.withDefaults()
	}
	key := argon2.IDKey([]byte(pw), dummySalt[:p.SaltLen], p.Time, p.Memory, p.Threads, p.KeyLen)
	var zero [maxKeyLen]byte
	subtle.ConstantTimeCompare(key, zero[:len(key)])
}
