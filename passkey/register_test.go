package passkey

import (
	"bytes"
	"net/http"
	"slices"
	"sync"
	"testing"

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
