package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestBadBodiesAreRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	big := `{"username":"demo","password":"` + strings.Repeat("a", maxBodyBytes) + `"}`
	tests := []struct {
		name, ctype, body string
		status            int
		msg               string // the JSON error, when it matters
	}{
		{"malformed JSON", "application/json", `{"username":`, http.StatusBadRequest, "malformed request body"},
		{"not an object", "application/json", `[1,2]`, http.StatusBadRequest, ""},
		{"unknown field", "application/json", `{"username":"demo","password":"x","admin":true}`, http.StatusBadRequest, `unknown field: "admin"`},
		{"case-variant key", "application/json", `{"username":"x","USERNAME":"demo","password":"` + testPassword + `"}`, http.StatusBadRequest, `field name in the wrong case: "USERNAME", not "username"`},
		{"duplicate key", "application/json", `{"username":"x","password":"` + testPassword + `","username":"demo"}`, http.StatusBadRequest, `duplicate field: "username"`},
		{"null password", "application/json", `{"username":"demo","password":null}`, http.StatusBadRequest, `field has the wrong type: "password" is null`},
		{"trailing data", "application/json", `{"username":"demo","password":"x"} {}`, http.StatusBadRequest, "malformed JSON body: trailing data"},
		{"missing password", "application/json", `{"username":"demo"}`, http.StatusBadRequest, ""},
		{"empty body", "application/json", ``, http.StatusBadRequest, ""},
		{"oversized JSON", "application/json", big, http.StatusBadRequest, "request body larger than 8192 bytes"},
		{"oversized form", "application/x-www-form-urlencoded", "username=demo&password=" + strings.Repeat("a", maxBodyBytes), http.StatusBadRequest, ""},
		{"bad form encoding", "application/x-www-form-urlencoded", "username=%zz", http.StatusBadRequest, ""},
		{"text/plain", "text/plain", `demo:pw`, http.StatusUnsupportedMediaType, ""},
		{"no content type", "", `{"username":"demo","password":"x"}`, http.StatusUnsupportedMediaType, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest("POST", "/login", strings.NewReader(tc.body))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			r := e.browser("192.0.2.1:1").do(req)
			wantStatus(t, r, tc.status)
			if tc.ctype == "application/x-www-form-urlencoded" {
				if !strings.Contains(r.body, `class="notice error" role="alert" id="error"`) {
					t.Fatalf("form error page: %s", r.body)
				}
				return
			}
			if msg := r.errorMsg(t); tc.msg != "" && msg != tc.msg {
				t.Fatalf("error %q, want %q", msg, tc.msg)
			}
			if r.cookie() != nil {
				t.Fatal("a refused body set a session cookie")
			}
		})
	}
}

// Every JSON body is read strictly: the same ambiguous bodies that login
// refuses are refused by register.
func TestRegisterRefusesAmbiguousJSON(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, body := range []string{
		`{"username":"mallory","USERNAME":"demo","password":"a perfectly long passphrase"}`,
		`{"username":"mallory","password":"short","password":"a perfectly long passphrase"}`,
		`{"username":"mallory","password":"a perfectly long passphrase","role":"admin"}`,
	} {
		r := e.browser("192.0.2.1:1").postJSON("/register", body)
		wantStatus(t, r, http.StatusBadRequest)
		r.errorMsg(t)
	}
	if _, err := e.users.ByUsername(t.Context(), "mallory"); err == nil {
		t.Fatal("an ambiguous body created an account")
	}
}
