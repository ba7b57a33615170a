package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// Two devices, a laptop and a phone, sign in to one account. Each tells the
// two apart; the laptop signs the phone out with the phone's own button,
// and the phone is then signed out.
func TestTwoDevicesSignOneOutFromTheOther(t *testing.T) {
	browser := newBrowser(t)
	base, _ := startServer(t)
	shots := newShooter(t)
	laptop, phone := newDesktop(t, browser), newPhone(t, browser)

	signIn(t, phone, base, demoUser, demoPassword)
	signIn(t, laptop, base, demoUser, demoPassword)
	must(t, "reload the phone", chromedp.Do(phone, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#signed-in"))))

	rows := sessionRows(t, laptop)
	if len(rows) != 2 {
		t.Fatalf("the laptop lists %d sessions, want 2: %q", len(rows), rows)
	}
	if !strings.Contains(rows[0], "Headless Chrome on Linux") || !strings.Contains(rows[0], "this device") || !strings.Contains(rows[0], "from this computer") {
		t.Errorf("laptop's own row %q", rows[0])
	}
	if !strings.Contains(rows[1], "Safari on iOS") || strings.Contains(rows[1], "this device") {
		t.Errorf("the phone's row, seen from the laptop: %q", rows[1])
	}
	if rows[0] == rows[1] {
		t.Fatal("the two devices look the same")
	}
	phoneRows := sessionRows(t, phone)
	if len(phoneRows) != 2 || !strings.Contains(phoneRows[0], "Safari on iOS") || !strings.Contains(phoneRows[0], "this device") {
		t.Fatalf("the phone's list %q", phoneRows)
	}
	// This device has no sign-out button of its own in the list; the other has one.
	buttons := run(t, laptop, "count row buttons", chromedp.Evaluate[[]int](`[...document.querySelectorAll('#sessions tbody tr')].map(r => r.querySelectorAll('button').length)`))
	if len(buttons) != 2 || buttons[0] != 0 || buttons[1] != 1 {
		t.Fatalf("sign-out buttons per row %v, want [0 1]", buttons)
	}
	shots.shot(laptop, "devices-1-laptop")
	shots.shot(phone, "devices-2-phone")

	must(t, "sign the phone out from the laptop", chromedp.Do(laptop,
		chromedp.Click(chromedp.CSS("#sessions tbody tr:nth-child(2) button")),
		chromedp.WaitVisible(chromedp.CSS("#notice")),
	))
	wantText(t, laptop, "#notice", "The other device was signed out.")
	if rows := sessionRows(t, laptop); len(rows) != 1 || !strings.Contains(rows[0], "this device") {
		t.Fatalf("after signing the phone out the laptop lists %q", rows)
	}
	shots.shot(laptop, "devices-3-laptop-after")

	must(t, "reload the phone", chromedp.Do(phone, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("body"))))
	if signedIn(t, phone) {
		t.Fatal("the phone is still signed in")
	}
	wantText(t, phone, "#notice", "Your session has ended. Please sign in again.")
	shots.shot(phone, "devices-4-phone-signed-out")

	// Sign out everywhere, from the phone signed in again, signs the laptop out too.
	signIn(t, phone, base, demoUser, demoPassword)
	must(t, "sign out everywhere", chromedp.Do(phone,
		chromedp.Click(chromedp.CSS("#logout-all")),
		chromedp.WaitVisible(chromedp.CSS("#login-form")),
	))
	must(t, "reload the laptop", chromedp.Do(laptop, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("body"))))
	if signedIn(t, laptop) {
		t.Fatal("the laptop is still signed in after sign out everywhere")
	}
}
