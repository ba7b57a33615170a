package passkey

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionauth/session"
)

func TestSignInWithoutAUsernameRecordsThePasskeyProof(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		synced bool
		amr    string
	}{
		// The flags are the authenticator's own word, unattested: this
		// software key, reporting itself device-bound, gets "hwk", as the
		// README says.
		{"reported device-bound (unattested) is hwk", false, "hwk"},
		{"reported backup-eligible (synced) is swk", true, "swk"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			app := newTestApp(t)
			a := newSoftAuthn(t)
			a.synced = tc.synced
			alice := app.visitor()
			alice.login("alice")
			alice.register(a, "laptop")

			// Another browser, nobody signed in: no username is sent.
			v := app.visitor()
			opts := v.must("/passkey/signin/begin", nil)
			if strings.Contains(string(opts), "allowCredentials") {
				t.Fatalf("sign-in options name credentials: %s", opts)
			}
			v.must("/passkey/signin/finish", a.get(opts))
			got := v.me()
			if got.User != "alice" || !slices.Equal(got.AMR, []string{tc.amr}) || got.AuthTime.IsZero() {
				t.Fatalf("after passkey sign-in: %+v, want alice with [%s]", got, tc.amr)
			}
		})
	}
}

func TestReplayedAssertionIsRefused(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	a := newSoftAuthn(t)
	alice := app.visitor()
	alice.login("alice")
	alice.register(a, "")

	v := app.visitor()
	assertion := a.get(v.must("/passkey/signin/begin", nil))
	v.must("/passkey/signin/finish", assertion)
	// The same assertion again: the ceremony is used up.
	v.refused("/passkey/signin/finish", assertion, http.StatusBadRequest, "challenge")
	// Again after a new begin: its challenge is not the one signed.
	v.must("/passkey/signin/begin", nil)
	v.refused("/passkey/signin/finish", assertion, http.StatusBadRequest, "verification")
	// From another browser that began its own sign-in.
	w := app.visitor()
	w.must("/passkey/signin/begin", nil)
	w.refused("/passkey/signin/finish", assertion, http.StatusBadRequest, "verification")
	if got := w.me().User; got != "" {
		t.Fatalf("a replayed assertion signed in as %q", got)
	}
}

func TestChallengeFromAnotherVisitorsSessionIsRefused(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	a := newSoftAuthn(t)
	alice := app.visitor()
	alice.login("alice")
	alice.register(a, "")

	victim, attacker := app.visitor(), app.visitor()
	// The attacker has the victim's ceremony signed (a phished challenge)
	// and finishes it in a session that never began it.
	signed := a.get(victim.must("/passkey/signin/begin", nil))
	attacker.refused("/passkey/signin/finish", signed, http.StatusBadRequest, "challenge")
	// Or in a session that began a ceremony of its own.
	attacker.must("/passkey/signin/begin", nil)
	attacker.refused("/passkey/signin/finish", signed, http.StatusBadRequest, "verification")
	if got := attacker.me().User; got != "" {
		t.Fatalf("the attacker is signed in as %q", got)
	}
	// The victim's own ceremony still works.
	victim.must("/passkey/signin/finish", signed)
}

func TestWrongOriginOrRPIDIsRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, origin, rpID, top string
	}{
		{"another site's origin", "https://evil.example", testRPID, ""},
		{"a subdomain not in Origins", "https://evil.example.com", testRPID, ""},
		{"http instead of https", "http://example.com", testRPID, ""},
		{"another RP ID", testOrigin, "evil.example", ""},
		{"a parent RP ID", testOrigin, "com", ""},
		{"a cross-origin iframe in another site's page", testOrigin, testRPID, "https://evil.example"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			app := newTestApp(t)
			a := newSoftAuthn(t)
			alice := app.visitor()
			alice.login("alice")
			alice.register(a, "")

			a.origin, a.rpID, a.top = tc.origin, tc.rpID, tc.top
			v := app.visitor()
			v.refused("/passkey/signin/finish", a.get(v.must("/passkey/signin/begin", nil)), http.StatusBadRequest, "verification")
			if got := v.me().User; got != "" {
				t.Fatalf("signed in as %q", got)
			}
			// Registration checks them as well.
			b := newSoftAuthn(t)
			b.origin, b.rpID, b.top = tc.origin, tc.rpID, tc.top
			alice.refused("/passkey/register/finish", b.create(alice.must("/passkey/register/begin", nil), ""), http.StatusBadRequest, "verification")
		})
	}
}

