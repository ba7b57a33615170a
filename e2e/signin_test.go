package e2e

import (
	"context"
	"iter"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// A wrong password shows a sentence (not the API's code), keeps the
// username, and puts the focus on the password; the right one signs in.
func TestSignInWithWrongPasswordThenRightOne(t *testing.T) {
	ctx := newBrowser(t) // first: skips before building anything when Chromium is missing
	base, _ := startServer(t)
	shots := newShooter(t)

	open(t, ctx, base+"/", "#login-form")
	if f := focused(t, ctx); f != "username" {
		t.Fatalf("the sign-in page focuses %q, want the username", f)
	}
	shots.shot(ctx, "signin-1-form")

	fill(t, ctx, [][2]string{{"username", demoUser}, {"password", "not the password, but long"}}, "#error")
	wantText(t, ctx, "#error", "That username and password do not match. Check both and try again.")
	if strings.Contains(text(t, ctx, "body"), "invalid credentials") {
		t.Fatal("the page shows the API's error code")
	}
	if f := focused(t, ctx); f != "password" {
		t.Fatalf("after a wrong password the focus is on %q, want the password", f)
	}
	if v := run(t, ctx, "username value", chromedp.Value(chromedp.CSS("input#username"))); v != demoUser {
		t.Fatalf("the username field holds %q, want %q kept", v, demoUser)
	}
	shots.shot(ctx, "signin-2-wrong-password")

	// The focus is on the password: typing goes there.
	must(t, "retype the password", chromedp.Do(ctx,
		chromedp.KeyEvent(demoPassword+"\r"),
		chromedp.WaitVisible(chromedp.CSS("#signed-in")),
	))
	shots.shot(ctx, "signin-3-signed-in")
}

// Sign in, check the cookie, reload, sign out; the back button does not show
// the signed-in page again, and the server logs no secret.
func TestSignInAndOut(t *testing.T) {
	ctx := newBrowser(t)
	base, logs := startServer(t)

	signIn(t, ctx, base, demoUser, demoPassword)
	if name := text(t, ctx, "span#username"); name != demoUser {
		t.Fatalf("signed-in page names %q, want %q", name, demoUser)
	}
	rows := sessionRows(t, ctx)
	if len(rows) != 1 || !strings.Contains(rows[0], "this device") {
		t.Fatalf("sessions %q, want this device only", rows)
	}

	// The session cookie exists, with the safe attributes, but page scripts
	// cannot read it (HttpOnly).
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{base + "/"}})
	must(t, "Network.getCookies", err)
	var session *network.Cookie
	for _, c := range res.Cookies {
		if c.Name == cookieName {
			session = c
		}
	}
	if session == nil {
		t.Fatalf("browser holds no %s cookie; cookies: %+v", cookieName, res.Cookies)
	}
	if !session.HTTPOnly || !session.Secure || session.SameSite != network.CookieSameSiteLax || session.Path != "/" || !session.Session {
		t.Fatalf("cookie attributes: httpOnly=%v secure=%v sameSite=%q path=%q session=%v",
			session.HTTPOnly, session.Secure, session.SameSite, session.Path, session.Session)
	}
	if dc := run(t, ctx, "document.cookie", chromedp.Evaluate[string](`document.cookie`)); strings.Contains(dc, cookieName) || strings.Contains(dc, session.Value) {
		t.Fatalf("document.cookie exposes the session cookie: %q", dc)
	}

	// Reload: still signed in.
	must(t, "reload", chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#signed-in"))))

	// Sign out; the back button must not show the signed-in page from a
	// cache.
	must(t, "sign out", chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#logout")),
		chromedp.WaitVisible(chromedp.CSS("#login-form")),
	))
	evCtx, evCancel := context.WithTimeout(ctx, 5*time.Second)
	notCached := chromedp.Events(evCtx, page.BackForwardCacheNotUsed)
	must(t, "back", chromedp.Do(ctx, chromedp.NavigateBack(), chromedp.WaitVisible(chromedp.CSS("body"))))
	logBFCache(t, notCached)
	evCancel()
	if signedIn(t, ctx) {
		t.Fatal("the back button shows the signed-in page after sign-out")
	}
	if !run(t, ctx, "look for the form", chromedp.Evaluate[bool](`document.querySelector('#login-form') !== null`)) {
		t.Fatal("after back, the page shows neither the signed-in page nor the sign-in form")
	}
	res, err = chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{base + "/"}})
	must(t, "Network.getCookies", err)
	// The sign-in page starts the passkey autofill, whose challenge lives
	// in a new anonymous session: a session cookie may be back, but never
	// the signed-in one.
	for _, c := range res.Cookies {
		if c.Name == cookieName && c.Value == session.Value {
			t.Fatal("the signed-in session's cookie is still in the browser after sign-out")
		}
	}

	// The server never logged the password or the cookie.
	out := logs.String()
	if strings.Contains(out, demoPassword) || strings.Contains(out, session.Value) {
		t.Fatal("server log contains the password or the session cookie")
	}
}

// logBFCache logs why the browser did not restore the page from its
// back/forward cache, when it says so before the events' context ends. Where
// that cache is used, the no-store header of the signed-in page keeps it out
// (Chrome evicts no-store pages when cookies change); where it is not (this
// headless build reports BrowsingInstanceNotSwapped), the back-button check
// covers the HTTP cache.
func logBFCache(t *testing.T, events iter.Seq2[page.EventBackForwardCacheNotUsed, error]) {
	t.Helper()
	for ev, err := range events {
		if err != nil {
			return
		}
		for _, x := range ev.NotRestoredExplanations {
			t.Logf("back/forward cache not used: %s %s", x.Type, x.Reason)
		}
		return
	}
}
