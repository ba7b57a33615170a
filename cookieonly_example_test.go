package session_test

import (
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/sessionauth/session"
)

// Cookie-only sessions need nothing but keys: the cookie carries the
// session, sealed, and each change comes back as a new cookie.
func ExampleConfig_cookieOnly() {
	keys, _ := session.NewKeyRing(session.GenerateKey())
	sessions, err := session.New(session.Config{Keys: keys, CookieOnly: true})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if err := sessions.Login(w, r, "42"); err != nil {
			http.Error(w, "try again", http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		s := session.FromContext(r.Context())
		err := s.Set("note", strings.Repeat("x", 5000)) // more than a cookie holds
		fmt.Fprintf(w, "user %s, too large: %v", s.UserID(), errors.Is(err, session.ErrCookieTooLarge))
	})
	app := sessions.Middleware(mux)

	w := httptest.NewRecorder()
	app.ServeHTTP(w, httptest.NewRequest("POST", "/login", nil))
	cookie := w.Result().Cookies()[0]

	r := httptest.NewRequest("GET", "/me", nil)
	r.AddCookie(cookie)
	w = httptest.NewRecorder()
	app.ServeHTTP(w, r)
	fmt.Println(w.Body.String())
	fmt.Println("Set-Cookie on an unchanged request:", w.Header().Get("Set-Cookie") != "")
	fmt.Println("LogoutAll:", sessions.LogoutAll(r.Context(), "42"))
	// Output:
	// user 42, too large: true
	// Set-Cookie on an unchanged request: false
	// LogoutAll: session: not available for cookie-only sessions: it needs a server-side store
}
