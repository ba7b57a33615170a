package e2e

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// A signed-in page mints an access token with POST /token (the session
// cookie, same origin) and calls the API with it as Bearer; signed out, the
// mint is refused.
func TestMintATokenAndCallTheAPI(t *testing.T) {
	browser := newBrowser(t)
	base, _ := startServer(t)
	ctx := openScreen(t, browser, screens[0])
	const mintAndCall = `fetch('/token', {method: 'POST'})
		.then(r => r.ok ? r.json() : Promise.reject('POST /token: ' + r.status))
		.then(t => fetch('/api/me', {headers: {Authorization: 'Bearer ' + t.access_token}, credentials: 'omit'}))
		.then(r => r.json()).then(j => j.username || JSON.stringify(j))
		.catch(e => String(e))`
	open(t, ctx, base+"/", "#login-form")
	if got := run(t, ctx, "mint signed out", chromedp.Evaluate[string](mintAndCall, chromedp.EvalAwaitPromise)); got != "POST /token: 401" {
		t.Fatalf("signed out: %q, want the mint refused with 401", got)
	}
	signIn(t, ctx, base, demoUser, demoPassword)
	if got := run(t, ctx, "mint and call", chromedp.Evaluate[string](mintAndCall, chromedp.EvalAwaitPromise)); got != demoUser {
		t.Fatalf("/api/me with the minted token says %q, want %q", got, demoUser)
	}
}
