package session

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestListSessionsAndLogoutSessionEndOneDevice(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	a1 := h.login("alice")
	a2 := h.login("alice")
	list, err := h.m.ListSessions(context.Background(), "alice")
	if err != nil || len(list) != 2 {
		t.Fatalf("Sessions = %v, %v", list, err)
	}
	var id string
	app := h.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id = FromContext(r.Context()).ID()
	}))
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: h.m.cookie.Name, Value: a1})
	app.ServeHTTP(httptest.NewRecorder(), r)
	found := false
	for _, s := range list {
		if len(s.ID) != 16 || s.Created.IsZero() || s.LastSeen.Before(s.Created) {
			t.Fatalf("bad SessionInfo %+v", s)
		}
		found = found || s.ID == id
	}
	if !found {
		t.Fatal("Session.ID does not match SessionInfo.ID")
	}
	if err := h.m.LogoutSession(context.Background(), "alice", id); err != nil {
		t.Fatal(err)
	}
	if h.whoami(a1) != "" || h.whoami(a2) != "alice" {
		t.Fatal("LogoutSession ended the wrong session")
	}
	if err := h.m.LogoutSession(context.Background(), "bob", id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("LogoutSession of another user's ID = %v", err)
	}
}

// SessionInfo goes to a devices page as JSON: snake_case fields, and never
// the session's values.
func TestSessionInfoJSONLeavesValuesOut(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	c := h.login("alice")
	h.do("GET", "/set?k=secret-key&v=secret-value", c)
	list, err := h.m.ListSessions(context.Background(), "alice")
	if err != nil || len(list) != 1 || list[0].Values["secret-key"] != "secret-value" {
		t.Fatalf("ListSessions = %+v, %v", list, err)
	}
	b, err := json.Marshal(list[0])
	if err != nil {
		t.Fatal(err)
	}
	if s := containsAny(string(b), "secret", "Values", "values"); s != "" {
		t.Fatalf("SessionInfo JSON carries %q: %s", s, b)
	}
	var fields map[string]any
	if err := json.Unmarshal(b, &fields); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "created", "last_seen", "expires", "remember_me"} {
		if _, ok := fields[k]; !ok {
			t.Fatalf("SessionInfo JSON lacks %q: %s", k, b)
		}
	}
}
