package passkey

import (
	"bytes"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sessionauth/session"
)

// TestOneRegisterChallengeRegistersOnePasskeyUnderConcurrency races two
// finishes of one registration ceremony, each with a credential of its
// own, in the session that began it: both requests read the session while
// it still holds the challenge. Exactly one is answered 200 and stores a
// passkey, round after round.
func TestOneRegisterChallengeRegistersOnePasskeyUnderConcurrency(t *testing.T) {
	t.Parallel()
	gate := &gateStore{Store: session.NewMemoryStore()}
	app := newTestAppWith(t, session.Config{Store: gate})
	const rounds = 20
	for round := range rounds {
		// A browser of Alice's per round: the finish that loses may find
		// the session already renewed, and its answer then clears the
		// cookie the winner set.
		alice := app.visitor()
		alice.login("alice")
		opts := alice.must("/passkey/register/begin", nil)
		bodies := [][]byte{newSoftAuthn(t).create(opts, "a"), newSoftAuthn(t).create(opts, "b")}
		gate.arm(len(bodies))
		codes := make([]int, len(bodies))
		var wg sync.WaitGroup
		for i := range bodies {
			wg.Go(func() {
				req, _ := http.NewRequest("POST", app.srv.URL+"/passkey/register/finish", bytes.NewReader(bodies[i]))
				req.Header.Set("Content-Type", "application/json")
				if res, err := alice.client.Do(req); err == nil {
					codes[i] = res.StatusCode
					res.Body.Close()
				}
			})
		}
		wg.Wait()
		if ok := slices.Index(codes, 200); ok < 0 || slices.Index(codes[ok+1:], 200) >= 0 {
			t.Fatalf("round %d: two concurrent finishes of one register challenge answered %v, want exactly one 200", round, codes)
		}
		if creds, _ := app.store.ListUser(t.Context(), "alice"); len(creds) != round+1 {
			t.Fatalf("round %d: alice has %d passkeys, want %d: one per challenge", round, len(creds), round+1)
		}
	}
}

// TestAStolenCookieCannotAddAPasskeyToComeBackWith: a thief holding the
// cookie of a session whose sign-in is old (copied from the browser, a
// borrowed laptop) cannot add a passkey of their own, which would sign in
// as the victim after LogoutAll and a password change, and step up with
// it to remove the victim's passkeys. Remove is wrapped as the README
// shows for an app that wants a passkey's proof there.
func TestAStolenCookieCannotAddAPasskeyToComeBackWith(t *testing.T) {
	t.Parallel()
	app := newTestAppConfig(t, session.Config{}, func(c *Config) { c.RecentAuth = time.Second })
	mux := http.NewServeMux()
	mux.Handle("/", app.srv.Config.Handler)
	mux.Handle("POST /passkey/remove", app.m.RequireRecentAuth(time.Second, "hwk", "swk")(app.h))
	app.srv.Config.Handler = app.m.Middleware(mux)

	aliceKey := newSoftAuthn(t)
	alice := app.visitor()
	alice.login("alice")
	alice.register(aliceKey, "laptop")
	time.Sleep(staleProof) // Alice's proof is old now

	thief := app.visitor()
	u, _ := url.Parse(app.srv.URL)
	thief.client.Jar.SetCookies(u, alice.client.Jar.Cookies(u))
	if thief.me().User != "alice" {
		t.Fatal("the stolen cookie is not Alice's session")
	}
	thief.refused("/passkey/register/begin", nil, http.StatusUnauthorized, "insufficient_user_authentication")
	thief.refused("/passkey/remove", []byte(`{"id":"`+b64(aliceKey.id)+`"}`), http.StatusUnauthorized, "insufficient_user_authentication")
	if creds, _ := app.store.ListUser(t.Context(), "alice"); len(creds) != 1 || !bytes.Equal(creds[0].ID, aliceKey.id) {
		t.Fatalf("alice has %d passkeys after the thief's attempts, want only her own", len(creds))
	}
}
