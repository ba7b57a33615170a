package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// The demo provider's account (examples/loginserver/demoprovider.go).
const (
	providerUser     = "demo"
	providerPassword = "demo-password"
)

// atProvider signs in at the demo provider's page (or cancels there) and
// waits for sel back at the app.
func atProvider(t *testing.T, ctx context.Context, cancel bool, sel string) {
	t.Helper()
	must(t, "wait for the provider's page", chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#op-login"))))
	if cancel {
		must(t, "cancel at the provider", chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#cancel")), chromedp.WaitVisible(chromedp.CSS(sel))))
		return
	}
	must(t, "sign in at the provider", chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("input#username"), providerUser),
		chromedp.SendKeys(chromedp.CSS("input#password"), providerPassword),
		chromedp.Click(chromedp.CSS("#approve")),
		chromedp.WaitVisible(chromedp.CSS(sel)),
	))
}

// With no provider configured, the sign-in page offers the local demo
// provider. Cancelling there ends on the app's own page (its layout, an
// info notice, 403) and signs nobody in; signing in there creates an
// account without a password, and the account page says how it signs in.
func TestSignInWithTheDemoProvider(t *testing.T) {
	browser := newBrowser(t)
	base, _ := startServer(t)
	shots := newShooter(t)
	ctx := openScreen(t, browser, screens[0])

	open(t, ctx, base+"/", "#signin-demo")
	wantText(t, ctx, "#signin-demo", "Sign in with Demo ID")
	must(t, "start", chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#signin-demo"))))
	atProvider(t, ctx, true, "#notice")
	wantText(t, ctx, "#notice", "The sign-in was cancelled at the provider.")
	if !run(t, ctx, "layout", chromedp.Evaluate[bool](`document.querySelector('.bar .brand') !== null && document.querySelector('link[rel=stylesheet][href^="/static/app.css"]') !== null`)) {
		t.Fatal("the provider's error page is not in the app's layout")
	}
	if cls := run(t, ctx, "notice class", chromedp.Evaluate[string](`document.getElementById('notice').className`)); cls != "notice info" {
		t.Errorf("the cancelled sign-in's notice is %q, want info", cls)
	}
	checkAccessibility(t, ctx, "provider cancelled")
	shots.shot(ctx, "provider-cancelled")
	if signedIn(t, ctx) {
		t.Fatal("signed in after cancelling")
	}

	open(t, ctx, base+"/", "#signin-demo")
	must(t, "start again", chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#signin-demo"))))
	atProvider(t, ctx, false, "#signed-in")
	wantText(t, ctx, "#notice", "Welcome! Your account is ready: you sign in with Demo ID.")
	wantText(t, ctx, "#method-password", "Not set")
	wantText(t, ctx, "#method-demo", "Linked")
	checkAccessibility(t, ctx, "account made by the provider")
	shots.shot(ctx, "provider-new-account")
}

// A password account links the demo provider from its account page; then a
// fresh browser signs in through the provider into that same account, which
// lists both methods.
func TestLinkTheProviderAndSignInThroughIt(t *testing.T) {
	browser := newBrowser(t)
	base, _ := startServer(t)
	shots := newShooter(t)

	laptop := openScreen(t, browser, screens[0])
	signIn(t, laptop, base, demoUser, demoPassword)
	userID := text(t, laptop, "#user-id")
	wantText(t, laptop, "#method-demo", "Not linked")
	must(t, "link", chromedp.Do(laptop, chromedp.Click(chromedp.CSS("#link-demo"))))
	atProvider(t, laptop, false, "#signed-in")
	wantText(t, laptop, "#notice", "You can now sign in with Demo ID.")
	wantText(t, laptop, "#method-demo", "Linked")
	wantText(t, laptop, "#method-password", "Set")
	if got := text(t, laptop, "#user-id"); got != userID {
		t.Fatalf("linking changed the account: %s, want %s", got, userID)
	}
	checkAccessibility(t, laptop, "account with a linked provider")
	shots.shot(laptop, "provider-linked")

	phone := openScreen(t, browser, screens[3])
	open(t, phone, base+"/", "#signin-demo")
	must(t, "sign in with the provider", chromedp.Do(phone, chromedp.Click(chromedp.CSS("#signin-demo"))))
	atProvider(t, phone, false, "#signed-in")
	if got := text(t, phone, "#user-id"); got != userID {
		t.Fatalf("the linked provider signed into %s, want the password account %s", got, userID)
	}
	if name := text(t, phone, "span#username"); name != demoUser {
		t.Fatalf("signed in as %q, want %q", name, demoUser)
	}
	if rows := sessionRows(t, phone); len(rows) != 2 || !strings.Contains(rows[0], "Safari on iOS") || !strings.Contains(rows[0], "this device") {
		t.Fatalf("the account lists %q, want the phone (Safari on iOS, this device) and the laptop", rows)
	}
	checkAccessibility(t, phone, "signed in through the linked provider, phone, dark")
	checkLayout(t, phone, "account with methods, phone")
	shots.shot(phone, "provider-signed-in-linked-phone-dark")
	if strings.Contains(text(t, phone, "#methods"), "Not linked") {
		t.Fatal("the methods list says not linked")
	}

	// The confirm page offers the linked provider: a sign-in there with
	// max_age=0 steps this session up (same account, no new session).
	open(t, phone, base+"/confirm?return=%2F", "#confirm-demo")
	checkAccessibility(t, phone, "confirm with the provider, phone, dark")
	shots.shot(phone, "provider-confirm-phone-dark")
	must(t, "confirm with Demo ID", chromedp.Do(phone, removeAll("#signed-in"), chromedp.Click(chromedp.CSS("#confirm-demo"))))
	atProvider(t, phone, false, "#signed-in")
	if got := text(t, phone, "#user-id"); got != userID {
		t.Fatalf("the step-up through the provider landed in %s, want %s", got, userID)
	}
	if rows := sessionRows(t, phone); len(rows) != 2 {
		t.Fatalf("after the step-up the account lists %d sessions, want still 2: %q", len(rows), rows)
	}
}
