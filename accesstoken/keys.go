package accesstoken

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"
)

// Signature algorithms an Issuer signs with. EdDSA (Ed25519) is the default:
// small keys and signatures, fast, deterministic. ES256 (ECDSA P-256) is the
// choice when a consumer of the tokens cannot verify EdDSA.
const (
	EdDSA = "EdDSA"
	ES256 = "ES256"
)

// PrivateKey is one signing key of an Issuer, with its key ID: the RFC 7638
// thumbprint of its public key, so every instance that loads the same key
// publishes and signs with the same `kid`. It is safe for concurrent use.
type PrivateKey struct {
	signer jose.Signer
	key    crypto.Signer // ed25519.PrivateKey or *ecdsa.PrivateKey
	pub    *verifyKey
}

// GenerateKey returns a new random key for alg (EdDSA or ES256; "" means
// EdDSA). Keep it with MarshalPEM if tokens must survive a restart or be
// verified by other instances. Cost: one key generation (tens of µs).
func GenerateKey(alg string) (*PrivateKey, error) {
	switch alg {
	case "", EdDSA:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidKey, err)
		}
		return newPrivateKey(priv)
	case ES256:
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidKey, err)
		}
		return newPrivateKey(priv)
	}
	return nil, fmt.Errorf("%w: algorithm %q (want EdDSA or ES256)", ErrInvalidKey, alg)
}

// ParsePrivateKey reads one PEM "PRIVATE KEY" block (PKCS #8) holding an
// Ed25519 or ECDSA P-256 key, as written by MarshalPEM or by
// `openssl genpkey -algorithm ed25519`.
func ParsePrivateKey(data []byte) (*PrivateKey, error) {
	keys, err := ParsePrivateKeys(data)
	if err != nil {
		return nil, err
	}
	if len(keys) != 1 {
		return nil, fmt.Errorf("%w: %d PEM keys, want 1", ErrInvalidKey, len(keys))
	}
	return keys[0], nil
}

// ParsePrivateKeys reads every PEM "PRIVATE KEY" block of data, in order:
// the shape of a key file for NewKeyRing (first key signs). Any other PEM
// block, or text between blocks other than white space, is an error.
func ParsePrivateKeys(data []byte) ([]*PrivateKey, error) {
	var keys []*PrivateKey
	for {
		if i := bytes.Index(data, []byte("-----BEGIN")); i > 0 && len(bytes.TrimSpace(data[:i])) != 0 {
			return nil, fmt.Errorf("%w: data outside PEM blocks", ErrInvalidKey)
		}
		block, rest := pem.Decode(data)
		if block == nil {
			if len(bytes.TrimSpace(rest)) != 0 {
				return nil, fmt.Errorf("%w: data outside PEM blocks", ErrInvalidKey)
			}
			break
		}
		if block.Type != "PRIVATE KEY" {
			return nil, fmt.Errorf("%w: PEM block %q, want \"PRIVATE KEY\" (PKCS #8)", ErrInvalidKey, block.Type)
		}
		raw, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidKey, err)
		}
		signer, ok := raw.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("%w: not a signing key", ErrInvalidKey)
		}
		k, err := newPrivateKey(signer)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
		data = rest
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no PEM key found", ErrInvalidKey)
	}
	return keys, nil
}

func newPrivateKey(priv crypto.Signer) (*PrivateKey, error) {
	var alg jose.SignatureAlgorithm
	switch k := priv.(type) {
	case ed25519.PrivateKey:
		alg = jose.EdDSA
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return nil, fmt.Errorf("%w: ECDSA curve %s (want P-256)", ErrInvalidKey, k.Curve.Params().Name)
		}
		alg = jose.ES256
	default:
		return nil, fmt.Errorf("%w: key type %T (want Ed25519 or ECDSA P-256)", ErrInvalidKey, priv)
	}
	pubJWK := jose.JSONWebKey{Key: priv.Public()}
	thumb, err := pubJWK.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	kid := base64.RawURLEncoding.EncodeToString(thumb)
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: priv, KeyID: kid}},
		(&jose.SignerOptions{}).WithType(tokenType),
	)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	return &PrivateKey{
		signer: signer,
		key:    priv,
		pub:    &verifyKey{kid: kid, alg: alg, pub: priv.Public()},
	}, nil
}

// KeyID returns the key's `kid`: the base64url RFC 7638 SHA-256 thumbprint
// of its public key.
func (k *PrivateKey) KeyID() string { return k.pub.kid }

// MarshalPEM returns the key as a PEM "PRIVATE KEY" block (PKCS #8).
// Treat the result as a secret.
func (k *PrivateKey) MarshalPEM() []byte {
	der, err := x509.MarshalPKCS8PrivateKey(k.key)
	if err != nil { // only for key types newPrivateKey refuses
		panic("accesstoken: " + err.Error())
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}