func TestWithoutUserVerificationNothingIsAccepted(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	a := newSoftAuthn(t)
	alice := app.visitor()
	alice.login("alice")
	a.noUV = true
	alice.refused("/passkey/register/finish", a.create(alice.must("/passkey/register/begin", nil), ""), http.StatusBadRequest, "verification")
	a.noUV = false
	alice.register(a, "")
	a.noUV = true
	v := app.visitor()
	v.refused("/passkey/signin/finish", a.get(v.must("/passkey/signin/begin", nil)), http.StatusBadRequest, "verification")
	before := alice.me()
	alice.refused("/passkey/stepup/finish", a.get(alice.must("/passkey/stepup/begin", nil)), http.StatusBadRequest, "verification")
	if after := alice.me(); after.ID != before.ID || !slices.Equal(after.AMR, []string{"pwd"}) {
		t.Fatalf("a step-up without user verification changed the session: %+v → %+v", before, after)
	}
}

func TestCounterRegressionIsRefusedAndLogged(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	a := newSoftAuthn(t)
	a.counts = true
	alice := app.visitor()
	alice.login("alice")
	alice.register(a, "")

	v := app.visitor()
	v.must("/passkey/signin/finish", a.get(v.must("/passkey/signin/begin", nil))) // counter 1
	v.must("/passkey/signin/finish", a.get(v.must("/passkey/signin/begin", nil))) // counter 2
	a.counter = 1                                                                 // a clone, behind the original
	w := app.visitor()
	w.refused("/passkey/signin/finish", a.get(w.must("/passkey/signin/begin", nil)), http.StatusForbidden, "counter")
	if got := w.me().User; got != "" {
		t.Fatalf("a cloned authenticator signed in as %q", got)
	}
	if !strings.Contains(app.log.String(), "may be cloned") {
		t.Fatalf("the regression was not logged:\n%s", app.log)
	}
	// Step-up with it is refused too.
	a.counter = 0
	alice.refused("/passkey/stepup/finish", a.get(alice.must("/passkey/stepup/begin", nil)), http.StatusForbidden, "counter")
	c, err := app.store.Get(t.Context(), a.id)
	if err != nil || c.SignCount != 2 {
		t.Fatalf("stored counter %d (%v), want 2: a refused use records nothing", c.SignCount, err)
	}
}

func TestAuthenticatorsWithoutACounterSignInRepeatedly(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	a := newSoftAuthn(t) // counter stays 0, as synced passkeys' do
	alice := app.visitor()
	alice.login("alice")
	alice.register(a, "")
	for range 3 {
		v := app.visitor()
		v.must("/passkey/signin/finish", a.get(v.must("/passkey/signin/begin", nil)))
	}
}

func TestStepUpRotatesTheSessionAndCreatesNone(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	a := newSoftAuthn(t)
	alice := app.visitor()
	alice.login("alice")
	alice.register(a, "")
	before := alice.me()
	opts := alice.must("/passkey/stepup/begin", nil)
	if !strings.Contains(string(opts), b64(a.id)) {
		t.Fatalf("step-up options do not name the user's passkey: %s", opts)
	}
	alice.must("/passkey/stepup/finish", a.get(opts))
	after := alice.me()
	if after.User != "alice" || after.ID == before.ID || !slices.Equal(after.AMR, []string{"hwk"}) || !after.AuthTime.After(before.AuthTime.Add(-1)) {
		t.Fatalf("step-up: before %+v, after %+v", before, after)
	}
	if list := app.sessions("alice"); len(list) != 1 || list[0].ID != after.ID || !slices.Equal(list[0].AuthMethods, []string{"hwk"}) {
		t.Fatalf("ListSessions after step-up: %+v", list)
	}
}

