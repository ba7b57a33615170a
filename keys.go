package session

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
)

// minKeyLength is the shortest secret a KeyRing accepts, in bytes (256 bits).
const minKeyLength = 32

// errNoKeys: NewKeyRing or ParseKeyRing got no key, or Config.Keys has none.
var errNoKeys = fmt.Errorf("%w: no keys (make one with: head -c 32 /dev/urandom | base64)", ErrInvalidKey)

// hkdfInfo binds derived keys to this library and purpose, so a secret that is
// also used elsewhere never signs our cookies with the same HMAC key.
const hkdfInfo = "github.com/sessionauth/session cookie-signing v1"

// hkdfSealInfo labels the keys that seal cookie-only sessions (see
// Config.CookieOnly), so they are never the signing keys above.
const hkdfSealInfo = "github.com/sessionauth/session cookie-sealing v1"

// GenerateKey returns 32 bytes from crypto/rand, suitable as a KeyRing secret.
// Encode it with base64.StdEncoding to put it in SESSION_KEYS.
func GenerateKey() []byte {
	k := make([]byte, minKeyLength)
	rand.Read(k) // never returns an error; crashes the program if the OS has no entropy
	return k
}

// KeyRing holds the secrets that sign and verify session tokens. The first key
// signs; every key verifies. Rotate by putting a new key first and keeping the
// old one after it until every cookie it signed has expired (see README).
//
// The secrets are not used directly: each is expanded with HKDF-SHA256 into the
// HMAC key of its own gorilla/securecookie codec and, under another label, into
// the XChaCha20-Poly1305 key that seals cookie-only sessions. A KeyRing is immutable and
// safe for concurrent use.
type KeyRing struct {
	hashKeys [][]byte // HKDF outputs, one per secret, signing key first
	sealKeys [][]byte // HKDF outputs under hkdfSealInfo, same order
}

// NewKeyRing builds a ring from raw secrets. keys[0] signs; all of them verify.
// Each secret must be at least 32 bytes and distinct; the secrets are copied.
// Errors name a key by its position, counted from 1.
func NewKeyRing(keys ...[]byte) (*KeyRing, error) {
	if len(keys) == 0 {
		return nil, errNoKeys
	}
	ring := &KeyRing{hashKeys: make([][]byte, 0, len(keys))}
	for i, k := range keys {
		if len(k) < minKeyLength {
			return nil, fmt.Errorf("%w: key %d has %d bytes, fewer than %d", ErrInvalidKey, i+1, len(k), minKeyLength)
		}
		for j := range i {
			if subtle.ConstantTimeCompare(keys[j], k) == 1 {
				return nil, fmt.Errorf("%w: keys %d and %d are the same", ErrInvalidKey, j+1, i+1)
			}
		}
		hashKey, err := hkdf.Key(sha256.New, k, nil, hkdfInfo, 32)
		if err != nil {
			return nil, fmt.Errorf("session: deriving key %d: %w", i+1, err)
		}
		sealKey, err := hkdf.Key(sha256.New, k, nil, hkdfSealInfo, 32)
		if err != nil {
			return nil, fmt.Errorf("session: deriving key %d: %w", i+1, err)
		}
		ring.hashKeys = append(ring.hashKeys, hashKey)
		ring.sealKeys = append(ring.sealKeys, sealKey)
	}
	return ring, nil
}

// ParseKeyRing parses the SESSION_KEYS format: comma-separated secrets, each
// in standard or URL-safe base64, padded or not. Surrounding spaces are ignored.
// The first key signs; every key verifies. Errors name the key's position,
// counted from 1, never the key: "key 2 is empty" for a trailing comma.
func ParseKeyRing(s string) (*KeyRing, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errNoKeys
	}
	parts := strings.Split(s, ",")
	keys := make([][]byte, 0, len(parts))
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			return nil, fmt.Errorf("%w: key %d is empty", ErrInvalidKey, i+1)
		}
		k, err := decodeKey(p)
		if err != nil {
			return nil, fmt.Errorf("%w: key %d is not base64", ErrInvalidKey, i+1)
		}
		keys = append(keys, k)
	}
	return NewKeyRing(keys...)
}

func decodeKey(s string) ([]byte, error) {
	if s == "" {
		return nil, ErrInvalidKey
	}
	s = strings.TrimRight(s, "=")
	if strings.ContainsAny(s, "-_") {
		return base64.RawURLEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}

// Len reports how many keys the ring holds.
func (k *KeyRing) len() int { return len(k.hashKeys) }
