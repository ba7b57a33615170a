package passkey_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/sessionauth/session"
	"github.com/sessionauth/session/passkey"
)

// chromiumPath finds the browser, or skips (fails under CI=true).
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM_PATH"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "Chromium not found (install it with `apt-get install -y chromium`, or set CHROMIUM_PATH)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// newBrowser starts headless Chromium with a fresh profile and gives its
// tab a virtual authenticator through the DevTools WebAuthn domain: CTAP2,
// built in ("internal"), discoverable credentials, user verification that
// succeeds, presence confirmed at once, and not backup-eligible (so its
// passkeys prove "hwk").
func newBrowser(t *testing.T) (context.Context, webauthn.AuthenticatorID) {
	t.Helper()
	path := chromiumPath(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(900, 700),
	}
	ctx, cancelTimeout := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancelTimeout)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start Chromium (%s): %v", path, err)
	}
	if _, err := chromedp.Call(browser, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		t.Fatalf("WebAuthn.enable: %v", err)
	}
	res, err := chromedp.Call(browser, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol:                    webauthn.AuthenticatorProtocolCtap2,
			Transport:                   webauthn.AuthenticatorTransportInternal,
			HasResidentKey:              true,
			HasUserVerification:         true,
			IsUserVerified:              true,
			AutomaticPresenceSimulation: true,
		},
	})
	if err != nil {
		t.Fatalf("WebAuthn.addVirtualAuthenticator: %v", err)
	}
	return browser, res.AuthenticatorID
}

// testPage is the page the browser test drives: it shows who is signed in,
// their last proof and their passkeys, loads the script, and offers
// passkeys in the username field's autofill while signed out.
const testPage = `<!doctype html>
<html lang="en"><meta charset="utf-8"><title>Passkeys</title>
<style>
body { font: 16px/1.5 system-ui, sans-serif; margin: 2em auto; max-width: 44em; color: #222 }
h1 { font-size: 1.4em } .box { border: 1px solid #ccc; border-radius: 8px; padding: .8em 1em; margin: 1em 0 }
#msg { font-weight: bold } code { background: #f3f3f3; padding: 0 .3em }
</style>
<h1>Passkey test page</h1>
<div class="box"><div id="who">…</div><div id="proof"></div></div>
<form class="box" onsubmit="return false"><label>Username <input id="username" autocomplete="username webauthn"></label>
<span id="autofill"></span></form>
<div class="box"><b>Your passkeys</b><ul id="keys"></ul></div>
<p id="msg"></p>
<script src="/passkey/passkey.js"></script>
<script>
window.autofillOutcome = "";
// As the README's account page: adding or removing a passkey needs a
// recent proof; when the last one is too old, confirm (a passkey step-up,
// or for a user without a passkey the password: here a new sign-in) and
// try again.
window.recent = call => call().catch(e => {
  if (e.code !== "insufficient_user_authentication") throw e;
  return passkey.stepUp().catch(e => {
    if (e.code !== "no_passkeys") throw e;
    return fetch("/login?user=alice", {method: "POST"});
  }).then(call);
});
async function render() {
  const me = await (await fetch("/me")).json();
  document.getElementById("who").textContent = me.user ? "Signed in as " + me.user + " · session " + me.id : "Signed out";
  document.getElementById("proof").textContent = me.user ? "Last proof: " + (me.amr || []).join(" ") + " at " + me.auth_time : "";
  const ul = document.getElementById("keys");
  ul.textContent = "";
  if (me.user) {
    for (const k of await passkey.list()) {
      const li = document.createElement("li");
      li.textContent = k.name + " — added " + k.created + (k.last_used ? ", last used " + k.last_used : "") + (k.synced ? " (synced)" : " (this device)");
      ul.appendChild(li);
    }
  } else if (await passkey.autofillAvailable()) {
    document.getElementById("autofill").textContent = "(passkeys offered in autofill)";
    passkey.signIn({autofill: true}).then(() => { window.autofillOutcome = "signed in"; render(); },
      (e) => { window.autofillOutcome = e.code || e.name; });
  }
  document.body.dataset.ready = "1";
}
render();
</script>
</html>`

