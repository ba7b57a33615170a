package password

import "fmt"

// Params are the argon2id parameters of new hashes, and the bar Verify holds
// stored hashes to. A zero field takes its default; the zero Params are the
// ones Hash, Verify and DummyVerify use: OWASP's argon2id recommendation,
// m=19456 KiB, t=2, p=1, a 16-byte salt and a 32-byte key.
type Params struct {
	// Memory in KiB. 0 means 19456 (19 MiB).
	Memory uint32
	// Time is the number of passes over memory. 0 means 2.
	Time uint32
	// Threads is the number of lanes. 0 means 1.
	Threads uint8
	// SaltLen is the length of the random salt in bytes. 0 means 16.
	SaltLen uint32
	// KeyLen is the length of the derived key in bytes. 0 means 32.
	KeyLen uint32
}

// withDefaults returns p with its zero fields set to their defaults.
func (p Params) withDefaults() Params {
	if p.Memory == 0 {
		p.Memory = 19456
	}
	if p.Time == 0 {
		p.Time = 2
	}
	if p.Threads == 0 {
		p.Threads = 1
	}
	if p.SaltLen == 0 {
		p.SaltLen = 16
	}
	if p.KeyLen == 0 {
		p.KeyLen = 32
	}
	return p
}

// Bounds on Params of new hashes. The floor is the weakest configuration in
// OWASP's argon2id list (7 MiB and 5 passes, or the same memory×passes with
// more memory); the ceiling is what Verify accepts from a stored hash, so
// every hash Params can make verifies.
const (
	minMemory     = 7168       // KiB
	minMemoryTime = 7168 * 5   // KiB × passes
	minSaltLen    = 16         // bytes, new hashes
	minKeyLen     = 32         // bytes, new hashes
	maxMemory     = 256 * 1024 // KiB (256 MiB), new and stored hashes
	maxTime       = 16         // passes, new and stored hashes
	maxThreads    = 16         // lanes, new and stored hashes
	maxSaltLen    = 64         // bytes, new and stored hashes
	maxKeyLen     = 64         // bytes, new and stored hashes
)

// Validate reports whether p, its zero fields at their defaults, can make
// new hashes: Memory at least 7168 KiB and at most 256 MiB, Time 1 to 16
// with Memory×Time at least 35840 (OWASP's weakest recommended setting),
// Threads 1 to 16, SaltLen 16 to 64, KeyLen 32 to 64. The error wraps
// ErrInvalidConfig and names the field. Hash and Verify make the same check
// on every call; Validate is for checking a configuration at start-up.
func (p Params) Validate() error {
	return p.withDefaults().check()
}

// check is Validate for p with its defaults already set.
func (p Params) check() error {
	switch {
	case p.Threads < 1 || p.Threads > maxThreads:
		return fmt.Errorf("%w: Threads %d not in [1, %d]", ErrInvalidConfig, p.Threads, maxThreads)
	case p.Memory < minMemory || p.Memory > maxMemory:
		return fmt.Errorf("%w: Memory %d KiB not in [%d, %d]", ErrInvalidConfig, p.Memory, minMemory, maxMemory)
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("%w: Time %d not in [1, %d]", ErrInvalidConfig, p.Time, maxTime)
	case uint64(p.Memory)*uint64(p.Time) < minMemoryTime:
		return fmt.Errorf("%w: Memory×Time %d below %d", ErrInvalidConfig, uint64(p.Memory)*uint64(p.Time), minMemoryTime)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("%w: SaltLen %d not in [%d, %d]", ErrInvalidConfig, p.SaltLen, minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("%w: KeyLen %d not in [%d, %d]", ErrInvalidConfig, p.KeyLen, minKeyLen, maxKeyLen)
	}
	return nil
}

// below reports whether a stored argon2id hash is weaker than what p (with
// its defaults set) makes:
// less memory, fewer passes, a shorter salt or a shorter key. More lanes or
// more of anything is not below.
func (p Params) below(h argon2Hash) bool {
	return h.memory < p.Memory || h.time < p.Time ||
		uint32(len(h.salt)) < p.SaltLen || uint32(len(h.key)) < p.KeyLen
}
