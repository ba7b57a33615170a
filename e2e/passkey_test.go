package e2e

import (
	"context"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

// addAuthenticator gives the tab a virtual platform authenticator (CTAP2,
// resident keys, user verification that always succeeds), through the
// DevTools WebAuthn domain.
func addAuthenticator(t *testing.T, ctx context.Context) {
	t.Helper()
	_, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{})
	must(t, "WebAuthn.enable", err)
	_, err = chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol:                    webauthn.AuthenticatorProtocolCtap2,
			Transport:                   webauthn.AuthenticatorTransportInternal,
			HasResidentKey:              true,
			HasUserVerification:         true,
			IsUserVerified:              true,
			AutomaticPresenceSimulation: true,
		},
	})
	must(t, "WebAuthn.addVirtualAuthenticator", err)
}

// The password account adds a passkey from its account page; signed out,
// "Sign in with a passkey" signs into it without a username; the confirm
// page steps up with it; removing it takes it off the list, and the
// sign-in with it is then refused.
func TestAddAPasskeySignInWithItAndRemoveIt(t *testing.T) {
	browser := newBrowser(t)
	base, _ := startServer(t)
	shots := newShooter(t)
	ctx := openScreen(t, browser, screens[0])
	addAuthenticator(t, ctx)

	signIn(t, ctx, base, demoUser, demoPassword)
	userID := text(t, ctx, "#user-id")
	must(t, "add a passkey", chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("input#passkey-name"), "Laptop"),
		chromedp.Click(chromedp.CSS("#add-passkey")),
		chromedp.WaitVisible(chromedp.CSS("[data-passkey]")),
	))
	wantText(t, ctx, "#passkeys", "Laptop")
	checkAccessibility(t, ctx, "account with a passkey")
	shots.shot(ctx, "passkey-1-added")

	// Signed out, "Sign in with a passkey" signs in without a username.
	// (The page's autofill is turned off in this tab, so that it cannot
	// sign in first: the virtual authenticator would accept it at a moment
	// of its own; package passkey's browser tests cover the autofill.)
	_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `window.PublicKeyCredential && (PublicKeyCredential.isConditionalMediationAvailable = async () => false);`,
	})
	must(t, "turn the autofill off", err)
	must(t, "sign out", chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#logout")), chromedp.WaitVisible(chromedp.CSS("#signin-passkey"))))
	must(t, "sign in with the passkey", chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#signin-passkey")),
		chromedp.WaitVisible(chromedp.CSS("#signed-in")),
	))
	if got := text(t, ctx, "#user-id"); got != userID {
		t.Fatalf("the passkey signed into %s, want %s", got, userID)
	}
	wantText(t, ctx, "#passkeys", "last used")

	open(t, ctx, base+"/confirm?return=%2F", "#confirm-passkey")
	checkAccessibility(t, ctx, "confirm with a passkey or the password")
	shots.shot(ctx, "passkey-3-confirm")
	must(t, "confirm with the passkey", chromedp.Do(ctx,
		removeAll("#signed-in"),
		chromedp.Click(chromedp.CSS("#confirm-passkey")),
		chromedp.WaitVisible(chromedp.CSS("#signed-in")),
	))

	must(t, "remove the passkey", chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("[data-remove]")),
		chromedp.WaitVisible(chromedp.CSS("#no-passkeys")),
	))
	shots.shot(ctx, "passkey-4-removed")
	got := run(t, ctx, "sign in with the removed passkey", chromedp.Evaluate[string](
		`fetch('/logout', {method: 'POST'}).then(() => passkey.signIn()).then(() => "signed in", e => e.code || e.name)`, chromedp.EvalAwaitPromise))
	if got == "signed in" {
		t.Fatal("the removed passkey still signs in")
	}
	t.Logf("sign-in with the removed passkey: %s", got)

	// The sign-in page as a browser without a passkey sees it.
	other := openScreen(t, browser, screens[2])
	open(t, other, base+"/", "#signin-passkey")
	checkAccessibility(t, other, "sign-in page with passkeys")
	shots.shot(other, "passkey-2-signin-page-phone")
}
