package passkey

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

type listed struct {
	Passkeys []struct {
		ID       string  `json:"id"`
		Name     string  `json:"name"`
		LastUsed *string `json:"last_used"`
		Synced   bool    `json:"synced"`
	} `json:"passkeys"`
}

func (v *visitor) list() listed {
	v.app.t.Helper()
	var l listed
	if err := json.Unmarshal(v.must("/passkey/list", nil), &l); err != nil {
		v.app.t.Fatal(err)
	}
	return l
}

func TestListRenameRemoveOnlyTheUsersOwnPasskeys(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	a, b := newSoftAuthn(t), newSoftAuthn(t)
	b.synced = true
	alice, bob := app.visitor(), app.visitor()
	alice.login("alice")
	alice.register(a, "  Laptop ")
	alice.register(b, "")
	bob.login("bob")

	l := alice.list()
	if len(l.Passkeys) != 2 || l.Passkeys[0].Name != "Laptop" || l.Passkeys[1].Name != "Passkey" || l.Passkeys[0].Synced || !l.Passkeys[1].Synced || l.Passkeys[0].LastUsed != nil {
		t.Fatalf("alice's passkeys: %+v", l)
	}
	if got := bob.list(); len(got.Passkeys) != 0 {
		t.Fatalf("bob sees %d passkeys", len(got.Passkeys))
	}
	id := l.Passkeys[0].ID
	bob.refused("/passkey/rename", []byte(`{"id":"`+id+`","name":"mine"}`), http.StatusNotFound, "not_found")
	bob.refused("/passkey/remove", []byte(`{"id":"`+id+`"}`), http.StatusNotFound, "not_found")
	alice.must("/passkey/rename", []byte(`{"id":"`+id+`","name":"Work laptop"}`))
	if got := alice.list().Passkeys[0].Name; got != "Work laptop" {
		t.Fatalf("after rename: %q", got)
	}
	for _, bad := range []string{`{"id":"` + id + `","name":""}`, `{"id":"` + id + `","name":"a\u0000b"}`, `{"id":"` + id + `","name":"` + strings.Repeat("x", 65) + `"}`, `{"id":"!!","name":"x"}`, `{"id":"` + id + `"}`} {
		alice.refused("/passkey/rename", []byte(bad), http.StatusBadRequest, "bad_request")
	}
	alice.must("/passkey/remove", []byte(`{"id":"`+id+`"}`))
	alice.refused("/passkey/remove", []byte(`{"id":"`+id+`"}`), http.StatusNotFound, "not_found")
	if got := alice.list(); len(got.Passkeys) != 1 {
		t.Fatalf("after remove: %+v", got)
	}
	anon := app.visitor()
	for _, path := range []string{"/passkey/list", "/passkey/register/begin", "/passkey/rename", "/passkey/remove"} {
		body := []byte(`{}`)
		if strings.HasSuffix(path, "rename") || strings.HasSuffix(path, "remove") {
			body = []byte(`{"id":"` + id + `","name":"x"}`)
			if strings.HasSuffix(path, "remove") {
				body = []byte(`{"id":"` + id + `"}`)
			}
		}
		anon.refused(path, body, http.StatusUnauthorized, "not_signed_in")
	}
}

func TestRegisterExcludesTheUsersPasskeysAndSharesOneHandle(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	a, b := newSoftAuthn(t), newSoftAuthn(t)
	alice := app.visitor()
	alice.login("alice")
	alice.register(a, "")
	opts := alice.must("/passkey/register/begin", nil)
	if !strings.Contains(string(opts), b64(a.id)) || !strings.Contains(string(opts), `"residentKey":"preferred"`) || !strings.Contains(string(opts), `"userVerification":"required"`) {
		t.Fatalf("registration options: %s", opts)
	}
	alice.must("/passkey/register/finish", b.create(opts, ""))
	if string(a.handle) != string(b.handle) {
		t.Fatal("two passkeys of one user got different user handles")
	}
	// The same credential twice.
	alice.refused("/passkey/register/finish", a.create(alice.must("/passkey/register/begin", nil), ""), http.StatusConflict, "exists")
	// Another user's handle is another.
	c := newSoftAuthn(t)
	bob := app.visitor()
	bob.login("bob")
	bob.register(c, "")
	if string(c.handle) == string(a.handle) {
		t.Fatal("two users share a user handle")
	}
}

func TestRegisterBegunByAnotherUserIsRefused(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	v := app.visitor()
	v.login("alice")
	opts := v.must("/passkey/register/begin", nil)
	v.login("mallory")
	v.refused("/passkey/register/finish", newSoftAuthn(t).create(opts, ""), http.StatusBadRequest, "challenge")
	if creds, _ := app.store.ListUser(t.Context(), "mallory"); len(creds) != 0 {
		t.Fatal("mallory got a passkey from alice's ceremony")
	}
}