func TestStepUpWithAnotherUsersPasskeyIsRefused(t *testing.T) {
	t.Parallel()
	app, _, bob, aliceKey, bobKey := aliceAndBob(t)
	before := bob.me()
	// Bob begins a step-up and answers it with Alice's passkey (he got
	// hold of it, or of an assertion she made over his challenge).
	bob.refused("/passkey/stepup/finish", aliceKey.get(bob.must("/passkey/stepup/begin", nil)), http.StatusForbidden, "wrong_user")
	if after := bob.me(); after.ID != before.ID || !slices.Equal(after.AMR, []string{"pwd"}) {
		t.Fatalf("the refused step-up changed Bob's session: %+v → %+v", before, after)
	}
	if !strings.Contains(app.log.String(), "another user's passkey") {
		t.Fatalf("not logged:\n%s", app.log)
	}
	// Even with Alice's user handle and a challenge of Bob's own ceremony.
	aliceKey.handle = bobKey.handle
	bob.refused("/passkey/stepup/finish", aliceKey.get(bob.must("/passkey/stepup/begin", nil)), http.StatusForbidden, "wrong_user")
}

func TestStepUpWithoutASessionIsRefused(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	a := newSoftAuthn(t)
	alice := app.visitor()
	alice.login("alice")
	alice.register(a, "")
	signed := a.get(alice.must("/passkey/stepup/begin", nil))

	anon := app.visitor()
	anon.refused("/passkey/stepup/begin", nil, http.StatusUnauthorized, "not_signed_in")
	anon.refused("/passkey/stepup/finish", signed, http.StatusUnauthorized, "not_signed_in")
	if got := anon.me(); got.User != "" || got.ID != "" {
		t.Fatalf("a step-up without a session made one: %+v", got)
	}
	if list := app.sessions("alice"); len(list) != 1 {
		t.Fatalf("alice has %d sessions", len(list))
	}
}

func TestStepUpBegunByAnotherUserIsRefused(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	a := newSoftAuthn(t)
	v := app.visitor()
	v.login("alice")
	v.register(a, "")
	opts := v.must("/passkey/stepup/begin", nil)
	v.login("mallory") // the same browser, another user now
	v.refused("/passkey/stepup/finish", a.get(opts), http.StatusBadRequest, "challenge")
}

func TestExpiredCeremonyIsRefused(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	a := newSoftAuthn(t)
	alice := app.visitor()
	alice.login("alice")
	opts := alice.must("/passkey/register/begin", nil)
	app.clock.Advance(ceremonyLifetime)
	alice.refused("/passkey/register/finish", a.create(opts, ""), http.StatusBadRequest, "challenge")
	alice.register(a, "")
	v := app.visitor()
	opts = v.must("/passkey/signin/begin", nil)
	app.clock.Advance(ceremonyLifetime - time.Millisecond)
	signed := a.get(opts)
	v.must("/passkey/signin/finish", signed)
	opts = v.must("/passkey/signin/begin", nil)
	app.clock.Advance(ceremonyLifetime)
	v.refused("/passkey/signin/finish", a.get(opts), http.StatusBadRequest, "challenge")
}

func TestSignInAfterRemovalIsRefused(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	a := newSoftAuthn(t)
	alice := app.visitor()
	alice.login("alice")
	alice.register(a, "")
	alice.must("/passkey/remove", []byte(`{"id":"`+b64(a.id)+`"}`))
	v := app.visitor()
	v.refused("/passkey/signin/finish", a.get(v.must("/passkey/signin/begin", nil)), http.StatusNotFound, "not_found")
}

