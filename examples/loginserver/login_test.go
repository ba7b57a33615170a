package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sessionauth/session/password"
	"golang.org/x/crypto/bcrypt"
)

func TestLoginFormRedirectsToSignedInPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser("192.0.2.1:1234")
	r := b.postForm("/login", url.Values{"username": {"Demo"}, "password": {testPassword}})
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/" {
		t.Fatalf("Location %q", loc)
	}
	c := r.cookie()
	if c == nil || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" {
		t.Fatalf("session cookie %+v: want HttpOnly, Secure, SameSite=Lax, Path=/, no Domain", c)
	}
	if c.MaxAge != 0 || !c.Expires.IsZero() {
		t.Fatalf("without remember, the cookie must end with the browser session: %+v", c)
	}
	r = b.get("/")
	wantStatus(t, r, http.StatusOK)
	for _, s := range []string{`Signed in as <span id="username">demo</span>`, e.demo.ID, "Chrome on Linux", "this device", `action="/logout"`, `action="/logout-all"`} {
		if !strings.Contains(r.body, s) {
			t.Errorf("signed-in page lacks %q", s)
		}
	}
	if strings.Contains(r.body, "login-form") {
		t.Error("signed-in page shows the login form")
	}
	// The back button must not show this page from cache after sign-out.
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q on the signed-in page", cc)
	}
}

func TestLoginRememberMeSetsPersistentCookie(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser("192.0.2.1:1234")
	r := b.postForm("/login", url.Values{"username": {testUser}, "password": {testPassword}, "remember": {"on"}})
	wantStatus(t, r, http.StatusSeeOther)
	if c := r.cookie(); c == nil || c.MaxAge <= 0 {
		t.Fatalf("remember: cookie %+v, want a persistent one", c)
	}
	b2 := e.browser("192.0.2.2:1234")
	r = b2.postJSON("/login", `{"username":"demo","password":"`+testPassword+`","remember":true}`)
	wantStatus(t, r, http.StatusOK)
	if c := r.cookie(); c == nil || c.MaxAge <= 0 {
		t.Fatalf("JSON remember: cookie %+v", c)
	}
}

func TestLoginJSONAnswersTheUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser("192.0.2.1:1234")
	r := b.login(testUser, testPassword)
	wantStatus(t, r, http.StatusOK)
	var got userJSON
	r.json(t, &got)
	if got != (userJSON{ID: e.demo.ID, Username: testUser}) {
		t.Fatalf("body %+v", got)
	}
	r = b.get("/me")
	wantStatus(t, r, http.StatusOK)
	r.json(t, &got)
	if got.ID != e.demo.ID {
		t.Fatalf("/me %+v", got)
	}
}

// No user enumeration: Unknown user, wrong password and an impossible
// username give the same answer, and each costs an argon2id hash.
func TestLoginSameAnswerForUnknownUserAndWrongPassword(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cases := []struct{ user, pw string }{
		{testUser, "wrong password, long enough"},
		{"nobody", "wrong password, long enough"},
		{"no spaces allowed", "wrong password, long enough"},
		{testUser, strings.Repeat("x", password.MaxBytes+1)},
	}
	var first *response
	for i, c := range cases {
		r := e.browser(fmt.Sprintf("192.0.2.%d:1", i+1)).login(c.user, c.pw)
		wantStatus(t, r, http.StatusUnauthorized)
		if msg := r.errorMsg(t); msg != "invalid credentials" {
			t.Fatalf("%q: error %q", c.user, msg)
		}
		if first == nil {
			first = r
		} else if r.body != first.body {
			t.Fatalf("bodies differ: %q vs %q", r.body, first.body)
		}
		if r.cookie() != nil {
			t.Fatal("failed login set a cookie")
		}
	}
	// Form failures: the page again, 401, the same message.
	r := e.browser("192.0.2.9:1").postForm("/login", url.Values{"username": {"nobody"}, "password": {"x"}})
	wantStatus(t, r, http.StatusUnauthorized)
	if !strings.Contains(r.body, "That username and password do not match.") || !strings.Contains(r.body, `value="nobody"`) {
		t.Fatalf("form failure page: %s", r.body)
	}
}

// Not parallel: it measures heap allocation, which other tests would only
// increase, so the lower bound stays sound.
func TestLoginUnknownUserCostsAHash(t *testing.T) {
	e := newEnv(t)
	argon := uint64(19456) * 1024 // the password package's default memory, 19 MiB
	for i, user := range []string{"nobody", "not a valid name!", testUser} {
		b := e.browser(fmt.Sprintf("198.51.100.%d:1", i))
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		r := b.login(user, "wrong password, long enough")
		runtime.ReadMemStats(&after)
		wantStatus(t, r, http.StatusUnauthorized)
		if n := after.TotalAlloc - before.TotalAlloc; n < argon {
			t.Errorf("login as %q allocated %d bytes, want >= %d (one argon2id hash)", user, n, argon)
		}
	}
}

