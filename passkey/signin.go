package passkey

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/sessionauth/session"
)

// amrOf is the amr value a passkey's use records: "swk" for a passkey its
// authenticator reported backup-eligible (synced: its private key can
// leave the device it was made on), "hwk" for one it reported device-bound.
// The flag is the authenticator's own word, unattested (registration asks
// for attestation "none"): "hwk" does not prove the key is kept in
// hardware, and a software authenticator can claim it.
func amrOf(c Credential) string {
	if c.BackupEligible {
		return "swk"
	}
	return "hwk"
}

// signInBegin answers the options for navigator.credentials.get without a
// username: no allowed credentials (the browser offers the site's
// discoverable passkeys, in its autofill UI with mediation
// "conditional"), user verification required.
func (h *Handler) signInBegin(w http.ResponseWriter, r *http.Request) error {
	var req struct{}
	if err := readJSON(r, &req); err != nil {
		return err
	}
	s := h.cfg.Sessions.FromContext(r.Context())
	if err := s.Err(); err != nil {
		return err
	}
	assertion, sd, err := h.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return err
	}
	if err := h.begin(s, kindSignIn, ceremony{Challenge: sd.Challenge}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, assertion)
	return nil
}

// signInFinish verifies an assertion against the sign-in ceremony begun in
// this session, and signs its passkey's user in with a new session that
// records the proof (session.ProvedWith "hwk" or "swk"). Cost: a session
// renewal (Manager.Renew) before verifying, a Get and a Use of the Store,
// and Login.
func (h *Handler) signInFinish(w http.ResponseWriter, r *http.Request) error {
	parsed, err := h.readAssertion(r)
	if err != nil {
		return err
	}
	s := h.cfg.Sessions.FromContext(r.Context())
	if err := s.Err(); err != nil {
		return err
	}
	c, err := h.take(s, kindSignIn, "")
	if err != nil {
		return err
	}
	// take removed the ceremony from this request's copy of the session
	// only: a concurrent finish may still hold it. Renewing the session
	// before anything is verified spends it in the store, atomically: of
	// two finishes, the second meets ErrConflict (or a session that is
	// gone) and stops here. Cookie-only sessions cannot be renewed; there
	// single use is as strong as the mode's revocation (see the README).
	switch err := h.cfg.Sessions.Renew(w, r); {
	case errors.Is(err, session.ErrConflict), errors.Is(err, session.ErrNotAuthenticated):
		return errChallenge
	case err != nil && !errors.Is(err, session.ErrCookieOnly):
		return err
	}
	stored, err := h.cfg.Store.Get(r.Context(), parsed.RawID)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			// Removed, or never registered here: the browser may still
			// offer it.
			return errUnknown
		}
		return err
	}
	cred, err := h.verify(c, stored, parsed)
	if err != nil {
		h.logRefused(r.Context(), "passkey: sign-in refused", parsed.RawID, err)
		return errVerification
	}
	// Only now, the assertion verified, is a user handle that is not the
	// credential's a sign worth a warning (a forged assertion is any
	// failed verification above). A discoverable credential must return
	// its handle, so none at all is refused too.
	if !sameBytes(parsed.Response.UserHandle, stored.UserHandle) {
		h.logRefused(r.Context(), "passkey: sign-in with a user handle that is not the credential's", parsed.RawID, errVerification)
		return errVerification
	}
	if err := h.use(r, stored, cred); err != nil {
		return err
	}
	opts := append(append([]session.LoginOption(nil), h.cfg.LoginOptions...), session.ProvedWith(amrOf(stored)))
	if err := h.cfg.Sessions.Login(w, r, stored.UserID, opts...); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		OK bool `json:"ok"`
	}{true})
	return nil
}

// stepUpBegin answers the options for navigator.credentials.get limited to
// the signed-in user's passkeys.
func (h *Handler) stepUpBegin(w http.ResponseWriter, r *http.Request) error {
	var req struct{}
	if err := readJSON(r, &req); err != nil {
		return err
	}
	s, userID, err := h.signedIn(r)
	if err != nil {
		return err
	}
	creds, err := h.cfg.Store.ListUser(r.Context(), userID)
	if err != nil {
		return err
	}
	if len(creds) == 0 {
		return errNoPasskeys
	}
	u := &user{handle: handleOf(creds)}
	for _, c := range creds {
		u.creds = append(u.creds, toWebAuthn(c))
	}
	assertion, sd, err := h.wa.BeginLogin(u, webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return err
	}
	if err := h.begin(s, kindStepUp, ceremony{Challenge: sd.Challenge, UserID: userID}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, assertion)
	return nil
}

