package e2e

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// Change the password on the laptop: a wrong current password is refused in
// words with the focus on it; the right one changes the password, the notice
// says the other device was signed out, the phone is signed out, and only
// the new password signs in.
func TestChangePasswordSignsOutTheOtherDevice(t *testing.T) {
	browser := newBrowser(t)
	base, _ := startServer(t)
	shots := newShooter(t)
	laptop, phone := newDesktop(t, browser), newPhone(t, browser)
	const newPassword = "a new e2e passphrase, longer"

	signIn(t, phone, base, demoUser, demoPassword)
	signIn(t, laptop, base, demoUser, demoPassword)
	must(t, "open the change-password page", chromedp.Do(laptop,
		chromedp.Click(chromedp.CSS("#change-password-link")),
		chromedp.WaitVisible(chromedp.CSS("#password-form")),
	))
	if f := focused(t, laptop); f != "current_password" {
		t.Fatalf("the page focuses %q, want the current password", f)
	}
	wantText(t, laptop, "main", "This signs you out on every other device.")
	shots.shot(laptop, "password-1-form")

	fill(t, laptop, [][2]string{{"current_password", "not my password at all"}, {"new_password", newPassword}}, "#error")
	wantText(t, laptop, "#error", "Your current password is not right.")
	if f := focused(t, laptop); f != "current_password" {
		t.Fatalf("after a wrong current password the focus is on %q", f)
	}
	shots.shot(laptop, "password-2-wrong-current")

	fill(t, laptop, [][2]string{{"current_password", demoPassword}, {"new_password", newPassword}}, "#notice")
	wantText(t, laptop, "#notice", "Your password was changed. Your other device was signed out; this one stays signed in.")
	if rows := sessionRows(t, laptop); len(rows) != 1 {
		t.Fatalf("after the change the laptop lists %q", rows)
	}
	shots.shot(laptop, "password-3-changed")

	must(t, "reload the phone", chromedp.Do(phone, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("body"))))
	if signedIn(t, phone) {
		t.Fatal("the phone is still signed in after the password change")
	}
	wantText(t, phone, "#notice", "Your session has ended. Please sign in again.")
	shots.shot(phone, "password-4-phone-signed-out")

	// The laptop stays signed in; the old password no longer works.
	must(t, "reload the laptop", chromedp.Do(laptop, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#signed-in"))))
	open(t, phone, base+"/", "#login-form")
	fill(t, phone, [][2]string{{"username", demoUser}, {"password", demoPassword}}, "#error")
	signIn(t, phone, base, demoUser, newPassword)
}
