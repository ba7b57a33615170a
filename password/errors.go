package password

import "errors"

// Errors of this package. Test them with errors.Is: most are returned wrapped
// with a detail ("password: too short: at least 8 characters").
var (
	// ErrTooShort: shorter than the policy's minimum, or empty.
	ErrTooShort = errors.New("password: too short")
	// ErrTooLong: over MaxBytes, over a Policy's MaxLength, or over
	// BcryptMaxBytes when verified against a bcrypt hash.
	ErrTooLong = errors.New("password: too long")
	// ErrNotUTF8: the password is not valid UTF-8 (Policy.Validate only;
	// Hash and Verify take any bytes).
	ErrNotUTF8 = errors.New("password: not valid UTF-8")
	// ErrMalformedHash: the stored hash is not a well-formed PHC argon2id or
	// bcrypt string.
	ErrMalformedHash = errors.New("password: malformed hash")
	// ErrUnsupportedHash: the stored hash is well formed but uses an
	// algorithm, version or parameters this package does not verify (argon2i,
	// scrypt, a memory cost above 256 MiB, a bcrypt cost above 16).
	ErrUnsupportedHash = errors.New("password: unsupported hash")
	// ErrInvalidParams: a Params outside the bounds Params.Validate states.
	ErrInvalidParams = errors.New("password: invalid parameters")
)
