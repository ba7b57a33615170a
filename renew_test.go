package session

import (
	"context"
	"net/http"
	"testing"
)

func TestS14_RenewIssuesNewTokenKeepsUserAndData(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	c := h.login("alice")
	h.do("GET", "/set?k=role&v=admin", c)
	w := h.do("POST", "/renew", c)
	nc := sessionCookie(t, w, h.m.cookie.Name)
	if nc == nil || nc.Value == c {
		t.Fatalf("Renew did not issue a new token: %+v", nc)
	}
	if h.whoami(c) != "" {
		t.Fatal("old token still valid after Renew")
	}
	if h.whoami(nc.Value) != "alice" || h.do("GET", "/get?k=role", nc.Value).Body.String() != "admin" {
		t.Fatal("Renew lost the user or data")
	}
}

func TestS17_LogoutOthersRenewsCurrent(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	phone := h.login("alice")
	laptop := h.login("alice")
	bob := h.login("bob")
	h.do("GET", "/set?k=theme&v=dark", laptop)
	w := h.do("POST", "/logout-others", laptop)
	nc := sessionCookie(t, w, h.m.cookie.Name)
	if w.Code != 200 || nc == nil || nc.Value == laptop {
		t.Fatalf("LogoutOthers: %d, cookie %+v", w.Code, nc)
	}
	if h.whoami(phone) != "" || h.whoami(laptop) != "" {
		t.Fatal("another session survived the password change")
	}
	if h.whoami(nc.Value) != "alice" || h.do("GET", "/get?k=theme", nc.Value).Body.String() != "dark" {
		t.Fatal("the current session was not carried over")
	}
	if h.whoami(bob) != "bob" {
		t.Fatal("other user affected")
	}
	if w := h.do("POST", "/logout-others"); w.Code != 500 {
		t.Fatalf("anonymous LogoutOthers = %d", w.Code)
	}
}

// Regression (found in review, fixed): Renew and LogoutOthers re-create a session that a concurrent Logout or
// LogoutAll deleted (replace() ignores that the old record is gone): S35 says
// only Login creates.
func TestS35_RenewAfterConcurrentLogoutDoesNotResurrect(t *testing.T) {
	t.Parallel()
	revokes := map[string]func(h *harness, c string){
		"Logout":    func(h *harness, c string) { h.do("POST", "/logout", c) },
		"LogoutAll": func(h *harness, c string) { _ = h.m.LogoutAll(context.Background(), "alice") },
	}
	calls := map[string]func(m *Manager, w http.ResponseWriter, r *http.Request) error{
		"Renew":        (*Manager).Renew,
		"LogoutOthers": (*Manager).LogoutOthers,
	}
	for rname, revoke := range revokes {
		for cname, call := range calls {
			t.Run(cname+"_after_"+rname, func(t *testing.T) {
				t.Parallel()
				h := newHarness(t, nil)
				c := h.login("alice")
				var callErr error
				release := slowRequest(t, h, c, func(w http.ResponseWriter, r *http.Request) {
					callErr = call(h.m, w, r)
				})
				revoke(h, c) // the user (or an admin) revokes the session meanwhile
				w := release()
				list, _ := h.mem.ListUser(context.Background(), "alice")
				if len(list) != 0 {
					t.Errorf("%s after %s: %d live sessions of alice (err %v); the revoked session came back", cname, rname, len(list), callErr)
				}
				if sc := sessionCookie(t, w, h.m.cookie.Name); sc != nil && sc.Value != "" {
					if got := h.whoami(sc.Value); got != "" {
						t.Errorf("%s after %s handed out a fresh cookie that authenticates as %q", cname, rname, got)
					}
				}
			})
		}
	}
}
