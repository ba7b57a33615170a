package accesstoken

import (
	"encoding/json"
	"net/http"
	"testing"

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
