package pgstore

import "encoding/hex"

// keyLen is the length of a store key in hex digits.
const keyLen = 64

// keyParam returns the key's 32 bytes, the form of the key column. pgx
// sends them in bytea's text form with QueryExecModeExec, in binary with
// prepared statements.
func keyParam(key string) ([]byte, error) {
	if len(key) != keyLen {
		return nil, errStoreKey
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return nil, errStoreKey
		}
	}
	b := make([]byte, keyLen/2)
	hex.Decode(b, []byte(key))
	return b, nil
}

// keyString is the inverse of the column's binary form.
func keyString(b []byte) string { return hex.EncodeToString(b) }
