package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionauth/session"
	"golang.org/x/crypto/bcrypt"
)

// Review tests (branch review2). Each failing test is marked BUG.

// cheapHash is a bcrypt hash at the lowest cost (about 1 ms), so tests can
// fail many logins without paying for argon2id each time.
func cheapHash(t *testing.T, pw string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

// Regression (found in review, fixed): an attacker spending 5 wrong guesses each time the account lockout ends keeps the account locked forever, even for its owner with the right password from a clean address and a browser that signed in before (S46).
func TestReview_S46_AccountLockoutCannotDenyUserForever(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	const victimPW = "the victim's own password"
	u, err := e.users.Create(ctx, "victim", cheapHash(t, victimPW))
	if err != nil {
		t.Fatal(err)
	}
	// The owner has signed in from this browser before (any device cookie
	// a fix might set is kept); then the session ended.
	owner := e.browser("192.0.2.200:1")
	wantStatus(t, owner.login("victim", victimPW), http.StatusOK)
	delete(owner.cookies, session.DefaultCookieName)
	// Keep failures cheap: put the (upgraded) hash back to bcrypt cost 4.
	if err := e.users.SetPasswordHash(ctx, u.ID, cheapHash(t, victimPW)); err != nil {
		t.Fatal(err)
	}

	start := e.clock.Now()
	for round := 0; e.clock.Now().Sub(start) < 6*time.Hour; round++ {
		// The attacker, from a fresh address each time: 5 wrong guesses.
		atk := e.browser(fmt.Sprintf("198.51.%d.%d:1", round/200, round%200+1))
		for range 5 {
			atk.login("victim", "attacker guess, long enough")
		}
		e.clock.Advance(30 * time.Second)
		r := owner.login("victim", victimPW)
		if r.StatusCode == http.StatusOK {
			return // the owner got in
		}
		wantStatus(t, r, http.StatusTooManyRequests)
		n, err := strconv.Atoi(r.Header.Get("Retry-After"))
		if err != nil || n < 1 {
			t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
		}
		e.clock.Advance(time.Duration(n) * time.Second) // the lockout ends; the attacker is back at once
	}
	t.Fatalf("the owner, with the right password, got 429 for %v straight: 5 guesses per lockout deny the account forever (S46)", e.clock.Now().Sub(start))
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

// Regression (found in review, fixed): GET /me answers 401 "not authenticated" when the user store fails, so an outage looks like a sign-out to API clients (it should be 503, as for the session store).
func TestReview_MeAnswers503WhenUserStoreDown(t *testing.T) {
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

// Regression (found in review, fixed): the login-time re-hash (S42) writes unconditionally, so a password change (or admin reset) that lands while an old-password login is verifying is silently reverted to the old password.
func TestReview_S42_RehashDoesNotRevertPasswordChange(t *testing.T) {
	t.Parallel()
	var ru *racyUsers
	e := newEnv(t, func(c *appConfig) {
		ru = &racyUsers{memoryUsers: c.Users.(*memoryUsers)}
		c.Users = ru
	})
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

// Regression (found in review, fixed): a REDIS_URL whose password holds an unescaped '/', '?' or '#' makes url.Parse fail with `invalid port ":<password prefix>"`, and that text is printed to stderr.
func TestReview_S12_RedisURLErrorNeverShowsPassword(t *testing.T) {
	t.Parallel()
	for _, u := range []string{
		"redis://:s3cretpw/x@127.0.0.1:6379/0",
		"redis://:s3cretpw?x@127.0.0.1:6379",
		"redis://user:s3cretpw#x@127.0.0.1:6379",
	} {
		err := run(context.Background(), envFunc(map[string]string{"ADDR": "127.0.0.1:0", "REDIS_URL": u}), io.Discard, nil)
		if err == nil {
			t.Fatalf("REDIS_URL=%q: no error", u)
		}
		if strings.Contains(err.Error(), "s3cretpw") {
			t.Errorf("error shows the Redis password: %v", err)
		}
	}
}
