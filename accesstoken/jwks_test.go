package accesstoken

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sessionauth/session"
)

func TestJWKSHandlerPublishesPublicKeysOnly(t *testing.T) {
	t.Parallel()
	a, b := mustKey(t, EdDSA), mustKey(t, ES256)
	e := newEnv(t, func(c *Config, _ *session.Config) { c.Keys, _ = NewKeyRing(a, b) })
	w := e.do("GET", "/.well-known/jwks.json", nil)
	if w.Code != 200 || w.Header().Get("Cache-Control") != "public, max-age=300" || w.Header().Get("Content-Type") != "application/jwk-set+json" {
		t.Fatalf("%d %v", w.Code, w.Header())
	}
	var set struct{ Keys []map[string]any }
	if err := json.Unmarshal(w.Body.Bytes(), &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 2 {
		t.Fatalf("%d keys", len(set.Keys))
	}
	want := []map[string]string{
		{"kid": a.KeyID(), "alg": "EdDSA", "kty": "OKP", "crv": "Ed25519", "use": "sig"},
		{"kid": b.KeyID(), "alg": "ES256", "kty": "EC", "crv": "P-256", "use": "sig"},
	}
	for i, k := range set.Keys {
		for name, v := range want[i] {
			if k[name] != v {
				t.Errorf("key %d: %s = %v, want %s", i, name, k[name], v)
			}
		}
		if _, ok := k["d"]; ok {
			t.Fatal("private key material published")
		}
	}
	if w := e.do("POST", "/.well-known/jwks.json", nil); w.Code != http.StatusMethodNotAllowed && w.Code != http.StatusNotFound {
		t.Fatalf("POST: %d", w.Code)
	}
	if w := e.do("HEAD", "/.well-known/jwks.json", nil); w.Code != 200 || w.Body.Len() != 0 {
		t.Fatalf("HEAD: %d, %d bytes", w.Code, w.Body.Len())
	}
}

func TestJWKSHandlerRefusesOtherMethods(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	h := e.issuer.JWKSHandler()
	for _, m := range []string{"POST", "PUT", "DELETE"} {
		r, _ := http.NewRequest(m, "/jwks", nil)
		w := newRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD" {
			t.Fatalf("%s: %d", m, w.Code)
		}
	}
}

// TestOurJWKSOnLoopbackAcrossRotation serves our JWKSHandler on a loopback
// server and verifies our tokens from "another service" with a Provider
// pointed at it, through a whole Rotate: the consumer learns the new key
// from the JWKS before it signs, keeps the old one while its tokens live,
// and drops it once it is retired.
func TestOurJWKSOnLoopbackAcrossRotation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	srv := httptest.NewServer(e.handler)
	t.Cleanup(srv.Close)
	consumer, err := NewProvider(ProviderConfig{
		JWKSURL: srv.URL + "/.well-known/jwks.json", Issuer: testIssuer, Audience: testAudience,
		Type: "at+jwt", Algorithms: []string{"EdDSA", "ES256"}, now: e.clock.Now, CacheSize: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	cookie := e.login("alice")
	verify := func(tok string) error { _, err := consumer.Verify(context.Background(), tok); return err }
	if err := verify(e.mint(cookie)); err != nil {
		t.Fatal(err)
	}
	old, next := e.key, mustKey(t, ES256)
	e.clock.Advance(time.Minute)
	if err := e.issuer.Rotate(next); err != nil {
		t.Fatal(err)
	}
	// The consumer's copy (max-age 5 min) expires before next signs, so it
	// refreshes in the background while old tokens still verify.
	e.clock.Advance(4 * time.Minute)
	lastOld := e.mint(cookie)
	if kidOf(t, lastOld) != old.KeyID() || verify(lastOld) != nil {
		t.Fatal("old key's token before the switch")
	}
	keysHaveKid := func(kid string) bool {
		s := consumer.keys.set.Load()
		return s != nil && s.keys[kid] != nil
	}
	deadline := time.Now().Add(5 * time.Second)
	for !keysHaveKid(next.KeyID()) {
		if time.Now().After(deadline) {
			t.Fatal("the consumer never saw the new key before it signs")
		}
		time.Sleep(5 * time.Millisecond)
	}
	e.clock.Advance(time.Minute) // next signs now
	fresh := e.mint(cookie)
	if kidOf(t, fresh) != next.KeyID() {
		t.Fatal("the new key does not sign")
	}
	if err := verify(fresh); err != nil {
		t.Fatalf("the new key's token: %v", err)
	}
	if err := verify(lastOld); err != nil {
		t.Fatalf("the old key's last token after the switch: %v", err)
	}
	// Past retirement and the consumer's max-age, the old key is gone.
	e.clock.Advance(defaultTTL + defaultLeeway + defaultJWKSMaxAge)
	verify(e.mint(cookie)) // starts the background refresh
	deadline = time.Now().Add(5 * time.Second)
	for keysHaveKid(old.KeyID()) {
		if time.Now().After(deadline) {
			t.Fatal("the consumer kept the retired key")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
