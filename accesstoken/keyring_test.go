package accesstoken

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sessionauth/session"
)

func TestNewKeyRingRefusesEmptyNilAndDuplicates(t *testing.T) {
	t.Parallel()
	k := mustKey(t, EdDSA)
	for name, keys := range map[string][]*PrivateKey{
		"empty":     nil,
		"nil key":   {k, nil},
		"duplicate": {k, k},
	} {
		if _, err := NewKeyRing(keys...); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("%s: err = %v, want ErrInvalidKey", name, err)
		}
	}
}

// kidOf returns the kid of a token in the header, unverified.
func kidOf(t *testing.T, token string) string {
	t.Helper()
	h, err := parseHeader(token)
	if err != nil {
		t.Fatal(err)
	}
	return h.kid
}

func publishedKIDs(i *Issuer) map[string]bool {
	out := map[string]bool{}
	for _, k := range i.jwks().Keys {
		out[k.KeyID] = true
	}
	return out
}

func TestStaticRingFirstKeySignsEveryKeyVerifies(t *testing.T) {
	t.Parallel()
	a, b := mustKey(t, EdDSA), mustKey(t, ES256)
	e := newEnv(t, func(c *Config, _ *session.Config) {
		c.Keys, _ = NewKeyRing(a, b)
	})
	cookie := e.login("alice")
	tok := e.mint(cookie)
	if kidOf(t, tok) != a.KeyID() {
		t.Fatal("the first key did not sign")
	}
	if got := publishedKIDs(e.issuer); !got[a.KeyID()] || !got[b.KeyID()] || len(got) != 2 {
		t.Fatalf("published %v", got)
	}
	// A token signed by the second key (as by an instance already on [b, a]).
	e2 := newEnv(t, func(c *Config, s *session.Config) { c.Keys, _ = NewKeyRing(b, a) })
	tok2 := e2.mint(e2.login("alice"))
	if kidOf(t, tok2) != b.KeyID() {
		t.Fatal("b did not sign in the second ring")
	}
	if _, err := e.issuer.Verify(context.Background(), tok2); err != nil {
		t.Fatalf("a token of the second key did not verify: %v", err)
	}
}

// TestRotatePublishesBeforeSigningAndRetiresAfterLastToken walks a Rotate
// through its schedule on a fake clock: the new key is in the JWKS from the
// start but signs only after JWKSMaxAge; the old key stays published and
// verifying until TTL+Leeway after the switch, then its tokens are refused.
func TestRotatePublishesBeforeSigningAndRetiresAfterLastToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil) // TTL 5 min, leeway 30 s, JWKSMaxAge 5 min
	old, next := e.key, mustKey(t, EdDSA)
	cookie := e.login("alice")
	if err := e.issuer.Rotate(next); err != nil {
		t.Fatal(err)
	}
	if err := e.issuer.Rotate(next); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("rotating to a key already in the ring: %v", err)
	}

	e.clock.Advance(defaultJWKSMaxAge - time.Second)
	if got := publishedKIDs(e.issuer); !got[old.KeyID()] || !got[next.KeyID()] {
		t.Fatalf("before the switch, published %v; want both keys", got)
	}
	lastOld := e.mint(cookie)
	if kidOf(t, lastOld) != old.KeyID() {
		t.Fatal("the new key signed before JWKSMaxAge had passed")
	}

	e.clock.Advance(time.Second) // the switch
	if tok := e.mint(cookie); kidOf(t, tok) != next.KeyID() {
		t.Fatal("the new key does not sign after JWKSMaxAge")
	}
	e.clock.Advance(defaultTTL) // lastOld expired; still within the leeway
	if got := publishedKIDs(e.issuer); !got[old.KeyID()] {
		t.Fatal("the old key left the JWKS before its last token's exp + leeway")
	}
	if _, err := e.issuer.Verify(context.Background(), lastOld); err != nil {
		t.Fatalf("the old key's last token (within the leeway) was refused: %v", err)
	}

	e.clock.Advance(defaultLeeway)
	if got := publishedKIDs(e.issuer); got[old.KeyID()] || !got[next.KeyID()] || len(got) != 1 {
		t.Fatalf("after retirement, published %v; want only the new key", got)
	}
	if _, err := e.issuer.Verify(context.Background(), lastOld); !errors.Is(err, errUnknownKey) {
		t.Fatalf("a retired key's token: %v, want errUnknownKey", err)
	}
}

func TestRotateTwiceChainsTheSwitches(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b, c := mustKey(t, EdDSA), mustKey(t, ES256)
	cookie := e.login("alice")
	t0 := e.clock.Now()
	e.issuer.Rotate(b)
	e.clock.Advance(time.Minute)
	e.issuer.Rotate(c) // scheduled JWKSMaxAge after b's switch
	for _, step := range []struct {
		at  time.Duration // since the first Rotate
		kid string
	}{
		{4 * time.Minute, e.key.KeyID()},
		{5 * time.Minute, b.KeyID()},
		{9 * time.Minute, b.KeyID()},
		{10 * time.Minute, c.KeyID()},
	} {
		e.clock.Set(t0.Add(step.at))
		if kid := kidOf(t, e.mint(cookie)); kid != step.kid {
			t.Fatalf("at +%v the signing key is %s, want %s", step.at, kid, step.kid)
		}
	}
}
