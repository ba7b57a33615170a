package passkey

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/sessionauth/session"
)

// ceremonyLifetime is how long a begun ceremony may take to finish: the
// browser's own timeout is five minutes too.
const ceremonyLifetime = 5 * time.Minute

// The session values that hold a begun ceremony, one per kind, so that a
// page's autofill sign-in waiting in the background and a step-up do not
// replace each other's challenge.
const (
	kindRegister = "passkey.register"
	kindSignIn   = "passkey.signin"
	kindStepUp   = "passkey.stepup"
)

// ceremony is what a begin stores in the visitor's session and its finish
// takes back, once: the challenge, who began it, and until when.
type ceremony struct {
	Challenge string `json:"c"`           // base64url, as in the options sent
	UserID    string `json:"u,omitempty"` // register, step-up: the signed-in user at begin
	Handle    []byte `json:"h,omitempty"` // register: the user handle
	Expires   int64  `json:"e"`           // Unix milliseconds
}

// begin stores c under kind in s, replacing a ceremony of that kind begun
// before.
func (h *Handler) begin(s *session.Session, kind string, c ceremony) error {
	c.Expires = h.now().Add(h.lifetime).UnixMilli()
	return session.Put(s, kind, c)
}

// take removes the ceremony of kind from s and returns it, if it is there
// and has not expired, and was begun by userID ("" for a sign-in, which
// anyone may finish). It is removed whatever happens next: a challenge
// answers one finish, never two.
func (h *Handler) take(s *session.Session, kind, userID string) (ceremony, error) {
	c, ok, err := session.Value[ceremony](s, kind)
	if ok {
		s.Delete(kind)
	}
	if !ok || err != nil || c.Challenge == "" || h.now().UnixMilli() >= c.Expires || c.UserID != userID {
		return ceremony{}, errChallenge
	}
	return c, nil
}

// sessionData is the go-webauthn view of c: user verification required,
// no expiry of its own (take checked it, on the Handler's clock).
func (c ceremony) sessionData(rpID string) webauthn.SessionData {
	return webauthn.SessionData{
		Challenge:        c.Challenge,
		RelyingPartyID:   rpID,
		UserID:           c.Handle,
		UserVerification: protocol.VerificationRequired,
	}
}

// user is a webauthn.User for one of the app's users.
type user struct {
	handle []byte
	name   string
	creds  []webauthn.Credential
}

func (u *user) WebAuthnID() []byte                         { return u.handle }
func (u *user) WebAuthnName() string                       { return u.name }
func (u *user) WebAuthnDisplayName() string                { return u.name }
func (u *user) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// toWebAuthn is the go-webauthn view of a stored credential.
func toWebAuthn(c Credential) webauthn.Credential {
	ts := make([]protocol.AuthenticatorTransport, len(c.Transports))
	for i, t := range c.Transports {
		ts[i] = protocol.AuthenticatorTransport(t)
	}
	return webauthn.Credential{
		ID:              c.ID,
		PublicKey:       c.PublicKey,
		AttestationType: "none",
		Transport:       ts,
		Flags: webauthn.CredentialFlags{
			UserPresent: true, UserVerified: true,
			BackupEligible: c.BackupEligible, BackupState: c.BackedUp,
		},
		Authenticator: webauthn.Authenticator{AAGUID: c.AAGUID, SignCount: c.SignCount},
	}
}

// handleOf returns the user handle of a user's passkeys (all share one), or
// nil for a user without passkeys.
func handleOf(creds []Credential) []byte {
	for _, c := range creds {
		if len(c.UserHandle) > 0 {
			return c.UserHandle
		}
	}
	return nil
}

// decodeID decodes a credential ID sent by the page (base64url).
func decodeID(s string) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) == 0 || len(b) > 1023 {
		return nil, errBadRequest
	}
	return b, nil
}

// sameBytes is bytes.Equal, named for what the callers check.
func sameBytes(a, b []byte) bool { return bytes.Equal(a, b) }

// signedIn returns the request's session and its user, or not_signed_in.
// A store outage is unavailable, never not_signed_in.
func (h *Handler) signedIn(r *http.Request) (*session.Session, string, error) {
	s := h.cfg.Sessions.FromContext(r.Context())
	if err := s.Err(); err != nil {
		return nil, "", err
	}
	u := s.UserID()
	if u == "" {
		return nil, "", errNotSignedIn
	}
	return s, u, nil
}
