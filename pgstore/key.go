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

// keyParam returns the key's 32 bytes, the form of the key column. pgx
// sends them in bytea's text form with QueryExecModeExec, in binary with
// prepared statements.
func keyParam(key string) ([]byte, error) {
	if len(key) != keyLen {
		return nil, ErrInvalidKey
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return nil, ErrInvalidKey
		}
	}
	b := make([]byte, keyLen/2)
	hex.Decode(b, []byte(key))
	return b, nil
}

// keyString is the inverse of the column's binary form.
func keyString(b []byte) string { return hex.EncodeToString(b) }
