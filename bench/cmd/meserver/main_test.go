package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestModesAnswerTheSameJSON logs in through each mode and checks GET /me
// gives the same body everywhere, and that the session modes refuse /me
// without a login.
func TestModesAnswerTheSameJSON(t *testing.T) {
	t.Parallel()
	const want = `{"id":"usr_5f0c2a9e41d37b68","username":"demo"}`
	for _, mode := range modeNames() {
		if strings.HasSuffix(mode, "-redis") {
			continue // needs a Redis; the bench package tests the Redis store
		}
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			h, cleanup, err := modes[mode]("")
			if err != nil {
				t.Fatal(err)
			}
			defer cleanup()
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/login",
				strings.NewReader(`{"username":"demo","password":"`+demoPassword+`"}`)))
			if w.Code != http.StatusOK {
				t.Fatalf("login: %d %s", w.Code, w.Body)
			}
			cookies := w.Result().Cookies()
			if len(cookies) == 0 {
				t.Fatal("login set no cookie")
			}
			r := httptest.NewRequest(http.MethodGet, "/me", nil)
			r.AddCookie(cookies[0])
			w = httptest.NewRecorder()
			h.ServeHTTP(w, r)
			body, _ := io.ReadAll(w.Body)
			if w.Code != http.StatusOK || strings.TrimSpace(string(body)) != want {
				t.Fatalf("/me: %d %q, want 200 %q", w.Code, body, want)
			}
			if mode == "bare" {
				return
			}
			w = httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/me", nil))
			if w.Code != http.StatusUnauthorized {
				t.Fatalf("/me without a session: %d, want 401", w.Code)
			}
		})
	}
}

func TestLoginRefusesWrongPassword(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"bare", "ours-mem"} {
		h, cleanup, err := modes[mode]("")
		if err != nil {
			t.Fatal(err)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(`{"username":"demo","password":"x"}`)))
		cleanup()
		if w.Code != http.StatusUnauthorized || len(w.Result().Cookies()) != 0 {
			t.Errorf("%s: wrong password gave %d with %d cookies", mode, w.Code, len(w.Result().Cookies()))
		}
	}
}
