package main

import (
	"net/http"
	"slices"
	"time"

	"github.com/sessionauth/session"
)

type sessionJSON struct {
	ID         string    `json:"id"`
	Device     string    `json:"device"`
	UserAgent  string    `json:"user_agent"`
	Created    time.Time `json:"created"`
	LastSeen   time.Time `json:"last_seen"`
	Expires    time.Time `json:"expires"`
	Persistent bool      `json:"persistent"`
	Current    bool      `json:"current"`
}

// listSessions answers the signed-in user's sessions (behind RequireAuth):
// public IDs and metadata, never tokens or store keys.
func (a *app) listSessions(w http.ResponseWriter, r *http.Request) {
	rows, err := a.sessionRows(r)
	if err != nil {
		a.log.ErrorContext(r.Context(), "list sessions", "error", err)
		writeError(w, http.StatusServiceUnavailable, "session store unavailable")
		return
	}
	writeJSON(w, http.StatusOK, rows)
}

// sessionRows lists the user's sessions, this one first, then the most
// recently used.
func (a *app) sessionRows(r *http.Request) ([]sessionJSON, error) {
	s := session.FromContext(r.Context())
	infos, err := a.sessions.Sessions(r.Context(), s.UserID())
	if err != nil {
		return nil, err
	}
	rows := make([]sessionJSON, 0, len(infos))
	for _, in := range infos {
		ua := in.Values["ua"]
		rows = append(rows, sessionJSON{
			ID: in.ID, Device: deviceLabel(ua), UserAgent: ua,
			Created: in.Created.UTC(), LastSeen: in.LastSeen.UTC(), Expires: in.Expires.UTC(),
			Persistent: in.Persistent, Current: in.ID == s.ID(),
		})
	}
	slices.SortFunc(rows, func(x, y sessionJSON) int {
		if x.Current != y.Current {
			if x.Current {
				return -1
			}
			return 1
		}
		return y.LastSeen.Compare(x.LastSeen)
	})
	return rows, nil
}
