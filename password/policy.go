package password

import (
	"fmt"
	"unicode/utf8"
)

// MaxBytes is the hard cap on a password's size in bytes, for validating,
// hashing and verifying alike: at least 256 characters of any script.
// Longer input is refused with ErrTooLong, never truncated. Lengths of
// Policy rules are counted in characters (Unicode code points); this cap is
// in bytes because it bounds hashing work.
const MaxBytes = 1024

// Length limits a Policy never goes past.
const (
	// minLength is the shortest password a Policy accepts, whatever its
	// MinLength says (NIST SP 800-63B-4's minimum for a password used with a
	// second factor).
	minLength = 8
	// minMaxLength is the lowest maximum a Policy enforces.
	minMaxLength = 64
	// bcryptMaxBytes is bcrypt's own limit. Verifying a longer password
	// against a bcrypt hash fails with ErrTooLong, because bcrypt would
	// otherwise ignore everything after byte 72.
	bcryptMaxBytes = 72
)

// Policy is the rule a new password must meet. Its zero value is the minimum
// policy: at least 8 characters, at most MaxBytes bytes. Rules count
// characters (Unicode code points), accept any Unicode, including spaces and
// emoji, and never truncate; no composition rules (NIST advises against
// them).
type Policy struct {
	// MinLength in characters. Values below 8 count as 8. NIST SP
	// 800-63B-4 asks for 15 when the password is the only factor, 8 when a
	// second factor goes with it.
	MinLength int
	// MaxLength in characters; 0 means only the MaxBytes cap. Values below
	// 64 count as 64.
	MaxLength int
}

// Validate checks pw against the policy: valid UTF-8 (ErrNotUTF8), at most
// MaxBytes bytes and MaxLength characters (ErrTooLong), at least MinLength
// characters (ErrTooShort). It costs one pass over pw.
func (p Policy) Validate(pw string) error {
	if len(pw) > MaxBytes {
		return fmt.Errorf("%w: at most %d bytes", ErrTooLong, MaxBytes)
	}
	if !utf8.ValidString(pw) {
		return ErrNotUTF8
	}
	n := utf8.RuneCountInString(pw)
	if min := p.min(); n < min {
		return fmt.Errorf("%w: at least %d characters", ErrTooShort, min)
	}
	if max := p.max(); max > 0 && n > max {
		return fmt.Errorf("%w: at most %d characters", ErrTooLong, max)
	}
	return nil
}

// min returns the minimum length Validate enforces, in characters: MinLength,
// raised to 8.
func (p Policy) min() int { return max(p.MinLength, minLength) }

// max returns the maximum length Validate enforces in characters, or 0 when
// only the MaxBytes cap applies.
func (p Policy) max() int {
	if p.MaxLength <= 0 {
		return 0
	}
	return max(p.MaxLength, minMaxLength)
}