func TestCeremoniesWorkInCookieOnlyMode(t *testing.T) {
	t.Parallel()
	app := newTestAppWith(t, session.Config{CookieOnly: true})
	a := newSoftAuthn(t)
	alice := app.visitor()
	alice.login("alice")
	alice.register(a, "")
	v := app.visitor()
	v.must("/passkey/signin/finish", a.get(v.must("/passkey/signin/begin", nil)))
	before := v.me()
	if before.User != "alice" || !slices.Equal(before.AMR, []string{"hwk"}) {
		t.Fatalf("cookie-only passkey sign-in: %+v", before)
	}
	v.must("/passkey/stepup/finish", a.get(v.must("/passkey/stepup/begin", nil)))
	if after := v.me(); after.User != "alice" || after.ID == before.ID {
		t.Fatalf("cookie-only step-up: %+v → %+v", before, after)
	}
	// The ceremony is gone from the new cookie: the same answer again
	// finds none.
	assertion := a.get(v.must("/passkey/signin/begin", nil))
	v.must("/passkey/signin/finish", assertion)
	v.refused("/passkey/signin/finish", assertion, http.StatusBadRequest, "challenge")
}

// gateStore is a session store whose Get, once armed with n, holds every
// caller until n of them have read: n requests then all hold the session
// as it was before any of them changed it.
type gateStore struct {
	session.Store
	mu      sync.Mutex
	waiting int
	open    chan struct{}
}

func (g *gateStore) arm(n int) {
	g.mu.Lock()
	g.waiting, g.open = n, make(chan struct{})
	g.mu.Unlock()
}

func (g *gateStore) Get(ctx context.Context, key string) (session.Record, error) {
	g.mu.Lock()
	ch := g.open
	if ch != nil {
		if g.waiting--; g.waiting == 0 {
			close(ch)
			g.open = nil
		}
	}
	g.mu.Unlock()
	if ch != nil {
		select {
		case <-ch:
		case <-ctx.Done():
			return session.Record{}, ctx.Err()
		}
	}
	return g.Store.Get(ctx, key)
}

func TestConcurrentFinishesOfOneSignInSignInOnce(t *testing.T) {
	t.Parallel()
	gate := &gateStore{Store: session.NewMemoryStore()}
	app := newTestAppWith(t, session.Config{Store: gate})
	a := newSoftAuthn(t) // no counter, as synced passkeys: only the challenge stops a replay
	alice := app.visitor()
	alice.login("alice")
	alice.register(a, "")

	v := app.visitor()
	assertion := a.get(v.must("/passkey/signin/begin", nil))
	// The same answer twice at once, in the session that began: both
	// requests read the session while it still holds the ceremony.
	gate.arm(2)
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i := range codes {
		wg.Go(func() {
			req, _ := http.NewRequest("POST", app.srv.URL+"/passkey/signin/finish", bytes.NewReader(assertion))
			req.Header.Set("Content-Type", "application/json")
			if res, err := v.client.Do(req); err == nil {
				codes[i] = res.StatusCode
				res.Body.Close()
			}
		})
	}
	wg.Wait()
	if ok := slices.Index(codes, 200); ok < 0 || slices.Index(codes[ok+1:], 200) >= 0 {
		t.Fatalf("two concurrent finishes of one challenge answered %v, want exactly one 200", codes)
	}
	if list := app.sessions("alice"); len(list) != 2 {
		t.Fatalf("alice has %d sessions after one passkey sign-in (and her own), want 2", len(list))
	}
}

func TestStepUpWorksWithEveryPasskeyOfTheUser(t *testing.T) {
	t.Parallel()
	t.Run("first passkeys added from two devices at once", func(t *testing.T) {
		t.Parallel()
		app := newTestApp(t)
		a, b := newSoftAuthn(t), newSoftAuthn(t)
		laptop, phone := app.visitor(), app.visitor()
		laptop.login("alice")
		phone.login("alice")
		// Both begin before either finishes: neither sees a passkey yet.
		optsA, optsB := laptop.must("/passkey/register/begin", nil), phone.must("/passkey/register/begin", nil)
		laptop.must("/passkey/register/finish", a.create(optsA, "laptop"))
		phone.must("/passkey/register/finish", b.create(optsB, "phone"))
		for _, k := range []*softAuthn{a, b} {
			phone.must("/passkey/stepup/finish", k.get(phone.must("/passkey/stepup/begin", nil)))
			v := app.visitor()
			v.must("/passkey/signin/finish", k.get(v.must("/passkey/signin/begin", nil)))
		}
	})
	t.Run("another passkey removed between begin and finish", func(t *testing.T) {
		t.Parallel()
		app := newTestApp(t)
		a, b := newSoftAuthn(t), newSoftAuthn(t)
		alice := app.visitor()
		alice.login("alice")
		alice.register(a, "")
		alice.register(b, "")
		opts := alice.must("/passkey/stepup/begin", nil)
		alice.must("/passkey/remove", []byte(`{"id":"`+b64(b.id)+`"}`)) // in another tab
		alice.must("/passkey/stepup/finish", a.get(opts))
		// The removed one is refused, of course.
		alice.refused("/passkey/stepup/finish", b.get(alice.must("/passkey/stepup/begin", nil)), http.StatusNotFound, "not_found")
	})
}

