package main

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/sessionauth/session"
)

// maxListedSessions bounds the sessions list (page and JSON): the current
// session and the most recently used others. An account with more sessions
// than that gets the count of the rest. The library already caps a user's
// sessions (session.Config.MaxSessionsPerUser, 32 by default); this bound
// holds if that cap is raised.
const maxListedSessions = 50

type sessionJSON struct {
	ID         string    `json:"id"`
	Device     string    `json:"device"`
	Location   string    `json:"location"`
	UserAgent  string    `json:"user_agent"`
	Created    time.Time `json:"created"`
	LastSeen   time.Time `json:"last_seen"`
	Expires    time.Time `json:"expires"`
	RememberMe bool      `json:"remember_me"`
	Current    bool      `json:"current"`
}

// listSessions answers the signed-in user's sessions (behind RequireAuth):
// public IDs and metadata, never tokens or store keys.
func (a *app) listSessions(w http.ResponseWriter, r *http.Request) {
	rows, _, err := a.sessionRows(r)
	if err != nil {
		a.log.ErrorContext(r.Context(), "list sessions", "error", err)
		writeError(w, http.StatusServiceUnavailable, errSessionStoreDown.code)
		return
	}
	writeJSON(w, http.StatusOK, rows)
}

// sessionRows lists the user's sessions, this one first, then the most
// recently used, at most maxListedSessions; more is how many were left out.
func (a *app) sessionRows(r *http.Request) (rows []sessionJSON, more int, err error) {
	s := session.FromContext(r.Context())
	infos, err := a.sessions.ListSessions(r.Context(), s.UserID())
	if err != nil {
		return nil, 0, err
	}
	current, viewer := s.ID(), a.clientNetwork(r)
	rows = make([]sessionJSON, 0, len(infos))
	for _, in := range infos {
		ua := in.Values[valueUserAgent]
		rows = append(rows, sessionJSON{
			ID: in.ID, Device: deviceLabel(ua), Location: locationLabel(in.Values[valueNetwork], viewer), UserAgent: ua,
			Created: in.Created.UTC(), LastSeen: in.LastSeen.UTC(), Expires: in.Expires.UTC(),
			RememberMe: in.RememberMe, Current: in.ID == current,
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
	if len(rows) > maxListedSessions {
		more = len(rows) - maxListedSessions
		rows = rows[:maxListedSessions]
	}
	return rows, more, nil
}

// logoutDevice ends one of the signed-in user's sessions, named by its
// public ID (behind RequireAuth): the "Sign out" button of another device.
// Forms get 303 to / with a notice; API clients 204, or 404 when the user
// has no such session. Naming the current session signs this device out.
func (a *app) logoutDevice(w http.ResponseWriter, r *http.Request) {
	s := session.FromContext(r.Context())
	uid, id := s.UserID(), r.PathValue("id")
	if id == s.ID() {
		a.logout(w, r)
		return
	}
	err := a.sessions.LogoutSession(r.Context(), uid, id)
	switch {
	case errors.Is(err, session.ErrNotFound):
		if !isForm(r) {
			writeError(w, http.StatusNotFound, "no such session")
			return
		}
		setNotice(s, noticeInfo, "That device was already signed out.")
	case err != nil:
		a.log.ErrorContext(r.Context(), "logout device: session store", "user_id", uid, "error", err)
		if !isForm(r) {
			writeError(w, http.StatusServiceUnavailable, errSessionStoreDown.code)
			return
		}
		setNotice(s, noticeWarning, "That device could not be signed out right now. Please try again in a minute.")
	default:
		a.log.InfoContext(r.Context(), "signed out a device", "user_id", uid, "session", id)
		setNotice(s, noticeSuccess, "The other device was signed out.")
	}
	a.done(w, r)
}