// stepUpFinish verifies an assertion by one of the signed-in user's own
// passkeys against the step-up begun in this session by the same user, and
// records the fresh proof on the session (Manager.StepUp: a new session ID,
// no new session).
func (h *Handler) stepUpFinish(w http.ResponseWriter, r *http.Request) error {
	parsed, err := h.readAssertion(r)
	if err != nil {
		return err
	}
	s, userID, err := h.signedIn(r)
	if err != nil {
		return err
	}
	c, err := h.take(s, kindStepUp, userID)
	if err != nil {
		return err
	}
	stored, err := h.cfg.Store.Get(r.Context(), parsed.RawID)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return errUnknown
		}
		return err
	}
	// Verified first, against the credential as stored (no list of the
	// passkeys the user had at begin, one of which may be gone): an
	// assertion that names another user's credential without its key is
	// any failed verification, so it tells nobody whose the credential is
	// and logs no false alarm.
	cred, err := h.verify(c, stored, parsed)
	if err != nil {
		h.logRefused(r.Context(), "passkey: step-up refused", parsed.RawID, err)
		return errVerification
	}
	if stored.UserID != userID {
		h.logRefused(r.Context(), "passkey: step-up with another user's passkey", parsed.RawID, errWrongUser)
		return errWrongUser
	}
	// The user handle, when the authenticator returns one, is the
	// credential's (two first passkeys registered at once got two).
	if len(parsed.Response.UserHandle) > 0 && !sameBytes(parsed.Response.UserHandle, stored.UserHandle) {
		h.logRefused(r.Context(), "passkey: step-up refused", parsed.RawID, errVerification)
		return errVerification
	}
	if err := h.use(r, stored, cred); err != nil {
		return err
	}
	switch err := h.cfg.Sessions.StepUp(w, r, amrOf(stored)); {
	case errors.Is(err, session.ErrNotAuthenticated):
		return errNotSignedIn
	case errors.Is(err, session.ErrConflict):
		return errConflict
	case err != nil:
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		OK bool `json:"ok"`
	}{true})
	return nil
}

// readAssertion parses the body: the credential navigator.credentials.get
// returned, as the script sends it.
func (h *Handler) readAssertion(r *http.Request) (*protocol.ParsedCredentialAssertionData, error) {
	var raw json.RawMessage
	if err := readJSON(r, &raw); err != nil {
		return nil, err
	}
	if err := checkCredentialKeys(raw, false); err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(raw)
	if err != nil {
		return nil, errBadRequest
	}
	return parsed, nil
}

// verify checks an assertion against the ceremony c and the stored
// credential alone: the challenge, origin, RP ID, flags, user verification
// and the signature by the credential's public key. The user handle an
// assertion carries is not signed, so it proves nothing here and is not
// compared: the callers compare it with the credential's once the
// assertion is verified. It changes nothing. Cost: one signature
// verification.
func (h *Handler) verify(c ceremony, stored Credential, parsed *protocol.ParsedCredentialAssertionData) (*webauthn.Credential, error) {
	handle := parsed.Response.UserHandle
	if len(handle) == 0 {
		handle = stored.UserHandle
	}
	sd := c.sessionData(h.cfg.RPID)
	sd.UserID = handle
	return h.wa.ValidateLogin(&user{handle: handle, creds: []webauthn.Credential{toWebAuthn(stored)}}, sd, parsed)
}

// use checks that a verified assertion's counter went up and that user
// verification happened, and records the use. A counter that did not go up
// (go-webauthn's clone warning, or the store's atomic check when two uses
// race) is refused and logged: a cloned authenticator may be in use.
func (h *Handler) use(r *http.Request, stored Credential, cred *webauthn.Credential) error {
	if !cred.Flags.UserVerified {
		return errVerification
	}
	if cred.Authenticator.CloneWarning {
		h.logRefused(r.Context(), "passkey: signature counter went back; the authenticator may be cloned", stored.ID, ErrCounterRegression)
		return errCounter
	}
	err := h.cfg.Store.Use(r.Context(), stored.ID, cred.Authenticator.SignCount, cred.Flags.BackupState, h.now())
	switch {
	case errors.Is(err, ErrCounterRegression):
		h.logRefused(r.Context(), "passkey: signature counter went back; the authenticator may be cloned", stored.ID, err)
		return errCounter
	case errors.Is(err, ErrNotFound):
		return errUnknown
	}
	return err
}