func TestRegisterStopsAtTheLimit(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	v := app.visitor()
	v.login("alice")
	for range maxPasskeys {
		v.register(newSoftAuthn(t), "")
	}
	v.refused("/passkey/register/begin", nil, http.StatusConflict, "too_many")
}

func TestRegisterFinishStopsAtTheLimitToo(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	v := app.visitor()
	v.login("alice")
	for range maxPasskeys - 1 {
		v.register(newSoftAuthn(t), "")
	}
	// Ceremonies begun in several sessions of the user, each seeing one
	// place left.
	others := make([]*visitor, 3)
	opts := make([][]byte, len(others))
	for i := range others {
		others[i] = app.visitor()
		others[i].login("alice")
		opts[i] = others[i].must("/passkey/register/begin", nil)
	}
	others[0].must("/passkey/register/finish", newSoftAuthn(t).create(opts[0], ""))
	for i := 1; i < len(others); i++ {
		others[i].refused("/passkey/register/finish", newSoftAuthn(t).create(opts[i], ""), http.StatusConflict, "too_many")
	}
	if creds, _ := app.store.ListUser(t.Context(), "alice"); len(creds) != maxPasskeys {
		t.Fatalf("alice has %d passkeys, the limit is %d", len(creds), maxPasskeys)
	}
}

func TestRemoveBehindRequireRecentAuthAsksForAPasskeyStepUpFirst(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	// The README's wiring: remove asks for a recent passkey proof.
	mux := http.NewServeMux()
	mux.Handle("/", app.srv.Config.Handler)
	mux.Handle("POST /passkey/remove", app.m.RequireRecentAuth(time.Hour, "hwk", "swk")(app.h))
	app.srv.Config.Handler = app.m.Middleware(mux)

	a := newSoftAuthn(t)
	alice := app.visitor()
	alice.login("alice") // a password proof: "pwd"
	alice.register(a, "")
	body := []byte(`{"id":"` + b64(a.id) + `"}`)
	alice.refused("/passkey/remove", body, http.StatusUnauthorized, "insufficient_user_authentication")
	alice.must("/passkey/stepup/finish", a.get(alice.must("/passkey/stepup/begin", nil)))
	alice.must("/passkey/remove", body)
	if creds, _ := app.store.ListUser(t.Context(), "alice"); len(creds) != 0 {
		t.Fatal("the passkey was not removed after the step-up")
	}
}

func TestRegisterKeepsOnlyKnownTransports(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	a := newSoftAuthn(t)
	alice := app.visitor()
	alice.login("alice")
	body := a.create(alice.must("/passkey/register/begin", nil), "")
	// The page reports the transports, so it can report anything: here
	// thousands of made-up ones, which would be stored and sent back in
	// every ceremony's options.
	junk := make([]string, 0, 4000)
	for i := range cap(junk) {
		junk = append(junk, fmt.Sprintf("made-up-%d", i))
	}
	junk = append(junk, "usb", "internal", "internal", "hybrid")
	list, _ := json.Marshal(junk)
	body = bytes.Replace(body, []byte(`"transports":["internal"]`), append([]byte(`"transports":`), list...), 1)
	if len(body) > maxBody {
		t.Fatalf("test body of %d bytes is over the limit", len(body))
	}
	alice.must("/passkey/register/finish", body)
	c, err := app.store.Get(t.Context(), a.id)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"usb", "internal", "hybrid"}; !slices.Equal(c.Transports, want) {
		t.Fatalf("%d stored transports, want %q", len(c.Transports), want)
	}
}

func TestRegisterWithAnotherUsersCredentialIDIsRefused(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	a := newSoftAuthn(t)
	alice := app.visitor()
	alice.login("alice")
	alice.register(a, "")
	before, _ := app.store.Get(t.Context(), a.id)
	// Mallory's authenticator claims Alice's credential ID, with a key of
	// its own: taking it over would let Mallory sign in as Alice.
	m := newSoftAuthn(t)
	m.id = a.id
	mallory := app.visitor()
	mallory.login("mallory")
	mallory.refused("/passkey/register/finish", m.create(mallory.must("/passkey/register/begin", nil), ""), http.StatusConflict, "exists")
	after, err := app.store.Get(t.Context(), a.id)
	if err != nil || after.UserID != "alice" || !bytes.Equal(after.PublicKey, before.PublicKey) {
		t.Fatalf("Alice's credential after Mallory's attempt: %q %v", after.UserID, err)
	}
	v := app.visitor()
	v.refused("/passkey/signin/finish", m.get(v.must("/passkey/signin/begin", nil)), http.StatusBadRequest, "verification")
}
