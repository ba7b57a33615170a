package main

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

func TestHomeSignedOutShowsSignInFormAndSafeHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.browser("192.0.2.1:1234").get("/")
	wantStatus(t, r, http.StatusOK)
	for _, s := range []string{`<form id="login-form" method="post" action="/login">`, `name="username"`, `name="password"`, `name="remember"`, "Demo account"} {
		if !strings.Contains(r.body, s) {
			t.Errorf("page lacks %q", s)
		}
	}
	if r.cookie() != nil {
		t.Error("anonymous page set a session cookie")
	}
	for h, want := range map[string]string{
		"Cache-Control":          "no-store",
		"Content-Type":           "text/html; charset=utf-8",
		"X-Content-Type-Options": "nosniff",
	} {
		if got := r.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP %q", csp)
	}
}

func TestHomeEscapesUserAgent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser("192.0.2.1:1")
	b.ua = `<script>alert(1)</script>"><img src=x>`
	b.mustLogin()
	r := b.get("/")
	wantStatus(t, r, http.StatusOK)
	if strings.Contains(r.body, "<script>alert") || strings.Contains(r.body, "<img src=x>") {
		t.Fatal("user agent rendered unescaped")
	}
	if !strings.Contains(r.body, "&lt;script&gt;") {
		t.Fatal("user agent missing from the page")
	}
}

// The sign-in page puts the focus where the user has to type: the username
// at first, the password after a wrong one (the username kept), the empty
// field when one is missing; the field to fix is marked invalid.
func TestSignInPageFocusesTheFieldToFix(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser("192.0.2.1:1")
	tests := []struct {
		name        string
		r           *response
		status      int
		focus       string
		invalid     string
		wantInBody  string
		notWantBody string
	}{
		{"first visit", b.get("/"), http.StatusOK, "username", "", "", ""},
		{"wrong password", b.postForm("/login", url.Values{"username": {"Demo"}, "password": {"not the right one at all"}}),
			http.StatusUnauthorized, "password", "password", `value="Demo"`, "invalid credentials"},
		{"no username", b.postForm("/login", url.Values{"password": {"something long enough"}}),
			http.StatusBadRequest, "username", "username", "Enter your username.", ""},
		{"no password", b.postForm("/login", url.Values{"username": {"demo"}}),
			http.StatusBadRequest, "password", "password", "Enter your password.", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantStatus(t, tc.r, tc.status)
			if got := tc.r.focused(); got != tc.focus {
				t.Errorf("focus on %q, want %q", got, tc.focus)
			}
			if got := strings.Join(tc.r.invalid(), ","); got != tc.invalid {
				t.Errorf("invalid fields %q, want %q", got, tc.invalid)
			}
			if tc.wantInBody != "" {
				wantBody(t, tc.r, tc.wantInBody)
			}
			if tc.notWantBody != "" && strings.Contains(tc.r.body, tc.notWantBody) {
				t.Errorf("page shows %q", tc.notWantBody)
			}
		})
	}
}

func TestSignupPageShowsTheRulesUpFront(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser("192.0.2.1:1")
	r := b.get("/signup")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, `<form id="signup-form" method="post" action="/register">`,
		"3 to 64 characters: letters a–z, digits", "At least 15 characters.", "spaces and emoji too",
		`autocomplete="new-password"`, `href="/"`)
	if f := r.focused(); f != "username" {
		t.Fatalf("focus on %q", f)
	}
	// The sign-in page links to it.
	wantBody(t, b.get("/"), `href="/signup"`)
	// Signed in, it sends you home.
	b.mustLogin()
	r = b.get("/signup")
	wantStatus(t, r, http.StatusSeeOther)
}

func TestPasswordPageIsForSignedInUsers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser("192.0.2.1:1")
	// A browser is sent to sign in; an API client gets 401.
	r := b.page("/password")
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/" {
		t.Fatalf("Location %q", loc)
	}
	wantStatus(t, b.get("/password"), http.StatusUnauthorized)
	b.mustLogin()
	r = b.page("/password")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, `<form id="password-form" method="post" action="/password">`, "Current password", "New password",
		"At least 15 characters.", "This signs you out on every other device. This device stays signed in.")
	if f := r.focused(); f != "current_password" {
		t.Fatalf("focus on %q", f)
	}
}

