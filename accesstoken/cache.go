package accesstoken

import (
	"crypto/sha256"
	"slices"
	"sync"
	"time"
)

// defaultCacheSize is how many recently verified tokens an Issuer or a
// Provider remembers by default.
const defaultCacheSize = 4096

// tokenCache remembers recently verified tokens by the SHA-256 of their
// text, so a client that sends the same token on every request pays for the
// signature once. An entry is used only before the token's exp (never in the
// leeway after it) and only while the key that verified it still verifies.
type tokenCache struct {
	mu      sync.RWMutex
	entries map[[sha256.Size]byte]cacheEntry
	max     int
}

type cacheEntry struct {
	claims *Claims
	key    *verifyKey
	until  time.Time
}

func newTokenCache(size int) *tokenCache {
	if size <= 0 {
		return nil
	}
	return &tokenCache{entries: make(map[[sha256.Size]byte]cacheEntry), max: size}
}

// get returns a copy of the cached claims of token, if it is cached, not
// past its exp at now, and its key is still current.
func (c *tokenCache) get(token string, now time.Time, keys keySource) (*Claims, bool) {
	sum := sha256.Sum256([]byte(token))
	c.mu.RLock()
	e, ok := c.entries[sum]
	c.mu.RUnlock()
	if !ok || !now.Before(e.until) || !keys.current(e.key) {
		return nil, false
	}
	return e.claims.clone(), true
}

// put remembers a token verified at now, until its exp. When the cache is
// full it drops expired entries and, if that is not enough, arbitrary ones
// (Go's map iteration order is unspecified) down to 7/8 of max, so the work
// of a sweep is spread over the next max/8 insertions.
func (c *tokenCache) put(token string, claims *Claims, key *verifyKey, now time.Time) {
	if !now.Before(claims.Expiry) {
		return // verified within the leeway after exp: never cached
	}
	sum := sha256.Sum256([]byte(token))
	saved := claims.clone()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		for k, e := range c.entries {
			if !now.Before(e.until) {
				delete(c.entries, k)
			}
		}
		for k := range c.entries {
			if len(c.entries) <= c.max-c.max/8-1 {
				break
			}
			delete(c.entries, k)
		}
	}
	c.entries[sum] = cacheEntry{claims: saved, key: key, until: claims.Expiry}
}

// clone copies c with its slices, so that a handler that changes the
// claims it got (against their doc) changes no other request's. The
// payload is never written after verification and stays shared.
func (c *Claims) clone() *Claims {
	out := *c
	out.Audience = slices.Clone(c.Audience)
	out.AuthMethods = slices.Clone(c.AuthMethods)
	return &out
}

// len returns the number of entries, for tests.
func (c *tokenCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}
