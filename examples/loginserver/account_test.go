package main

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

func TestMeAnswersWhoIsSignedIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser("192.0.2.1:1")
	r := b.get("/me")
	wantStatus(t, r, http.StatusUnauthorized)
	if msg := r.errorMsg(t); msg != "not authenticated" {
		t.Fatalf("error %q", msg)
	}
	b.mustLogin()
	wantStatus(t, b.get("/me"), http.StatusOK)
	// Store down: 503, never 401 (the client must not think it was signed out).
	e.faults.Fail(nil)
	r = b.get("/me")
	wantStatus(t, r, http.StatusServiceUnavailable)
	r.errorMsg(t)
	if r.cookie() != nil {
		t.Fatal("a store outage overwrote the client's cookie")
	}
	e.faults.Heal()
	wantStatus(t, b.get("/me"), http.StatusOK)
}

// flakyUsers is a UserStore that can fail like a database going down.
type flakyUsers struct {
	UserStore
	down atomic.Bool
}

var errUsersDown = errors.New("user database down")

func (f *flakyUsers) ByID(ctx context.Context, id string) (User, error) {
	if f.down.Load() {
		return User{}, errUsersDown
	}
	return f.UserStore.ByID(ctx, id)
}

// A user-store outage is a 503 on GET /me, as for the session store: a 401
// would tell API clients they were signed out.
func TestMeAnswers503WhenUserStoreDown(t *testing.T) {
	t.Parallel()
	var fu *flakyUsers
	e := newEnv(t, func(c *appConfig) {
		fu = &flakyUsers{UserStore: c.Users}
		c.Users = fu
	})
	b := e.browser("192.0.2.1:1")
	b.mustLogin()
	fu.down.Store(true)
	r := b.get("/me")
	if r.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("user store down: GET /me = %d %q, want 503", r.StatusCode, r.body)
	}
}

func TestSessionOfDeletedUserIsSignedOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, err := e.users.Create(context.Background(), "temp", testHash())
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser("192.0.2.1:1")
	wantStatus(t, b.login("temp", testPassword), http.StatusOK)
	e.users.mu.Lock()
	delete(e.users.byID, u.ID)
	delete(e.users.byName, "temp")
	e.users.mu.Unlock()
	r := b.get("/")
	wantStatus(t, r, http.StatusOK)
	if !strings.Contains(r.body, "login-form") {
		t.Fatal("deleted user still sees the signed-in page")
	}
	if c := r.cookie(); c == nil || c.MaxAge >= 0 {
		t.Fatalf("cookie of a deleted user not expired: %+v", c)
	}
}