// The account page tells devices apart (browser and OS, the network they
// signed in from), marks this one, and has a sign-out button for each other
// one; none for this device, which has the main Sign out button.
func TestAccountPageTellsDevicesApart(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	laptop := e.browser("192.0.2.10:1")
	phone := e.browser("198.51.100.7:1")
	phone.ua = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1"
	phone.mustLogin()
	laptop.mustLogin()
	r := laptop.get("/")
	wantStatus(t, r, http.StatusOK)
	rows := regexp.MustCompile(`(?s)<tr id="session-([0-9a-f]+)"( class="current")?>(.*?)</tr>`).FindAllStringSubmatch(r.body, -1)
	if len(rows) != 2 {
		t.Fatalf("%d session rows, want 2:\n%s", len(rows), r.body)
	}
	this, other := rows[0], rows[1]
	if this[2] == "" || other[2] != "" {
		t.Fatal("the current session is not the first row, marked current")
	}
	for _, want := range []string{"Chrome on Linux", `<span class="pill">this device</span>`, "from this network", "now"} {
		if !strings.Contains(this[3], want) {
			t.Errorf("this device's row lacks %q", want)
		}
	}
	for _, want := range []string{"Safari on iOS", "from 198.51.100.x network", `action="/sessions/` + other[1] + `/logout"`, `aria-label="Sign out Safari on iOS`} {
		if !strings.Contains(other[3], want) {
			t.Errorf("the other device's row lacks %q", want)
		}
	}
	if strings.Contains(this[3], "<form") {
		t.Error("this device's row has its own sign-out form")
	}
	if strings.Contains(r.body, "198.51.100.7") || strings.Contains(r.body, "192.0.2.10") {
		t.Error("the page shows a full client address")
	}
	wantBody(t, r, `href="/password"`, `action="/logout"`, `action="/logout-all"`)
}

// Every page keeps the Content-Security-Policy that allows only the server's
// own script and stylesheet, and has nothing inline: no <script> but
// static/app.js, no <style>, no style or on... attributes.
func TestPagesLoadOnlyTheirOwnScriptAndStylesheet(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser("192.0.2.1:1")
	var got []*response
	got = append(got, b.get("/"), b.get("/signup"), b.postForm("/login", url.Values{"username": {"demo"}}))
	b.mustLogin()
	got = append(got, b.get("/"), b.page("/password"))
	e.faults.Fail(nil)
	got = append(got, b.page("/password"))
	scriptTag := regexp.MustCompile(`(?i)<script[^>]*>`)
	inline := regexp.MustCompile(`(?i)<style|\sstyle=|\son[a-z]+=|javascript:`)
	for i, r := range got {
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("response %d is not a page: %d %s", i, r.StatusCode, r.body)
		}
		if csp := r.Header.Get("Content-Security-Policy"); csp != contentSecurityPolicy(nil) || !strings.Contains(csp, "script-src 'self';") || strings.Contains(csp, "unsafe") {
			t.Errorf("page %d: CSP %q", i, csp)
		}
		tags := scriptTag.FindAllString(r.body, -1)
		if len(tags) != 2 || tags[0] != `<script src="/passkey/passkey.js" defer>` || tags[1] != `<script src="/static/app.js?v=`+assetVersion+`" defer>` {
			t.Errorf("page %d: script tags %q, want package passkey's passkey.js, then static/app.js", i, tags)
		}
		if m := inline.FindString(r.body); m != "" {
			t.Errorf("page %d has inline code or style: %q", i, m)
		}
	}
}

// The stylesheet and the script are served with their types, cacheable (the
// layout puts a hash of their content in their URLs); other names are 404.
func TestStaticFilesAreServed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser("192.0.2.1:1")
	for _, tc := range []struct{ path, ctype, has string }{
		{"/static/app.css", "text/css; charset=utf-8", "prefers-color-scheme: dark"},
		{"/static/app.js", "text/javascript; charset=utf-8", "data-reveal"},
	} {
		r := b.get(tc.path)
		wantStatus(t, r, http.StatusOK)
		if ct := r.Header.Get("Content-Type"); ct != tc.ctype {
			t.Errorf("%s: Content-Type %q, want %q", tc.path, ct, tc.ctype)
		}
		if !strings.Contains(r.Header.Get("Cache-Control"), "max-age=") {
			t.Errorf("%s: Cache-Control %q", tc.path, r.Header.Get("Cache-Control"))
		}
		wantBody(t, r, tc.has)
	}
	for _, p := range []string{"/static/nope.js", "/static/..%2fmain.go", "/static/"} {
		if r := b.get(p); r.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, r.StatusCode)
		}
	}
}

