package accesstoken

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/sessionauth/session"
)

func TestCacheNeverOutlivesExp(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	tok := e.mint(e.login("alice"))
	c, err := e.issuer.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	cache := e.issuer.v.cache
	if _, ok := cache.get(tok, e.clock.Now(), e.issuer); !ok {
		t.Fatal("a verified token was not cached")
	}
	if _, ok := cache.get(tok, c.Expiry.Add(-time.Nanosecond), e.issuer); !ok {
		t.Fatal("cache entry gone before exp")
	}
	if _, ok := cache.get(tok, c.Expiry, e.issuer); ok {
		t.Fatal("cache entry used at exp")
	}
	// Within the leeway the full path still accepts it, and does not cache it.
	e.clock.Set(c.Expiry.Add(defaultLeeway / 2))
	cache.mu.Lock()
	clear(cache.entries)
	cache.mu.Unlock()
	if _, err := e.issuer.Verify(context.Background(), tok); err != nil {
		t.Fatalf("within the leeway: %v", err)
	}
	if cache.len() != 0 {
		t.Fatal("a token past its exp was cached")
	}
	e.clock.Set(c.Expiry.Add(defaultLeeway))
	if _, err := e.issuer.Verify(context.Background(), tok); !errors.Is(err, ErrExpired) {
		t.Fatalf("past exp + leeway: %v", err)
	}
}

// TestCacheDropsTokensOfRemovedKeys removes a key with SetKeys: tokens it
// signed are refused at once, even though their verification was cached.
func TestCacheDropsTokensOfRemovedKeys(t *testing.T) {
	t.Parallel()
	a, b := mustKey(t, EdDSA), mustKey(t, EdDSA)
	e := newEnv(t, func(c *Config, _ *session.Config) { c.Keys, _ = NewKeyRing(b, a) })
	tok := e.mint(e.login("alice")) // signed by b
	if _, err := e.issuer.Verify(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	ring, _ := NewKeyRing(a)
	e.issuer.SetKeys(ring)
	if _, err := e.issuer.Verify(context.Background(), tok); !errors.Is(err, errUnknownKey) {
		t.Fatalf("token of a removed key: %v, want errUnknownKey", err)
	}
}

func TestCacheIsBounded(t *testing.T) {
	t.Parallel()
	c := newTokenCache(64)
	now := time.Unix(1_800_000_000, 0)
	k := &verifyKey{kid: "k"}
	for i := range 1000 {
		c.put(fmt.Sprint("token", i), &Claims{Expiry: now.Add(time.Minute)}, k, now)
		if n := c.len(); n > 64 {
			t.Fatalf("cache holds %d entries, max 64", n)
		}
	}
	// Expired entries go first.
	c = newTokenCache(8)
	for i := range 8 {
		c.put(fmt.Sprint("old", i), &Claims{Expiry: now.Add(time.Second)}, k, now)
	}
	later := now.Add(2 * time.Second)
	c.put("fresh", &Claims{Expiry: later.Add(time.Minute)}, k, later)
	if c.len() != 1 {
		t.Fatalf("after a sweep: %d entries, want only the fresh one", c.len())
	}
}

func TestCacheHandsOutCopies(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	tok := e.mint(e.login("alice"))
	c1, _ := e.issuer.Verify(context.Background(), tok)
	c1.Subject = "mallory"
	c1.Audience[0] = "mallory's API"
	c1.AuthMethods = append(c1.AuthMethods[:0], "hwk") // the first, verifying call's claims
	c2, _ := e.issuer.Verify(context.Background(), tok)
	c2.Subject = "eve"
	c2.Audience[0] = "eve's API"
	if len(c2.AuthMethods) > 0 {
		c2.AuthMethods[0] = "hwk" // a cached copy's
	}
	c3, _ := e.issuer.Verify(context.Background(), tok)
	if c3.Subject != "alice" || c3.Audience[0] != testAudience || slices.Contains(c3.AuthMethods, "hwk") {
		t.Fatalf("a handler's change leaked into the cache: %q %q %q", c3.Subject, c3.Audience, c3.AuthMethods)
	}
}

func TestCacheDisabled(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config, _ *session.Config) { c.CacheSize = -1 })
	tok := e.mint(e.login("alice"))
	if _, err := e.issuer.Verify(context.Background(), tok); err != nil || e.issuer.v.cache != nil {
		t.Fatalf("err %v, cache %v", err, e.issuer.v.cache)
	}
}
