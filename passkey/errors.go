package passkey

import "errors"

// Errors of the package. Handlers answer with JSON error codes (see the
// README); these are the errors a caller or a Store implementation meets.
var (
	// ErrInvalidConfig: New was given a Config it cannot work with; the
	// error names the field.
	ErrInvalidConfig = errors.New("passkey: invalid config")
	// ErrNotFound: a Store has no such credential (for Rename and Delete:
	// none of that user's).
	ErrNotFound = errors.New("passkey: credential not found")
	// ErrExists: Store.Create was given a credential ID that is already
	// stored.
	ErrExists = errors.New("passkey: credential already exists")
	// ErrCounterRegression: an assertion carried a signature counter that
	// is not above the stored one (while one of them is not zero), a sign
	// that the authenticator may have been cloned. Store.Use returns it and
	// records nothing; the Handler refuses the sign-in or step-up and logs
	// it.
	ErrCounterRegression = errors.New("passkey: signature counter did not increase")
)
