package session

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/securecookie"
)

// MinKeyLength is the shortest secret a KeyRing accepts, in bytes (256 bits).
const MinKeyLength = 32

// Errors returned when a key ring cannot be built. They are wrapped with the
// position of the offending key, never with the key itself.
var (
	ErrNoKeys        = errors.New("session: no signing keys")
	ErrKeyTooShort   = errors.New("session: signing key shorter than 32 bytes")
	ErrKeyDuplicate  = errors.New("session: duplicate signing key")
	ErrKeyUndecoding = errors.New("session: signing key is not valid base64")
)

// hkdfInfo binds derived keys to this library and purpose, so a secret that is
// also used elsewhere never signs our cookies with the same HMAC key.
const hkdfInfo = "github.com/sessionauth/session cookie-signing v1"

// GenerateKey returns 32 bytes from crypto/rand, suitable as a KeyRing secret.
// Encode it with base64.StdEncoding to put it in SESSION_KEYS.
func GenerateKey() []byte {
	k := make([]byte, MinKeyLength)
	rand.Read(k) // never returns an error; crashes the program if the OS has no entropy
	return k
}

// KeyRing holds the secrets that sign and verify session tokens. The first key
// signs; every key verifies. Rotate by putting a new key first and keeping the
// old one after it until every cookie it signed has expired (see README).
//
// The secrets are not used directly: each is expanded with HKDF-SHA256 into the
// HMAC key of its own gorilla/securecookie codec. A KeyRing is immutable and
// safe for concurrent use.
type KeyRing struct {
	hashKeys [][]byte // HKDF outputs, one per secret, signing key first
}

// NewKeyRing builds a ring from raw secrets. keys[0] signs; all of them verify.
// Each secret must be at least 32 bytes and distinct; the secrets are copied.
func NewKeyRing(keys ...[]byte) (*KeyRing, error) {
	if len(keys) == 0 {
		return nil, ErrNoKeys
	}
	ring := &KeyRing{hashKeys: make([][]byte, 0, len(keys))}
	for i, k := range keys {
		if len(k) < MinKeyLength {
			return nil, fmt.Errorf("key %d has %d bytes: %w", i, len(k), ErrKeyTooShort)
		}
		for j := range i {
			if subtle.ConstantTimeCompare(keys[j], k) == 1 {
				return nil, fmt.Errorf("keys %d and %d: %w", j, i, ErrKeyDuplicate)
			}
		}
		hashKey, err := hkdf.Key(sha256.New, k, nil, hkdfInfo, 32)
		if err != nil {
			return nil, fmt.Errorf("session: deriving key %d: %w", i, err)
		}
		ring.hashKeys = append(ring.hashKeys, hashKey)
	}
	return ring, nil
}

// ParseKeyRing parses the SESSION_KEYS format: comma-separated secrets, each
// in standard or URL-safe base64, padded or not. Surrounding spaces are ignored.
// The first key signs; every key verifies. Errors name the key's position only.
func ParseKeyRing(s string) (*KeyRing, error) {
	if strings.TrimSpace(s) == "" {
		return nil, ErrNoKeys
	}
	parts := strings.Split(s, ",")
	keys := make([][]byte, 0, len(parts))
	for i, p := range parts {
		k, err := decodeKey(strings.TrimSpace(p))
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", i, ErrKeyUndecoding)
		}
		keys = append(keys, k)
	}
	return NewKeyRing(keys...)
}

func decodeKey(s string) ([]byte, error) {
	if s == "" {
		return nil, ErrKeyUndecoding
	}
	s = strings.TrimRight(s, "=")
	if strings.ContainsAny(s, "-_") {
		return base64.RawURLEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}

// Len reports how many keys the ring holds.
func (k *KeyRing) Len() int { return len(k.hashKeys) }

// signer is a KeyRing bound to one Manager's cookie name and maximum age: one
// gorilla/securecookie codec per key (HMAC-SHA256 over name, timestamp and
// value, compared in constant time), and a small cache of recently verified
// values.
type signer struct {
	name   string
	codecs []*securecookie.SecureCookie
	cache  [verifiedShards]verifiedShard
}

// The verified-value cache spares a session's every request from repeating
// the securecookie decode (base64, HMAC setup and check: about half of an
// authenticated read). It is keyed by SHA-256 of the cookie value, so a
// lookup compares hashes, never secret bytes, and it only ever holds values
// that verified. Entries live for verifiedTTL; a full shard is emptied.
const (
	verifiedShards   = 16
	verifiedPerShard = 256
	verifiedTTL      = time.Minute
)

type verifiedShard struct {
	mu sync.RWMutex
	m  map[[sha256.Size]byte]verifiedValue
}

type verifiedValue struct {
	token    [tokenLen]byte
	storeKey string // storeKey(token), computed once
	keyIndex int
	until    int64 // Unix nanoseconds
}

// newSigner builds the codecs. maxAge rejects tokens signed longer ago than
// the longest session can live, before any store I/O; it replaces the
// codec's 30-day default, which would silently cap longer sessions.
func (k *KeyRing) newSigner(name string, maxAge time.Duration) *signer {
	s := &signer{name: name, codecs: make([]*securecookie.SecureCookie, len(k.hashKeys))}
	for i, hk := range k.hashKeys {
		c := securecookie.New(hk, nil)
		c.SetSerializer(securecookie.NopEncoder{})
		c.MaxLength(maxCookieLen)
		c.MaxAge(int(maxAge / time.Second))
		s.codecs[i] = c
	}
	for i := range s.cache {
		s.cache[i].m = make(map[[sha256.Size]byte]verifiedValue)
	}
	return s
}

// sign returns the signed form of token under the first key.
func (s *signer) sign(token []byte) (string, error) {
	return s.codecs[0].Encode(s.name, token)
}

// verify checks value against every key, the signing key first, and returns
// the token, its store key and the index of the key that verified it (0 is
// the current key). A value verified within the last minute is answered from
// the cache. value must be at most maxCookieLen bytes.
func (s *signer) verify(value string) (v verifiedValue, ok bool) {
	if len(value) > maxCookieLen {
		return v, false
	}
	var buf [maxCookieLen]byte // hashing a copy on the stack does not allocate
	sum := sha256.Sum256(buf[:copy(buf[:], value)])
	sh := &s.cache[sum[0]%verifiedShards]
	now := time.Now().UnixNano()
	sh.mu.RLock()
	v, hit := sh.m[sum]
	sh.mu.RUnlock()
	if hit && now < v.until {
		return v, true
	}
	for i, c := range s.codecs {
		var b []byte
		if c.Decode(s.name, value, &b) == nil && len(b) == tokenLen {
			v = verifiedValue{token: [tokenLen]byte(b), storeKey: storeKey(b), keyIndex: i, until: now + int64(verifiedTTL)}
			sh.mu.Lock()
			if len(sh.m) >= verifiedPerShard {
				clear(sh.m)
			}
			sh.m[sum] = v
			sh.mu.Unlock()
			return v, true
		}
	}
	return verifiedValue{keyIndex: -1}, false
}
