package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/device"
)

// A screen is a browser tab at one size and colour scheme.
type screen struct {
	name   string // laptop-light, phone-dark...
	phone  bool   // 390 x 844 (an iPhone 13), else 1280 x 800
	dark   bool
	layout bool // check the layout at this size (as phone_test.go does)
}

var screens = []screen{
	{name: "laptop-light"},
	{name: "laptop-dark", dark: true},
	{name: "phone-light", phone: true},
	{name: "phone-dark", phone: true, dark: true},
}

// openScreen opens a tab with its own cookie jar at the screen's size and
// colour scheme.
func openScreen(t *testing.T, browser context.Context, s screen) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if s.phone {
		must(t, "emulate an iPhone", chromedp.Do(ctx, chromedp.Emulate(device.IPhone13)))
	} else {
		must(t, "set the window size", chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800)))
	}
	darkMode(t, ctx, s.dark)
	return ctx
}

// tour visits every page of the example in ctx, in the states a user sees
// (a form, the form with an error, a notice of each kind), and calls visit
// on each, named in the order of the tour. It signs up its own account,
// user.
func tour(t *testing.T, ctx context.Context, base, user string, visit func(name string)) {
	t.Helper()
	const pass = "a tour passphrase, long enough"
	open(t, ctx, base+"/", "#login-form")
	visit("signin")
	fill(t, ctx, [][2]string{{"username", demoUser}, {"password", "not the password, but long"}}, "#error")
	visit("signin-wrong-password")

	open(t, ctx, base+"/signup", "#signup-form")
	visit("signup")
	fill(t, ctx, [][2]string{{"username", user}, {"password", "too short"}}, "#error")
	visit("signup-weak-password")
	fill(t, ctx, [][2]string{{"username", user}, {"password", pass}}, "#signed-in")
	visit("account-welcome")

	open(t, ctx, base+"/password", "#password-form")
	visit("password")
	fill(t, ctx, [][2]string{{"current_password", "wrong, but long enough"}, {"new_password", "another long passphrase"}}, "#error")
	visit("password-wrong")
	fill(t, ctx, [][2]string{{"current_password", pass}, {"new_password", pass + " and more"}}, "#notice")
	visit("account-password-changed")
	open(t, ctx, base+"/confirm?return=%2Flogout-all", "#confirm-form")
	visit("confirm")
	open(t, ctx, base+"/", "#signed-in")

	// A session that ended: sign out, then bring the dead cookie back, as a
	// browser does whose session was ended from another device.
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{base + "/"}})
	must(t, "Network.getCookies", err)
	var dead *network.Cookie
	for _, c := range res.Cookies {
		if c.Name == cookieName {
			dead = c
		}
	}
	if dead == nil {
		t.Fatal("no session cookie after sign-up")
	}
	must(t, "sign out", chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#logout")), chromedp.WaitVisible(chromedp.CSS("#login-form"))))
	_, err = chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{
		Name: dead.Name, Value: dead.Value, URL: base + "/", Path: "/", Secure: new(true), HTTPOnly: new(true), SameSite: network.CookieSameSiteLax,
	})
	must(t, "bring the ended session's cookie back", err)
	open(t, ctx, base+"/", "#notice")
	visit("signin-session-ended")

	must(t, "start a provider sign-in", chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#signin-demo"))))
	atProvider(t, ctx, true, "#notice")
	visit("provider-cancelled")
	open(t, ctx, base+"/", "#signin-demo")
	must(t, "start a provider sign-in", chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#signin-demo"))))
	atProvider(t, ctx, false, "#signed-in")
	visit("account-provider")
}

// Every page, at a laptop's 1280 x 800 and a phone's 390 x 844, light and
// dark: axe-core finds no serious or critical accessibility violation, the
// layout holds, and a screenshot of each is saved (SCREENSHOT_DIR).
func TestEveryPageIsAccessibleOnEveryScreen(t *testing.T) {
	browser := newBrowser(t)
	base, _ := startServer(t)
	shots := newShooter(t)
	if _, err := axeSource(); err != nil { // once, before the tabs time out
		checkAccessibility(t, browser, "npm")
	}
	for _, s := range screens {
		ctx := openScreen(t, browser, s)
		n := 0
		tour(t, ctx, base, "tour-"+s.name, func(page string) {
			n++
			checkAccessibility(t, ctx, s.name+" "+page)
			checkLayout(t, ctx, s.name+" "+page)
			shots.shot(ctx, fmt.Sprintf("%s-%02d-%s", s.name, n, page))
		})
	}
}

// The notices have the colour of what they mean: an ended session is news
// (blue), not a success (green); an error is red.
func TestNoticeColoursSayWhatTheyMean(t *testing.T) {
	browser := newBrowser(t)
	base, _ := startServer(t)
	ctx := openScreen(t, browser, screens[0])
	colours := map[string]string{}
	tour(t, ctx, base, "colours", func(page string) {
		colours[page] = run(t, ctx, "notice colour", chromedp.Evaluate[string](
			`(e => e ? getComputedStyle(e).backgroundColor : "")(document.querySelector('#notice, #error'))`))
	})
	info, success, failure := colours["signin-session-ended"], colours["account-password-changed"], colours["signin-wrong-password"]
	if info == "" || success == "" || failure == "" || info == success || info == failure || success == failure {
		t.Fatalf("notice colours: session ended %q, password changed %q, wrong password %q: want three different colours", info, success, failure)
	}
	if colours["account-welcome"] != success {
		t.Errorf("the welcome is %q, the password change %q: both are successes", colours["account-welcome"], success)
	}
}

// The keyboard focus is always visible: tabbing through the sign-in form,
// every focused control has a solid outline at least 2 px wide.
func TestKeyboardFocusIsVisible(t *testing.T) {
	browser := newBrowser(t)
	base, _ := startServer(t)
	for _, s := range []screen{screens[0], screens[1]} {
		ctx := openScreen(t, browser, s)
		open(t, ctx, base+"/", "#login-form")
		must(t, "click the username", chromedp.Do(ctx, chromedp.Click(chromedp.CSS("input#username"))))
		seen := map[string]bool{}
		for range 5 {
			must(t, "press Tab", chromedp.Do(ctx, chromedp.KeyEvent("\t")))
			var got struct {
				Name, Style string
				Width       float64
			}
			got = run(t, ctx, "focus style", chromedp.Evaluate[struct {
				Name, Style string
				Width       float64
			}](`(e => ({Name: e.id || e.className || e.tagName, Style: getComputedStyle(e).outlineStyle, Width: parseFloat(getComputedStyle(e).outlineWidth)}))(document.activeElement)`))
			seen[got.Name] = true
			if got.Style != "solid" || got.Width < 2 {
				t.Errorf("%s: the focused %s has outline %s %gpx", s.name, got.Name, got.Style, got.Width)
			}
		}
		for _, want := range []string{"password", "reveal", "remember", "submit"} {
			if !seen[want] {
				t.Errorf("%s: Tab never reached %s (reached %v)", s.name, want, seen)
			}
		}
	}
}

// The show-password button reveals and hides the password with JavaScript,
// and the form still signs in (as a password field again). Without
// JavaScript the button is not shown and the form signs in all the same.
func TestShowPasswordWithAndWithoutJavaScript(t *testing.T) {
	browser := newBrowser(t)
	base, _ := startServer(t)
	shots := newShooter(t)

	ctx := openScreen(t, browser, screens[0])
	open(t, ctx, base+"/", "#login-form")
	must(t, "type and reveal", chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("input#username"), demoUser),
		chromedp.SendKeys(chromedp.CSS("input#password"), demoPassword),
		chromedp.Click(chromedp.CSS("button.reveal")),
	))
	if typ := run(t, ctx, "input type", chromedp.Evaluate[string](`document.getElementById('password').type`)); typ != "text" {
		t.Fatalf("after Show the password input is %q, want text", typ)
	}
	wantText(t, ctx, "button.reveal .word", "Hide")
	shots.shot(ctx, "show-password-revealed")
	must(t, "hide again", chromedp.Do(ctx, chromedp.Click(chromedp.CSS("button.reveal"))))
	if typ := run(t, ctx, "input type", chromedp.Evaluate[string](`document.getElementById('password').type`)); typ != "password" {
		t.Fatalf("after Hide the password input is %q", typ)
	}
	must(t, "reveal and sign in", chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("button.reveal")),
		chromedp.Click(chromedp.CSS("#submit")),
		chromedp.WaitVisible(chromedp.CSS("#signed-in")),
	))

	noJS := openScreen(t, browser, screens[2])
	_, err := chromedp.Call(noJS, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
	must(t, "turn JavaScript off", err)
	open(t, noJS, base+"/", "#login-form")
	if visible := run(t, noJS, "reveal button shown", chromedp.Evaluate[bool](`document.querySelector('button.reveal').checkVisibility()`)); visible {
		t.Fatal("without JavaScript the Show button is visible, and would do nothing")
	}
	shots.shot(noJS, "show-password-no-javascript")
	fill(t, noJS, [][2]string{{"username", demoUser}, {"password", demoPassword}}, "#signed-in")
	if !strings.Contains(text(t, noJS, "#username"), demoUser) {
		t.Fatal("without JavaScript the form did not sign in")
	}
}