// startServer runs a session Manager and a passkey Handler on
// http://localhost:PORT, a secure context for WebAuthn: RP ID "localhost".
// Adding or removing a passkey needs a proof at most one second old, so
// the test can let it go stale.
func startServer(t *testing.T) (base string, m *session.Manager, store passkey.Store) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base = fmt.Sprintf("http://localhost:%d", ln.Addr().(*net.TCPAddr).Port)
	keys, err := session.NewKeyRing(session.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	m, err = session.New(session.Config{Keys: keys, Cookie: session.CookieOptions{DisableSecure: true}})
	if err != nil {
		t.Fatal(err)
	}
	store = passkey.NewMemoryStore()
	h, err := passkey.New(passkey.Config{Sessions: m, Store: store, RPID: "localhost", RPName: "Passkey test", Origins: []string{base}, RecentAuth: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/passkey/", h)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(testPage))
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if err := m.Login(w, r, r.URL.Query().Get("user"), session.ProvedWith("pwd")); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if err := m.Logout(w, r); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		s := session.FromContext(r.Context())
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"user": s.UserID(), "id": s.ID(), "amr": s.AuthMethods(), "auth_time": s.AuthTime()})
	})
	srv := &http.Server{Handler: http.NewCrossOriginProtection().Handler(m.Middleware(mux))}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return base, m, store
}

type shots struct {
	t   *testing.T
	dir string
	n   int
}

