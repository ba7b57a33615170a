package passkey

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/sessionauth/session"
)

// maxPasskeys is how many passkeys one user may register.
const maxPasskeys = 32

// maxName is the longest passkey name, in bytes.
const maxName = 64

// registerBegin answers the options for navigator.credentials.create: a
// new challenge, the user (with the user handle all their passkeys share),
// their passkeys to exclude, a discoverable credential preferred and user
// verification required. The Handler serves it, and registerFinish, only
// to a session with a recent proof (see Config.RecentAuth).
func (h *Handler) registerBegin(w http.ResponseWriter, r *http.Request) error {
	var req struct{}
	if err := readJSON(r, &req); err != nil {
		return err
	}
	s, userID, err := h.signedIn(r)
	if err != nil {
		return err
	}
	existing, err := h.cfg.Store.ListUser(r.Context(), userID)
	if err != nil {
		return err
	}
	if len(existing) >= maxPasskeys {
		return errTooMany
	}
	handle := handleOf(existing)
	if handle == nil {
		handle = make([]byte, 32)
		rand.Read(handle)
	}
	name := userID
	if h.cfg.UserName != nil {
		if name, err = h.cfg.UserName(r.Context(), userID); err != nil {
			return err
		}
	}
	exclude := make([]protocol.CredentialDescriptor, len(existing))
	for i, c := range existing {
		wc := toWebAuthn(c)
		exclude[i] = wc.Descriptor()
	}
	creation, sd, err := h.wa.BeginRegistration(&user{handle: handle, name: name},
		webauthn.WithExclusions(exclude),
		webauthn.WithConveyancePreference(protocol.PreferNoAttestation))
	if err != nil {
		return err
	}
	if err := h.begin(s, kindRegister, ceremony{Challenge: sd.Challenge, UserID: userID, Handle: handle}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, creation)
	return nil
}

// registerFinish verifies the new credential against the ceremony begun in
// this session by the same user, and stores it. A challenge registers one
// passkey, even when finishes race: the session is renewed (Manager.Renew,
// atomic in the store) after the credential is verified and before it is
// stored, and only one of the racing renewals succeeds. Cost: a ListUser,
// a session renewal and a Create.
func (h *Handler) registerFinish(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Credential json.RawMessage `json:"credential"`
		Name       string          `json:"name"`
	}
	if err := readJSON(r, &req); err != nil {
		return err
	}
	name, ok := cleanName(req.Name)
	if !ok {
		return errBadRequest
	}
	s, userID, err := h.signedIn(r)
	if err != nil {
		return err
	}
	c, err := h.take(s, kindRegister, userID)
	if err != nil {
		return err
	}
	if err := checkCredentialKeys(req.Credential, true); err != nil {
		return err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(req.Credential)
	if err != nil {
		return errBadRequest
	}
	sd := c.sessionData(h.cfg.RPID)
	sd.CredParams = webauthn.CredentialParametersDefault()
	cred, err := h.wa.CreateCredential(&user{handle: c.Handle}, sd, parsed)
	if err != nil {
		h.logRefused(r.Context(), "passkey: registration refused", parsed.RawID, err)
		return errVerification
	}
	if !cred.Flags.UserVerified {
		return errVerification
	}
	// The page reports the transports: keep the ones WebAuthn defines,
	// once each, rather than store whatever it sent.
	var transports []string
	for _, t := range cred.Transport {
		if knownTransport(t) && !slices.Contains(transports, string(t)) {
			transports = append(transports, string(t))
		}
	}
	// Checked again: ceremonies begun in several of the user's sessions
	// each saw a place left.
	existing, err := h.cfg.Store.ListUser(r.Context(), userID)
	if err != nil {
		return err
	}
	if len(existing) >= maxPasskeys {
		return errTooMany
	}
	// take removed the ceremony from this request's copy of the session
	// only: a concurrent finish may still hold it, with a credential of
	// its own. Renewing the session before anything is stored spends it in
	// the store, atomically: of two finishes, the second meets ErrConflict
	// (or a session that is gone) and stores nothing. Cookie-only sessions
	// cannot be renewed; there single use is as strong as the mode's
	// revocation (see the README).
	switch err := h.cfg.Sessions.Renew(w, r); {
	case errors.Is(err, session.ErrConflict), errors.Is(err, session.ErrNotAuthenticated):
		return errChallenge
	case err != nil && !errors.Is(err, session.ErrCookieOnly):
		return err
	}
	now := h.now()
	if name == "" {
		name = "Passkey"
	}
	stored := Credential{
		ID: cred.ID, UserID: userID, UserHandle: c.Handle, Name: name,
		PublicKey: cred.PublicKey, SignCount: cred.Authenticator.SignCount,
		BackupEligible: cred.Flags.BackupEligible, BackedUp: cred.Flags.BackupState,
		Transports: transports, AAGUID: cred.Authenticator.AAGUID, Created: now,
	}
	if err := h.cfg.Store.Create(r.Context(), stored); err != nil {
		if errors.Is(err, ErrExists) {
			return errExists
		}
		return err
	}
	writeJSON(w, http.StatusOK, listItem(stored))
	return nil
}

// knownTransport reports whether t is one of the transports WebAuthn
// defines.
func knownTransport(t protocol.AuthenticatorTransport) bool {
	switch t {
	case protocol.USB, protocol.NFC, protocol.BLE, protocol.SmartCard, protocol.Hybrid, protocol.Internal:
		return true
	}
	return false
}

// cleanName trims a passkey name and checks it: at most maxName bytes of
// UTF-8 without control characters.
func cleanName(n string) (string, bool) {
	n = strings.TrimSpace(n)
	if len(n) > maxName || !utf8.ValidString(n) {
		return "", false
	}
	for _, r := range n {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' {
			return "", false
		}
	}
	return n, true
}
