package password

import (
	"crypto/rand"
	"fmt"

	"golang.org/x/crypto/argon2"
)

// Hash hashes pw with argon2id and the default Params, with a fresh salt
// from crypto/rand, and returns the PHC string to store. It costs one argon2id
// derivation (about 19 MiB and tens of milliseconds).
//
// Hash enforces only the hard cap (ErrTooLong over MaxBytes) and refuses the
// empty password (ErrTooShort); check a new password with Policy.Validate
// first.
func Hash(pw string) (string, error) {
	return Params{}.Hash(pw)
}

// Hash is the package's Hash with p's parameters. It fails with
// ErrInvalidConfig when p.Validate does. Its cost grows with p.Memory ×
// p.Time.
func (p Params) Hash(pw string) (string, error) {
	p = p.withDefaults()
	if err := p.check(); err != nil {
		return "", err
	}
	if err := checkLength(pw); err != nil {
		return "", err
	}
	h := argon2Hash{memory: p.Memory, time: p.Time, threads: p.Threads, salt: make([]byte, p.SaltLen)}
	rand.Read(h.salt) // never returns an error; the program crashes if the OS has no randomness
	h.key = argon2.IDKey([]byte(pw), h.salt, h.time, h.memory, h.threads, p.KeyLen)
	return h.encode(), nil
}

// checkLength refuses the empty password and one over the hard cap.
func checkLength(pw string) error {
	if pw == "" {
		return fmt.Errorf("%w: empty", ErrTooShort)
	}
	if len(pw) > MaxBytes {
		return fmt.Errorf("%w: at most %d bytes", ErrTooLong, MaxBytes)
	}
	return nil
}
