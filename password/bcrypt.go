package password

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// bcrypt hashes are verified, never made: see the package documentation.
const (
	// minBcryptCost is the lowest cost a stored bcrypt hash may have
	// (bcrypt's own minimum). Hashes below cost 10 verify like the others
	// and, like them, ask to be re-hashed to argon2id.
	minBcryptCost = bcrypt.MinCost
	// maxBcryptCost bounds the work a stored hash can demand: 2^16 key
	// setups, several seconds.
	maxBcryptCost = 16
	// bcryptAlphabet is bcrypt's own base64 alphabet.
	bcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

func isBcrypt(s string) bool {
	return strings.HasPrefix(s, "$2a$") || strings.HasPrefix(s, "$2b$") || strings.HasPrefix(s, "$2y$")
}

// parseBcrypt checks the shape "$2b$CC$" + 53 characters of bcrypt base64 and
// returns the cost, refusing costs outside [4, 16] before x/crypto runs.
func parseBcrypt(s string) (int, error) {
	if len(s) != 60 || !isBcrypt(s) || s[6] != '$' {
		return 0, malformed("want $2b$NN$ and 53 characters")
	}
	if s[4] < '0' || s[4] > '9' || s[5] < '0' || s[5] > '9' {
		return 0, malformed("bcrypt cost")
	}
	for i := 7; i < len(s); i++ {
		if strings.IndexByte(bcryptAlphabet, s[i]) < 0 {
			return 0, malformed("bcrypt salt or hash")
		}
	}
	cost := int(s[4]-'0')*10 + int(s[5]-'0')
	if cost < minBcryptCost || cost > maxBcryptCost {
		return 0, unsupported("bcrypt cost %d outside [%d, %d]", cost, minBcryptCost, maxBcryptCost)
	}
	return cost, nil
}

// verifyBcrypt checks pw against a bcrypt hash. Passwords over
// bcryptMaxBytes are refused with ErrTooLong after the work of a dummy
// verification under p: x/crypto would compare only their first 72 bytes, so
// a longer password sharing that prefix would match, and an instant refusal
// would tell which users still have a bcrypt hash.
func verifyBcrypt(pw, encoded string, p Params) (bool, error) {
	if _, err := parseBcrypt(encoded); err != nil {
		return false, err
	}
	if len(pw) > bcryptMaxBytes {
		p.DummyVerify(pw)
		return false, fmt.Errorf("%w: bcrypt reads at most %d bytes", ErrTooLong, bcryptMaxBytes)
	}
	switch err := bcrypt.CompareHashAndPassword([]byte(encoded), []byte(pw)); {
	case err == nil:
		return true, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, nil
	default:
		return false, malformed("%v", err)
	}
}