// A login with a hash below policy (here bcrypt from an older system)
// stores a new argon2id hash.
func TestLoginUpgradesOldHash(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	old, err := bcrypt.GenerateFromPassword([]byte("an old bcrypt password"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	u, err := e.users.Create(context.Background(), "legacy", string(old))
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, e.browser("192.0.2.1:1").login("legacy", "an old bcrypt password"), http.StatusOK)
	u, _ = e.users.ByID(context.Background(), u.ID)
	if !strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash not upgraded: %.20s...", u.PasswordHash)
	}
	wantStatus(t, e.browser("192.0.2.1:1").login("legacy", "an old bcrypt password"), http.StatusOK)
}

// racyUsers simulates a password change committed right after a login read
// the user's record.
type racyUsers struct {
	*memoryUsers
	changeTo atomic.Pointer[string]
}

func (s *racyUsers) ByUsername(ctx context.Context, name string) (User, error) {
	u, err := s.memoryUsers.ByUsername(ctx, name)
	if h := s.changeTo.Swap(nil); err == nil && h != nil {
		if err := s.memoryUsers.SetPasswordHash(ctx, u.ID, *h); err != nil {
			panic(err)
		}
	}
	return u, err
}

// newRacyEnv is newEnv with its users behind racyUsers.
func newRacyEnv(t *testing.T) (*env, *racyUsers) {
	t.Helper()
	var ru *racyUsers
	e := newEnv(t, func(c *appConfig) {
		ru = &racyUsers{memoryUsers: c.Users.(*memoryUsers)}
		c.Users = ru
	})
	return e, ru
}

// The login-time re-hash writes only if the stored hash is still the one it
// checked: a password change (or an admin reset) that lands while a login
// with the old password is verifying is never reverted.
func TestLoginRehashDoesNotRevertPasswordChange(t *testing.T) {
	t.Parallel()
	e, ru := newRacyEnv(t)
	ctx := context.Background()
	u, err := e.users.Create(ctx, "legacy", cheapHash(t, "the old bcrypt password"))
	if err != nil {
		t.Fatal(err)
	}
	newHash := cheapHash(t, "the brand new password")
	ru.changeTo.Store(&newHash)
	e.browser("192.0.2.1:1").login("legacy", "the old bcrypt password")
	got, err := e.users.ByID(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.PasswordHash != newHash {
		t.Fatalf("the password change was overwritten by the re-hash of the old password: stored %.20s...", got.PasswordHash)
	}
}

// A sign-in that checked the old password while a password change stored
// the new one fails, and leaves no session behind: the change ends the
// other sessions only after storing the hash, so a session this sign-in
// started afterwards would otherwise outlive the old password.
func TestLoginRacingAPasswordChangeLeavesNoSession(t *testing.T) {
	t.Parallel()
	e, ru := newRacyEnv(t)
	newHash := cheapHash(t, "the brand new password")
	ru.changeTo.Store(&newHash)
	b := e.browser("192.0.2.1:1")
	r := b.login(testUser, testPassword)
	wantStatus(t, r, http.StatusUnauthorized)
	if msg := r.errorMsg(t); msg != "invalid credentials" {
		t.Errorf("error %q; want invalid credentials", msg)
	}
	// Refused like a wrong password: no device cookie, which would give
	// this browser a sign-in budget of its own for the account.
	for _, c := range r.Cookies() {
		if c.Name == "__Host-device" {
			t.Errorf("a sign-in with a replaced password got a device cookie")
		}
	}
	wantStatus(t, b.get("/me"), http.StatusUnauthorized)
	infos, err := e.app.sessions.ListSessions(context.Background(), e.demo.ID)
	if err != nil || len(infos) != 0 {
		t.Fatalf("the account holds %d sessions (%v) after a sign-in with the replaced password; want none", len(infos), err)
	}
	// With the new password, and with no change racing, signing in works.
	wantStatus(t, b.login(testUser, "the brand new password"), http.StatusOK)
}

func TestLoginAnswers503WhenSessionStoreDown(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.faults.Fail(nil)
	r := e.browser("192.0.2.1:1").login(testUser, testPassword)
	wantStatus(t, r, http.StatusServiceUnavailable)
	if msg := r.errorMsg(t); msg != "session store unavailable" {
		t.Fatalf("error %q", msg)
	}
}
