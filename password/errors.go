package password

import (
	"errors"
	"fmt"
)

// Errors of this package. Test them with errors.Is: most are returned wrapped
// with a detail ("password: too short: at least 8 characters").
var (
	// ErrTooShort is returned by Policy.Validate for a password shorter than
	// the policy's minimum, and by Hash for the empty password.
	ErrTooShort = errors.New("password: too short")
	// ErrTooLong is returned for a password over MaxBytes (by every
	// function), over a Policy's MaxLength (by Policy.Validate), or over 72
	// bytes when verified against a bcrypt hash (by Verify).
	ErrTooLong = errors.New("password: too long")
	// ErrNotUTF8 is returned by Policy.Validate for a password that is not
	// valid UTF-8; Hash and Verify take any bytes.
	ErrNotUTF8 = errors.New("password: not valid UTF-8")
	// ErrInvalidHash is returned by Verify when the stored hash cannot be
	// checked: it is not a well-formed PHC argon2id or bcrypt string, or it
	// uses an algorithm, version or parameters this package does not verify
	// (argon2i, scrypt, a memory cost above 256 MiB, a bcrypt cost above
	// 16). It means bad data in the user store: log it, and answer
	// "invalid credentials".
	ErrInvalidHash = errors.New("password: invalid hash")
	// ErrInvalidConfig is returned, naming the field, by Params.Validate and
	// by the Params methods for Params outside the bounds Validate states.
	ErrInvalidConfig = errors.New("password: invalid config")
)

// What kind of ErrInvalidHash: a string that does not parse, or one that
// parses but asks for what this package does not run. The message says
// which; the package's tests tell them apart.
var (
	errMalformed   = errors.New("malformed")
	errUnsupported = errors.New("unsupported")
	errB64Newline  = errors.New("line break in base64")
)

// malformed returns an ErrInvalidHash for a hash that does not parse.
func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %w: %s", ErrInvalidHash, errMalformed, fmt.Sprintf(format, args...))
}

// unsupported returns an ErrInvalidHash for a hash that parses but that this
// package does not verify.
func unsupported(format string, args ...any) error {
	return fmt.Errorf("%w: %w: %s", ErrInvalidHash, errUnsupported, fmt.Sprintf(format, args...))
}
