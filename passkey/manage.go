package passkey

import (
	"encoding/base64"
	"net/http"
	"time"
)

// item is how the JSON endpoints show a passkey: never its key or handle.
type item struct {
	ID       string     `json:"id"` // base64url, as rename and remove take it
	Name     string     `json:"name"`
	Created  time.Time  `json:"created"`
	LastUsed *time.Time `json:"last_used,omitempty"`
	Synced   bool       `json:"synced"` // backup-eligible: it can be on the user's other devices
}

func listItem(c Credential) item {
	it := item{ID: base64.RawURLEncoding.EncodeToString(c.ID), Name: c.Name, Created: c.Created, Synced: c.BackupEligible}
	if !c.LastUsed.IsZero() {
		t := c.LastUsed
		it.LastUsed = &t
	}
	return it
}

// list answers {"passkeys": [...]}, the signed-in user's passkeys, oldest
// first.
func (h *Handler) list(w http.ResponseWriter, r *http.Request) error {
	var req struct{}
	if err := readJSON(r, &req); err != nil {
		return err
	}
	_, userID, err := h.signedIn(r)
	if err != nil {
		return err
	}
	creds, err := h.cfg.Store.ListUser(r.Context(), userID)
	if err != nil {
		return err
	}
	out := struct {
		Passkeys []item `json:"passkeys"`
	}{make([]item, 0, len(creds))}
	for _, c := range creds {
		out.Passkeys = append(out.Passkeys, listItem(c))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// rename sets the name of one of the signed-in user's passkeys:
// {"id": ..., "name": ...}.
func (h *Handler) rename(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	if err := readJSON(r, &req); err != nil {
		return err
	}
	id, err := decodeID(req.ID)
	if err != nil {
		return err
	}
	name, ok := cleanName(req.Name)
	if !ok || name == "" {
		return errBadRequest
	}
	_, userID, err := h.signedIn(r)
	if err != nil {
		return err
	}
	if err := h.cfg.Store.Rename(r.Context(), userID, id, name); err != nil {
		return storeErr(err)
	}
	writeJSON(w, http.StatusOK, struct {
		OK bool `json:"ok"`
	}{true})
	return nil
}

// remove deletes one of the signed-in user's passkeys: {"id": ...}. The
// Handler serves it only to a session with a recent proof (see
// Config.RecentAuth).
func (h *Handler) remove(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		ID string `json:"id"`
	}
	if err := readJSON(r, &req); err != nil {
		return err
	}
	id, err := decodeID(req.ID)
	if err != nil {
		return err
	}
	_, userID, err := h.signedIn(r)
	if err != nil {
		return err
	}
	if err := h.cfg.Store.Delete(r.Context(), userID, id); err != nil {
		return storeErr(err)
	}
	writeJSON(w, http.StatusOK, struct {
		OK bool `json:"ok"`
	}{true})
	return nil
}
