package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sessionauth/session"
)

func TestThrottleLocksAccountForAddressesThatFailed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Five wrong passwords from five addresses: the account is locked...
	for i := range 5 {
		r := e.browser(fmt.Sprintf("203.0.113.%d:1", i)).login(testUser, "wrong password, long enough")
		wantStatus(t, r, http.StatusUnauthorized)
	}
	// ...for every address that has failed for it, even with the right
	// password, with a Retry-After.
	b := e.browser("203.0.113.4:1")
	r := b.login(testUser, testPassword)
	wantStatus(t, r, http.StatusTooManyRequests)
	if ra := r.Header.Get("Retry-After"); ra != "60" {
		t.Fatalf("Retry-After %q, want 60", ra)
	}
	r.errorMsg(t)
	// The form gets the page with the message, and the same header.
	r = b.postForm("/login", url.Values{"username": {testUser}, "password": {testPassword}})
	wantStatus(t, r, http.StatusTooManyRequests)
	if r.Header.Get("Retry-After") == "" || !strings.Contains(r.body, "Too many failed attempts. For your safety, please wait about a minute") {
		t.Fatalf("form 429: %v %s", r.Header, r.body)
	}
	// A new address gets one guess, and is then locked out of the account too.
	atk := e.browser("198.51.100.9:1")
	wantStatus(t, atk.login(testUser, "another wrong password"), http.StatusUnauthorized)
	wantStatus(t, atk.login(testUser, "yet another wrong password"), http.StatusTooManyRequests)
	// The owner, from an address that never failed, is not locked out (an
	// attacker cannot deny the account to its owner).
	wantStatus(t, e.browser("192.0.2.77:1").login(testUser, testPassword), http.StatusOK)
	// Other accounts are not affected, even from a locked address.
	if _, err := e.users.Create(context.Background(), "other", testHash()); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, b.login("other", testPassword), http.StatusOK)
	// The lockout ends.
	e.clock.Advance(61 * time.Second)
	wantStatus(t, b.login(testUser, testPassword), http.StatusOK)
}

func TestThrottleLocksAddressGuessingManyAccounts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser("[2001:db8:1:2::10]:443")
	// Guessing at many accounts from one network: 50 failures lock it.
	for i := range 50 {
		wantStatus(t, b.login(fmt.Sprintf("user%d", i), "wrong password, long enough"), http.StatusUnauthorized)
	}
	r := b.login(testUser, testPassword)
	wantStatus(t, r, http.StatusTooManyRequests)
	if n, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || n < 1 {
		t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	// Another address in the same IPv6 /64 is the same network.
	wantStatus(t, e.browser("[2001:db8:1:2::99]:443").login(testUser, testPassword), http.StatusTooManyRequests)
	// A different network is fine, and the account itself is not locked.
	wantStatus(t, e.browser("192.0.2.5:1").login(testUser, testPassword), http.StatusOK)
}

// An attacker who spends 5 wrong guesses each time the account lockout ends
// cannot keep the owner out: with the right password, from an address that
// never failed, the owner gets in.
func TestThrottleCannotDenyOwnerForever(t *testing.T) {
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
	t.Fatalf("the owner, with the right password, got 429 for %v straight: 5 guesses per lockout deny the account forever", e.clock.Now().Sub(start))
}

func TestLoginAnswers503WhenNoHashSlotFrees(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *appConfig) { c.HashSlots = 1; c.HashSlotWait = time.Millisecond })
	e.app.hashSlots <- struct{}{} // every slot taken
	r := e.browser("192.0.2.1:1").login(testUser, testPassword)
	wantStatus(t, r, http.StatusServiceUnavailable)
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("503 without Retry-After")
	}
	<-e.app.hashSlots
	wantStatus(t, e.browser("192.0.2.1:1").login(testUser, testPassword), http.StatusOK)
}