// Every password input has a show-password button that ships hidden (so
// without JavaScript the page shows no control that does nothing) and
// names the input it controls.
func TestPasswordInputsHaveAHiddenShowButton(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser("192.0.2.1:1")
	pagesWithPasswords := map[string]*response{"/": b.get("/"), "/signup": b.get("/signup")}
	b.mustLogin()
	pagesWithPasswords["/password"] = b.page("/password")
	input := regexp.MustCompile(`<input id="([a-z_]+)"[^>]* type="password"`)
	for path, r := range pagesWithPasswords {
		ids := input.FindAllStringSubmatch(r.body, -1)
		if len(ids) == 0 {
			t.Fatalf("%s: no password input", path)
		}
		for _, m := range ids {
			wantBody(t, r, `<button type="button" class="reveal" data-reveal="`+m[1]+`" aria-controls="`+m[1]+`" hidden><span class="word">Show</span><span class="visually-hidden"> password</span></button>`)
		}
	}
}

// When the session store is down, a browser asking for a page behind
// RequireAuth gets a 503 page that says so in words; an API client gets the
// JSON code. Neither is told it was signed out.
func TestStoreOutageIsA503PageForBrowsers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser("192.0.2.1:1")
	b.mustLogin()
	e.faults.Fail(nil)
	for _, path := range []string{"/", "/password"} {
		r := b.page(path)
		wantStatus(t, r, http.StatusServiceUnavailable)
		wantBody(t, r, "Your session cannot be checked right now. You are still signed in")
		if r.cookie() != nil {
			t.Fatalf("GET %s: the outage touched the cookie", path)
		}
	}
	// A visitor without a session is not affected.
	wantBody(t, e.browser("192.0.2.9:1").get("/"), `id="login-form"`)
	r := b.get("/me")
	wantStatus(t, r, http.StatusServiceUnavailable)
	if msg := r.errorMsg(t); msg != "session store unavailable" {
		t.Fatalf("JSON error %q", msg)
	}
}

// A notice (here, after signing out another device) is shown on the next
// page, once.
func TestNoticeIsShownOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	laptop, phone := e.browser("192.0.2.1:1"), e.browser("192.0.2.2:1")
	laptop.mustLogin()
	phone.mustLogin()
	var list []sessionJSON
	laptop.get("/sessions").json(t, &list)
	wantStatus(t, laptop.postForm("/sessions/"+list[1].ID+"/logout", nil), http.StatusSeeOther)
	r := laptop.get("/")
	wantBody(t, r, `<p class="notice success" role="status" id="notice">The other device was signed out.</p>`)
	if r = laptop.get("/"); strings.Contains(r.body, `id="notice"`) {
		t.Fatal("the notice was shown twice")
	}
}

// A browser whose session ended elsewhere (signed out from another device,
// timed out) is told so once on the sign-in page; a new visitor is not.
func TestSignInPageSaysWhenASessionEnded(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	laptop, phone := e.browser("192.0.2.1:1"), e.browser("192.0.2.2:1")
	wantStatus(t, laptop.get("/"), http.StatusOK)
	if strings.Contains(laptop.get("/").body, "session has ended") {
		t.Fatal("a new visitor is told a session ended")
	}
	laptop.mustLogin()
	phone.mustLogin()
	wantStatus(t, laptop.postJSON("/logout-all", ""), http.StatusNoContent)
	r := phone.get("/")
	wantStatus(t, r, http.StatusOK)
	// News, not a success: the info colour.
	wantBody(t, r, `id="login-form"`, `<p class="notice info" role="status" id="notice">Your session has ended. Please sign in again.</p>`)
	if c := r.cookie(); c == nil || c.MaxAge >= 0 {
		t.Fatalf("the dead cookie was not expired: %+v", c)
	}
	if strings.Contains(phone.get("/").body, "session has ended") {
		t.Fatal("the notice was shown twice")
	}
}

// A visitor whose browser holds a live anonymous session (the passkey
// autofill's challenge) is not told that a session ended.
func TestSignInPageIsQuietForALiveAnonymousSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser("192.0.2.1:1")
	wantStatus(t, b.postJSON("/passkey/signin/begin", "{}"), http.StatusOK)
	if b.cookies[e.app.cookieName] == nil {
		t.Fatal("the passkey sign-in began without a session cookie: this test proves nothing")
	}
	if r := b.get("/"); strings.Contains(r.body, "session has ended") {
		t.Fatal("a live anonymous session is told its session ended")
	}
}