// take saves a PNG of the page into SCREENSHOT_DIR (default: a temporary
// directory).
func (s *shots) take(ctx context.Context, name string) {
	s.t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	must(s.t, "screenshot "+name, err)
	s.n++
	path := filepath.Join(s.dir, fmt.Sprintf("%02d-%s.png", s.n, name))
	must(s.t, "write "+path, os.WriteFile(path, png, 0o644))
	s.t.Logf("screenshot %s", path)
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// waitOutcome waits, at most 10 s, for the page's autofill sign-in to end.
const waitOutcome = `new Promise(resolve => {
	let n = 0;
	const poll = () => (window.autofillOutcome || ++n > 100) ? resolve(window.autofillOutcome) : setTimeout(poll, 100);
	poll();
})`

type pageMe struct {
	User string   `json:"user"`
	ID   string   `json:"id"`
	AMR  []string `json:"amr"`
}

func TestBrowserPasskeyCeremonies(t *testing.T) {
	ctx, authenticator := newBrowser(t) // first: skips before starting anything without Chromium
	base, m, store := startServer(t)
	dir := os.Getenv("SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	must(t, "screenshot dir", os.MkdirAll(dir, 0o755))
	sh := &shots{t: t, dir: dir}

	open := func(name string) {
		t.Helper()
		must(t, "open "+name, chromedp.Do(ctx,
			chromedp.Navigate(base+"/"),
			chromedp.WaitVisible(chromedp.CSS(`body[data-ready="1"]`)),
		))
		sh.take(ctx, name)
	}
	// js runs an expression that gives a promise of a string.
	js := func(what, expr string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr, chromedp.EvalAwaitPromise))
		must(t, what, err)
		return s
	}
	whoami := func() pageMe {
		t.Helper()
		var me pageMe
		must(t, "/me", json.Unmarshal([]byte(js("/me", `fetch("/me").then(r => r.text())`)), &me))
		return me
	}
	post := func(path string) {
		t.Helper()
		if got := js("POST "+path, `fetch("`+path+`", {method: "POST"}).then(r => String(r.status))`); got != "200" {
			t.Fatalf("POST %s: %s", path, got)
		}
	}
	message := func(s string) {
		t.Helper()
		js("message", `Promise.resolve(document.getElementById("msg").textContent = `+fmt.Sprintf("%q", s)+`)`)
	}

	// 1. Signed out, then signed in with a password.
	open("signed-out")
	post("/login?user=alice")
	open("signed-in-with-password")

	// 2. Add a passkey: navigator.credentials.create through the script.
	if got := js("register", `recent(() => passkey.register("Chromium virtual authenticator")).then(k => k.name, e => "error: " + (e.code || e.name + " " + e.message))`); got != "Chromium virtual authenticator" {
		t.Fatalf("register: %s", got)
	}
	creds, err := store.ListUser(ctx, "alice")
	if err != nil || len(creds) != 1 || creds[0].BackupEligible {
		t.Fatalf("stored passkeys after registration: %+v %v", creds, err)
	}
	vcreds, err := chromedp.Call(ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: authenticator})
	if err != nil || len(vcreds.Credentials) != 1 || !vcreds.Credentials[0].IsResidentCredential {
		t.Fatalf("the virtual authenticator holds %+v (%v), want one discoverable credential", vcreds, err)
	}
	open("passkey-added")

	// 3. Sign out; the page offers passkeys in the username field's
	// autofill (a conditional sign-in, no username typed), and the virtual
	// authenticator answers it at once.
	post("/logout")
	open("signed-out-autofill-offered")
	if got := js("autofill", `passkey.autofillAvailable().then(String)`); got != "true" {
		t.Fatalf("conditional mediation available: %s", got)
	}
	if got := js("autofill outcome", waitOutcome); got != "signed in" {
		t.Fatalf("the autofill sign-in ended with %q", got)
	}
	if me := whoami(); me.User != "alice" || !slices.Equal(me.AMR, []string{"hwk"}) {
		t.Fatalf("after the autofill sign-in: %+v, want alice with [hwk]", me)
	}
	sh.take(ctx, "signed-in-through-autofill")

	// Sign out again and sign in with the button's modal sign-in.
	post("/logout")
	if got := js("sign in", `passkey.signIn().then(() => "ok", e => "error: " + (e.code || e.name + " " + e.message))`); got != "ok" {
		t.Fatalf("sign in with a passkey: %s", got)
	}
	me := whoami()
	if me.User != "alice" || !slices.Equal(me.AMR, []string{"hwk"}) {
		t.Fatalf("after passkey sign-in: %+v, want alice with [hwk]", me)
	}
	open("signed-in-with-passkey")

	// 4. Step-up on the existing session: a new session ID, still one
	// session.
	if list, err := m.ListSessions(ctx, "alice"); err != nil || len(list) != 1 || list[0].ID != me.ID {
		t.Fatalf("sessions before step-up: %+v %v", list, err)
	}
	if got := js("step up", `passkey.stepUp().then(() => "ok", e => "error: " + (e.code || e.name + " " + e.message))`); got != "ok" {
		t.Fatalf("step-up: %s", got)
	}
	after := whoami()
	if after.User != "alice" || after.ID == me.ID || after.ID == "" {
		t.Fatalf("step-up: session %+v before, %+v after; want a new ID for alice", me, after)
	}
	if list, err := m.ListSessions(ctx, "alice"); err != nil || len(list) != 1 || list[0].ID != after.ID {
		t.Fatalf("sessions after step-up: %+v %v, want only %s", list, err, after.ID)
	}
	open("stepped-up")
	message(fmt.Sprintf("Step-up: session %s → %s, one session listed", me.ID, after.ID))
	sh.take(ctx, "stepped-up-session-changed")

	// 5. Remove the passkey once the step-up's proof is stale: the page
	// is refused, steps up again and removes it; signing in with it is
	// refused afterwards.
	time.Sleep(1100 * time.Millisecond)
	if got := js("remove", `passkey.list().then(l => recent(() => passkey.remove(l[0].id))).then(() => "ok", e => "error: " + (e.code || e.name))`); got != "ok" {
		t.Fatalf("remove: %s", got)
	}
	if again := whoami(); again.User != "alice" || again.ID == after.ID || !slices.Equal(again.AMR, []string{"hwk"}) {
		t.Fatalf("remove with a stale proof: session %+v before, %+v after; want a passkey step-up first", after, again)
	}
	if creds, err := store.ListUser(ctx, "alice"); err != nil || len(creds) != 0 {
		t.Fatalf("stored passkeys after removal: %d %v", len(creds), err)
	}
	open("passkey-removed")
	post("/logout")
	open("signed-out-again")
	if got := js("autofill outcome", waitOutcome); got != "not_found" {
		t.Fatalf("the autofill sign-in with a removed passkey ended with %q, want not_found", got)
	}
	if got := js("sign in after removal", `passkey.signIn().then(() => "ok", e => e.code || e.name)`); got != "not_found" {
		t.Fatalf("sign-in with a removed passkey: %s, want not_found", got)
	}
	if me := whoami(); me.User != "" {
		t.Fatalf("signed in as %q with a removed passkey", me.User)
	}
	message("Sign-in with the removed passkey was refused: not_found")
	sh.take(ctx, "sign-in-refused-after-removal")
}
