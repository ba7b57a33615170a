package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// layoutProblems lists what is broken in the page's layout at its current
// width: sideways scrolling, elements sticking out, table headers, the
// header bar or session sub-lines that wrap, "this device" pills that drop
// below the device name.
const layoutProblems = `(() => {
  const problems = [];
  const width = document.documentElement.clientWidth;
  const lineHeight = el => { const s = getComputedStyle(el); return parseFloat(s.lineHeight) || 1.5 * parseFloat(s.fontSize); };
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className ? '.' + el.className : '');
  if (document.documentElement.scrollWidth > width) problems.push('the page scrolls sideways: ' + document.documentElement.scrollWidth + ' px for ' + width);
  for (const el of document.querySelectorAll('header, h1, input, button, .button, .pill, th, td, .error, .notice')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && (r.right > width + 0.5 || r.left < -0.5)) problems.push(name(el) + ' sticks out: ' + r.left + '..' + r.right);
  }
  const oneLine = (el, what) => {
    const s = getComputedStyle(el);
    const h = el.getBoundingClientRect().height - parseFloat(s.paddingTop) - parseFloat(s.paddingBottom);
    if (h > 1 && h > 1.6 * lineHeight(el)) problems.push(what + ' wraps: ' + JSON.stringify(el.innerText));
  };
  for (const th of document.querySelectorAll('th')) oneLine(th, 'table header');
  oneLine(document.querySelector('header'), 'the header bar');
  for (const sub of document.querySelectorAll('#sessions .sub')) oneLine(sub, 'session sub-line');
  for (const b of document.querySelectorAll('button, .button')) oneLine(b, 'button');
  for (const pill of document.querySelectorAll('.pill')) {
    const dev = pill.previousElementSibling.getClientRects();
    const last = dev[dev.length - 1], p = pill.getBoundingClientRect();
    if (p.top > last.bottom || p.bottom < last.top) problems.push('the pill ' + JSON.stringify(pill.innerText) + ' is not on the line of the device name');
  }
  for (const n of document.querySelectorAll('.notice')) {
    if (n.checkVisibility() && n.textContent.trim() === '') problems.push('an empty notice is shown: ' + name(n));
  }
  return problems;
})()`

// checkLayout fails the test with every layout problem of the page.
func checkLayout(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	if p := run(t, ctx, "check the layout", chromedp.Evaluate[[]string](layoutProblems)); len(p) > 0 {
		t.Errorf("%s: %s", page, strings.Join(p, "; "))
	}
}

// background returns the page's computed background colour.
func background(t *testing.T, ctx context.Context) string {
	t.Helper()
	return run(t, ctx, "background", chromedp.Evaluate[string](`getComputedStyle(document.body).backgroundColor`))
}

// Every page holds at a phone's 390 px and on a desktop, in light and dark
// mode: nothing scrolls sideways or sticks out, headers and pills stay on
// their line. Dark mode really is dark.
func TestPhoneWidthAndDarkMode(t *testing.T) {
	browser := newBrowser(t)
	base, _ := startServer(t)
	shots := newShooter(t)
	laptop, phone := newDesktop(t, browser), newPhone(t, browser)

	open(t, phone, base+"/", "#login-form")
	if w := run(t, phone, "viewport width", chromedp.Evaluate[int](`window.innerWidth`)); w != 390 {
		t.Fatalf("the phone is %d px wide, want 390", w)
	}
	checkLayout(t, phone, "sign-in page")
	shots.shot(phone, "phone-1-signin")
	open(t, phone, base+"/signup", "#signup-form")
	fill(t, phone, [][2]string{{"username", "someone"}, {"password", "short"}}, "#error")
	checkLayout(t, phone, "sign-up page with an error")
	shots.shot(phone, "phone-2-signup-error")

	// The laptop signs in; the phone with "keep me signed in", so its row
	// has the "remembered" mark too.
	signIn(t, laptop, base, demoUser, demoPassword)
	open(t, phone, base+"/", "#login-form")
	must(t, "sign in, remembered", chromedp.Do(phone,
		chromedp.SendKeys(chromedp.CSS("input#username"), demoUser),
		chromedp.SendKeys(chromedp.CSS("input#password"), demoPassword),
		chromedp.Click(chromedp.CSS("input#remember")),
		chromedp.Click(chromedp.CSS("#submit")),
		chromedp.WaitVisible(chromedp.CSS("#signed-in")),
	))
	rows := sessionRows(t, phone)
	if len(rows) != 2 || !strings.Contains(rows[0], "remembered") || !strings.Contains(rows[0], "this device") {
		t.Fatalf("the phone lists %q", rows)
	}
	checkLayout(t, phone, "account page")
	shots.shot(phone, "phone-3-account")
	must(t, "reload the laptop", chromedp.Do(laptop, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#signed-in"))))
	checkLayout(t, laptop, "account page on the laptop")

	open(t, phone, base+"/password", "#password-form")
	fill(t, phone, [][2]string{{"current_password", "wrong, but long enough"}, {"new_password", "another long passphrase"}}, "#error")
	checkLayout(t, phone, "change-password page with an error")
	shots.shot(phone, "phone-4-password-error")

	// Dark mode.
	light := background(t, phone)
	darkMode(t, phone, true)
	darkMode(t, laptop, true)
	open(t, phone, base+"/", "#signed-in")
	if dark := background(t, phone); dark == light || dark != "rgb(21, 23, 27)" {
		t.Fatalf("dark mode background %s (light %s)", dark, light)
	}
	checkLayout(t, phone, "account page, dark")
	shots.shot(phone, "phone-5-account-dark")
	must(t, "reload the laptop", chromedp.Do(laptop, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#signed-in"))))
	shots.shot(laptop, "laptop-account-dark")
	open(t, laptop, base+"/password", "#password-form")
	fill(t, laptop, [][2]string{{"current_password", "wrong, but long enough"}, {"new_password", "another long passphrase"}}, "#error")
	shots.shot(laptop, "laptop-password-error-dark")
}
