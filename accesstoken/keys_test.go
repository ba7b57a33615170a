package accesstoken

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"testing"
)

func TestGenerateKeyAlgorithms(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ alg, want string }{{"", EdDSA}, {EdDSA, EdDSA}, {ES256, ES256}} {
		k, err := GenerateKey(tc.alg)
		if err != nil {
			t.Fatal(err)
		}
		if string(k.pub.alg) != tc.want || len(k.KeyID()) != 43 {
			t.Fatalf("GenerateKey(%q): alg %s kid %q", tc.alg, string(k.pub.alg), k.KeyID())
		}
	}
	for _, alg := range []string{"RS256", "HS256", "none", "ES384"} {
		if _, err := GenerateKey(alg); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("GenerateKey(%q) = %v, want ErrInvalidKey", alg, err)
		}
	}
}

// TestKeyIDIsTheRFC7638Thumbprint checks the kid against the Ed25519
// thumbprint example of RFC 8037, appendix A.3.
func TestKeyIDIsTheRFC7638Thumbprint(t *testing.T) {
	t.Parallel()
	seed, _ := base64.RawURLEncoding.DecodeString("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
	k, err := newPrivateKey(ed25519.NewKeyFromSeed(seed))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := k.KeyID(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"; got != want {
		t.Fatalf("kid = %s, want %s", got, want)
	}
}

func TestPEMRoundTripKeepsKeyID(t *testing.T) {
	t.Parallel()
	for _, alg := range []string{EdDSA, ES256} {
		k := mustKey(t, alg)
		back, err := ParsePrivateKey(k.MarshalPEM())
		if err != nil {
			t.Fatal(err)
		}
		if back.KeyID() != k.KeyID() || string(back.pub.alg) != alg {
			t.Fatalf("%s: round trip changed kid or alg", alg)
		}
	}
}

func TestParsePrivateKeysKeepsOrder(t *testing.T) {
	t.Parallel()
	a, b := mustKey(t, EdDSA), mustKey(t, ES256)
	keys, err := ParsePrivateKeys(append(append(a.MarshalPEM(), '\n'), b.MarshalPEM()...))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].KeyID() != a.KeyID() || keys[1].KeyID() != b.KeyID() {
		t.Fatal("keys out of order")
	}
	if _, err := ParsePrivateKey(append(a.MarshalPEM(), b.MarshalPEM()...)); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("ParsePrivateKey of two keys: %v", err)
	}
}

func TestParsePrivateKeysRefusesOtherKeys(t *testing.T) {
	t.Parallel()
	pkcs8 := func(k any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	pubDER, _ := x509.MarshalPKIXPublicKey(mustKey(t, EdDSA).pub.pub)
	good := mustKey(t, EdDSA).MarshalPEM()
	for name, data := range map[string][]byte{
		"empty":             nil,
		"not PEM":           []byte("hello"),
		"RSA":               pkcs8(rsaKey),
		"ECDSA P-384":       pkcs8(p384),
		"public key":        pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}),
		"garbage DER":       pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("junk")}),
		"text between keys": append(append(bytes.Clone(good), "junk\n"...), good...),
	} {
		if _, err := ParsePrivateKeys(data); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("%s: err = %v, want ErrInvalidKey", name, err)
		}
	}
}
