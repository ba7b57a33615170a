package main

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"time"

	"github.com/sessionauth/session/passkey"
)

// newPasskeys builds the passkey handler (package passkey), mounted at
// /passkey/: register, sign in without a username (a button, and the
// browser's autofill), step-up, list, rename, remove. The relying party is
// BASE_URL's host; ceremonies are accepted from BASE_URL only.
func (a *app) newPasskeys(store passkey.Store, baseURL string) (*passkey.Handler, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, err
	}
	if store == nil {
		store = passkey.NewMemoryStore()
	}
	a.passkeyStore = store
	return passkey.New(passkey.Config{
		Sessions: a.sessions,
		Store:    store,
		RPID:     u.Hostname(),
		RPName:   "loginserver",
		Origins:  []string{baseURL},
		UserName: func(ctx context.Context, userID string) (string, error) {
			u, err := a.users.ByID(ctx, userID)
			return u.Username, err
		},
		Logger: a.log,
	})
}

// passkeyRow is a passkey on the account page.
type passkeyRow struct {
	ID       string // base64url, as the handler's rename and remove take it
	Name     string
	Created  time.Time
	LastUsed time.Time
	Synced   bool
}

// passkeyRows lists the user's passkeys for the account page.
func (a *app) passkeyRows(ctx context.Context, userID string) ([]passkeyRow, error) {
	if a.passkeyStore == nil {
		return nil, nil
	}
	creds, err := a.passkeyStore.ListUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	rows := make([]passkeyRow, 0, len(creds))
	for _, c := range creds {
		rows = append(rows, passkeyRow{ID: base64.RawURLEncoding.EncodeToString(c.ID), Name: c.Name,
			Created: c.Created, LastUsed: c.LastUsed, Synced: c.BackupEligible})
	}
	return rows, nil
}

// hasPasskeys reports whether the user has a passkey (the confirm page then
// offers one); a store failure counts as none.
func (a *app) hasPasskeys(r *http.Request, userID string) bool {
	if a.passkeyStore == nil {
		return false
	}
	creds, err := a.passkeyStore.ListUser(r.Context(), userID)
	return err == nil && len(creds) > 0
}