func TestSignInWithAUserHandleThatIsNotTheCredentialsIsRefused(t *testing.T) {
	t.Parallel()
	app, _, _, aliceKey, bobKey := aliceAndBob(t)
	for name, handle := range map[string][]byte{"another user's": bobKey.handle, "none": nil, "a made-up one": []byte("mallory")} {
		aliceKey.handle = handle
		v := app.visitor()
		v.refused("/passkey/signin/finish", aliceKey.get(v.must("/passkey/signin/begin", nil)), http.StatusBadRequest, "verification")
		if got := v.me().User; got != "" {
			t.Fatalf("a sign-in with %s user handle signed in as %q", name, got)
		}
	}
}

// TestOnlyAVerifiedAssertionIsCalledAnotherUsersPasskey: whether a
// credential is another user's is decided only after its holder proved to
// hold it. An assertion that names Alice's credential ID without her key
// (an ID learnt or guessed) is any failed verification: it tells nobody
// whose the credential is, and logs no warning about another user's
// passkey or user handle. Alice's own key, over Bob's challenge, still is
// another user's passkey, refused and logged.
func TestOnlyAVerifiedAssertionIsCalledAnotherUsersPasskey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		forged      bool // signed by a key that is not the credential's
		path        string
		status      int
		code        string
		warning     string // logged when the assertion is verified
		fromSession bool   // the ceremony is begun in Bob's signed-in session
	}{
		{"step-up, forged", true, "stepup", http.StatusBadRequest, "verification", "another user's passkey", true},
		{"step-up, Alice's key", false, "stepup", http.StatusForbidden, "wrong_user", "another user's passkey", true},
		{"sign-in with Bob's user handle, forged", true, "signin", http.StatusBadRequest, "verification", "user handle that is not the credential's", false},
		{"sign-in with Bob's user handle, Alice's key", false, "signin", http.StatusBadRequest, "verification", "user handle that is not the credential's", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			app, _, bob, aliceKey, bobKey := aliceAndBob(t)

			key := aliceKey
			if tc.forged {
				key = newSoftAuthn(t) // another private key, Alice's credential ID
				key.id = aliceKey.id
			}
			key.handle = bobKey.handle
			v := bob
			if !tc.fromSession {
				v = app.visitor()
			}
			v.refused("/passkey/"+tc.path+"/finish", key.get(v.must("/passkey/"+tc.path+"/begin", nil)), tc.status, tc.code)
			if got := strings.Contains(app.log.String(), tc.warning); got == tc.forged {
				t.Errorf("logged %q: %v, want %v:\n%s", tc.warning, got, !tc.forged, app.log)
			}
			if got := v.me(); got.User != "" && got.User != "bob" {
				t.Fatalf("signed in as %q", got.User)
			}
		})
	}
}

// aliceAndBob returns an app where alice and bob are signed in, each with
// a passkey of their own.
func aliceAndBob(t *testing.T) (app *testApp, alice, bob *visitor, aliceKey, bobKey *softAuthn) {
	t.Helper()
	app = newTestApp(t)
	aliceKey, bobKey = newSoftAuthn(t), newSoftAuthn(t)
	alice, bob = app.visitor(), app.visitor()
	alice.login("alice")
	alice.register(aliceKey, "")
	bob.login("bob")
	bob.register(bobKey, "")
	return app, alice, bob, aliceKey, bobKey
}
