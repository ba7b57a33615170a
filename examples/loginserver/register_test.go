package main

import (
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/sessionauth/session/password"
)

func TestRegisterCreatesAccountOrSaysWhyNot(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser("192.0.2.1:1")
	const pw = "a perfectly long passphrase"
	r := b.postJSON("/register", `{"username":"Alice","password":"`+pw+`"}`)
	wantStatus(t, r, http.StatusCreated)
	var u userJSON
	r.json(t, &u)
	if u.Username != "alice" || u.ID == "" {
		t.Fatalf("registered %+v", u)
	}
	if r.cookie() != nil {
		t.Fatal("register signed the user in")
	}
	wantStatus(t, b.login("ALICE", pw), http.StatusOK)

	tests := []struct {
		name, body string
		status     int
		msg        string
	}{
		{"taken, other case", `{"username":"alice","password":"another long passphrase"}`, http.StatusConflict, "username taken"},
		{"demo taken", `{"username":"demo","password":"another long passphrase"}`, http.StatusConflict, "username taken"},
		{"weak password", `{"username":"bob","password":"only14chars!!!"}`, http.StatusBadRequest, "password must be at least 15 characters"},
		{"too long password", `{"username":"bob","password":"` + strings.Repeat("p", password.MaxBytes+1) + `"}`, http.StatusBadRequest, "password must be at most 1024 bytes"},
		{"bad username", `{"username":"b o b","password":"a perfectly long passphrase"}`, http.StatusBadRequest, errInvalidUsername.Error()},
		{"short username", `{"username":"bo","password":"a perfectly long passphrase"}`, http.StatusBadRequest, errInvalidUsername.Error()},
		{"missing", `{"username":"bob"}`, http.StatusBadRequest, "username and password are required"},
		{"malformed", `{"username":`, http.StatusBadRequest, "malformed request body"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := e.browser("192.0.2.2:1").postJSON("/register", tc.body)
			wantStatus(t, r, tc.status)
			if msg := r.errorMsg(t); msg != tc.msg {
				t.Fatalf("error %q, want %q", msg, tc.msg)
			}
		})
	}
	// Unicode passwords of 15 characters are fine.
	wantStatus(t, b.postJSON("/register", `{"username":"zoë","password":"x"}`), http.StatusBadRequest)
	wantStatus(t, b.postJSON("/register", `{"username":"yuki","password":"パスワードはとても長いです。"}`), http.StatusBadRequest) // 14 characters
	wantStatus(t, b.postJSON("/register", `{"username":"yuki","password":"パスワードはとても長いですね。"}`), http.StatusCreated)
	wantStatus(t, b.login("yuki", "パスワードはとても長いですね。"), http.StatusOK)
	// Other content types: 415.
	req := httptest.NewRequest("POST", "/register", strings.NewReader("carol:"+pw))
	req.Header.Set("Content-Type", "text/plain")
	wantStatus(t, b.do(req), http.StatusUnsupportedMediaType)
}

// The sign-up form creates the account, signs it in on this device and
// greets it once.
func TestSignupFormSignsInAndWelcomes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser("192.0.2.1:1")
	r := b.postForm("/register", url.Values{"username": {"Zed"}, "password": {"a perfectly long passphrase"}})
	wantStatus(t, r, http.StatusSeeOther)
	if r.cookie() == nil {
		t.Fatal("sign-up did not sign in")
	}
	r = b.get("/")
	wantBody(t, r, `Signed in as <span id="username">zed</span>`, "Welcome! Your account is ready and you are signed in.")
	if r = b.get("/"); strings.Contains(r.body, "Welcome!") {
		t.Fatal("the welcome was shown twice")
	}
}

// Sign-up errors on the page are sentences, keep what was typed in the
// username, and focus the field to fix; the API codes stay out of the page.
func TestSignupFormErrorsInWords(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		name, user, pw string
		status         int
		human, field   string
	}{
		{"taken", "Demo", "a perfectly long passphrase", http.StatusConflict, "That username is taken. Please choose another one.", "username"},
		{"bad username", "b o b", "a perfectly long passphrase", http.StatusBadRequest, "Choose a username of 3 to 64 characters", "username"},
		{"weak password", "bobby", "too short", http.StatusBadRequest, "Use at least 15 characters for your password.", "password"},
		{"no password", "bobby", "", http.StatusBadRequest, "Enter your password.", "password"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := e.browser("192.0.2.1:1").postForm("/register", url.Values{"username": {tc.user}, "password": {tc.pw}})
			wantStatus(t, r, tc.status)
			wantBody(t, r, tc.human, `value="`+html.EscapeString(tc.user)+`"`, `id="signup-form"`)
			if f := r.focused(); f != tc.field {
				t.Fatalf("focus on %q, want %q", f, tc.field)
			}
			if got := r.invalid(); len(got) != 1 || got[0] != tc.field {
				t.Fatalf("invalid fields %v", got)
			}
			if r.cookie() != nil {
				t.Fatal("a refused sign-up set a cookie")
			}
		})
	}
}
