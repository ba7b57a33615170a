package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sessionauth/session"
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
		{"too long password", `{"username":"bob","password":"` + strings.Repeat("p", session.MaxPasswordBytes+1) + `"}`, http.StatusBadRequest, "password must be at most 1024 bytes"},
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
	// Register takes JSON only.
	wantStatus(t, b.postForm("/register", url.Values{"username": {"carol"}, "password": {pw}}), http.StatusUnsupportedMediaType)
}
