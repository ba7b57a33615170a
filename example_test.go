package session_test

import (
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/sessionauth/session"
)

// Wrap a ServeMux once; FromContext works in every handler behind it.
func ExampleNew() {
	keys, err := session.ParseKeyRing(os.Getenv("SESSION_KEYS"))
	if err != nil {
		// For this example only: a random key (sessions do not survive a restart).
		keys, _ = session.NewKeyRing(session.GenerateKey())
	}
	sessions, err := session.New(session.Config{Keys: keys})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %q\n", session.FromContext(r.Context()).UserID())
	})
	handler := sessions.Middleware(mux) // pass handler to http.ListenAndServe

	w := httptest.NewRecorder()
	handler.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	fmt.Print(w.Body)
	// Output: hello ""
}

// Login always issues a new session token; the redirect that follows is
// already signed in, because the store write finished before the headers.
func ExampleManager_Login() {
	keys, _ := session.NewKeyRing(session.GenerateKey())
	sessions, _ := session.New(session.Config{Keys: keys})

	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		// ... check the password first (see package password) ...
		var opts []session.LoginOption
		if r.FormValue("remember") == "on" {
			opts = append(opts, session.RememberMe())
		}
		if err := sessions.Login(w, r, "user-42", opts...); err != nil {
			http.Error(w, "try again later", http.StatusServiceUnavailable)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if err := sessions.Logout(w, r); err != nil {
			log.Printf("logout: %v", err) // the cookie is expired anyway
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	handler := sessions.Middleware(mux)

	w := httptest.NewRecorder()
	handler.ServeHTTP(w, httptest.NewRequest("POST", "/login", nil))
	c := w.Result().Cookies()[0]
	fmt.Println(w.Code, c.Name, c.HttpOnly, c.Secure, c.SameSite == http.SameSiteLaxMode)
	// Output: 303 __Host-sid true true true
}

// RequireAuth answers 401 for anonymous requests and 503 when the store is
// down, so clients never mistake an outage for a logout.
func ExampleManager_RequireAuth() {
	keys, _ := session.NewKeyRing(session.GenerateKey())
	sessions, _ := session.New(session.Config{Keys: keys})

	mux := http.NewServeMux()
	mux.Handle("GET /me", sessions.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"id": session.FromContext(r.Context()).UserID()})
	})))
	handler := sessions.Middleware(mux)

	w := httptest.NewRecorder()
	handler.ServeHTTP(w, httptest.NewRequest("GET", "/me", nil))
	fmt.Print(w.Code, " ", w.Body)
	// Output: 401 {"error":"not authenticated"}
}

// Put and Value store typed values as JSON, with no registration.
func ExampleValue() {
	keys, _ := session.NewKeyRing(session.GenerateKey())
	sessions, _ := session.New(session.Config{Keys: keys})
	type cart struct{ Items []string }
	handler := sessions.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.FromContext(r.Context())
		session.Put(s, "cart", cart{Items: []string{"tea"}})
		c, ok, err := session.Value[cart](s, "cart")
		fmt.Println(c.Items, ok, err)
	}))
	handler.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	// Output: [tea] true <nil>
}
