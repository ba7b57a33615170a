package pgstore

import (
	"encoding/hex"
	"errors"
)

// ErrInvalidKey is returned for a store key that is not 64 lower-case hex
// digits (the form of the SHA-256 keys the Manager passes). The key itself is
// never part of an error.
var ErrInvalidKey = errors.New("pgstore: store key is not 64 lower-case hex digits")

// keyLen is the length of a store key in hex digits.
const keyLen = 64

// keyParam returns the key as a bytea literal in PostgreSQL's hex format, the
// text form of a parameter sent with QueryExecModeExec.
func keyParam(key string) (string, error) {
	if len(key) != keyLen {
		return "", ErrInvalidKey
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return "", ErrInvalidKey
		}
	}
	return `\x` + key, nil
}

// keyString is the inverse of the column's binary form.
func keyString(b []byte) string { return hex.EncodeToString(b) }
