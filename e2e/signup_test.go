package e2e

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// Sign up from the sign-in page: the rules are on the form before anything
// is typed; a short password is refused in words with the focus on the
// password and the username kept; a good one creates the account and signs
// it in, with a welcome.
func TestSignUp(t *testing.T) {
	ctx := newBrowser(t)
	base, _ := startServer(t)
	shots := newShooter(t)

	open(t, ctx, base+"/", "#login-form")
	must(t, "follow the sign-up link", chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#signup-link")),
		chromedp.WaitVisible(chromedp.CSS("#signup-form")),
	))
	wantText(t, ctx, "#password-rules", "At least 15 characters.")
	wantText(t, ctx, "#username-rules", "3 to 64 characters")
	if f := focused(t, ctx); f != "username" {
		t.Fatalf("the sign-up page focuses %q, want the username", f)
	}
	shots.shot(ctx, "signup-1-form")

	fill(t, ctx, [][2]string{{"username", "New.Person"}, {"password", "too short"}}, "#error")
	wantText(t, ctx, "#error", "Use at least 15 characters for your password.")
	if f := focused(t, ctx); f != "password" {
		t.Fatalf("after a short password the focus is on %q", f)
	}
	if v := run(t, ctx, "username value", chromedp.Value(chromedp.CSS("input#username"))); v != "New.Person" {
		t.Fatalf("the username field holds %q, want it kept", v)
	}
	shots.shot(ctx, "signup-2-short-password")

	fill(t, ctx, [][2]string{{"username", demoUser}, {"password", "a long enough passphrase"}}, "#error")
	wantText(t, ctx, "#error", "That username is taken.")
	if f := focused(t, ctx); f != "username" {
		t.Fatalf("after a taken username the focus is on %q", f)
	}
	shots.shot(ctx, "signup-3-taken")

	fill(t, ctx, [][2]string{{"username", "New.Person"}, {"password", "a long enough passphrase"}}, "#signed-in")
	wantText(t, ctx, "#notice", "Welcome! Your account is ready and you are signed in.")
	wantText(t, ctx, "#username", "new.person")
	shots.shot(ctx, "signup-4-welcome")

	// The account works: sign out, sign in again.
	must(t, "sign out", chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#logout")), chromedp.WaitVisible(chromedp.CSS("#login-form"))))
	signIn(t, ctx, base, "new.person", "a long enough passphrase")
}
