package accesstoken_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"

	"github.com/sessionauth/session"
	"github.com/sessionauth/session/accesstoken"
)

// The hybrid pattern: the browser signs in with a session cookie, mints a
// five-minute access token with POST /token, and calls the API with it.
// After logout it can no longer mint; the token it holds stays valid on
// Middleware routes until it expires, and stops at once on Strict routes.
func Example() {
	ring, _ := session.NewKeyRing(session.GenerateKey())
	sessions, err := session.New(session.Config{Keys: ring})
	if err != nil {
		log.Fatal(err)
	}
	key, _ := accesstoken.GenerateKey(accesstoken.EdDSA) // or ParsePrivateKey(pemFromYourSecrets)
	keys, _ := accesstoken.NewKeyRing(key)
	tokens, err := accesstoken.New(accesstoken.Config{
		Sessions: sessions,
		Keys:     keys,
		Issuer:   "https://app.example",
		Audience: "https://app.example/api",
	})
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		sessions.Login(w, r, "alice") // after checking the password
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		sessions.Logout(w, r)
	})
	mux.Handle("POST /token", tokens.MintHandler())
	mux.Handle("GET /.well-known/jwks.json", tokens.JWKSHandler())
	me := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s", accesstoken.FromContext(r.Context()).Subject)
	})
	mux.Handle("GET /api/me", tokens.Middleware(me))
	mux.Handle("POST /api/transfer", tokens.Strict(me))

	srv := httptest.NewTLSServer(sessions.Middleware(mux))
	defer srv.Close()
	browser := srv.Client()
	browser.Jar, _ = cookiejar.New(nil)

	browser.Post(srv.URL+"/login", "", nil)
	resp, _ := browser.Post(srv.URL+"/token", "", nil)
	var tok accesstoken.Token
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	fmt.Println("token:", tok.TokenType, tok.ExpiresIn, "s")

	api := &http.Client{Transport: srv.Client().Transport} // the token, no cookies
	call := func(method, path string) string {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		resp, err := api.Do(req)
		if err != nil {
			return err.Error()
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return resp.Status + " " + resp.Header.Get("WWW-Authenticate")
		}
		return string(body)
	}
	fmt.Println("GET /api/me:", call("GET", "/api/me"))

	browser.Post(srv.URL+"/logout", "", nil)
	resp, _ = browser.Post(srv.URL+"/token", "", nil)
	resp.Body.Close()
	fmt.Println("POST /token after logout:", resp.Status)
	fmt.Println("GET /api/me after logout:", call("GET", "/api/me"))
	fmt.Println("POST /api/transfer after logout:", call("POST", "/api/transfer"))
	// Output:
	// token: Bearer 300 s
	// GET /api/me: hello alice
	// POST /token after logout: 401 Unauthorized
	// GET /api/me after logout: hello alice
	// POST /api/transfer after logout: 401 Unauthorized Bearer error="invalid_token", error_description="the session of the access token has ended"
}

// Another service verifies our tokens with the keys our JWKSHandler
// publishes, fetched from its URL and cached.
func ExampleNewProvider_anotherService() {
	ring, _ := session.NewKeyRing(session.GenerateKey())
	sessions, _ := session.New(session.Config{Keys: ring})
	key, _ := accesstoken.GenerateKey(accesstoken.ES256)
	keys, _ := accesstoken.NewKeyRing(key)
	tokens, _ := accesstoken.New(accesstoken.Config{
		Sessions: sessions, Keys: keys, Issuer: "https://app.example", Audience: "https://orders.example",
	})
	app := http.NewServeMux()
	app.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) { sessions.Login(w, r, "bob") })
	app.Handle("POST /token", tokens.MintHandler())
	app.Handle("GET /.well-known/jwks.json", tokens.JWKSHandler())
	srv := httptest.NewTLSServer(sessions.Middleware(app))
	defer srv.Close()

	// The orders service knows only the app's JWKS URL, issuer and audience.
	orders, err := accesstoken.NewProvider(accesstoken.ProviderConfig{
		JWKSURL:    srv.URL + "/.well-known/jwks.json",
		Issuer:     "https://app.example",
		Audience:   "https://orders.example",
		Type:       "at+jwt",
		HTTPClient: srv.Client(), // trusts the test server's certificate
	})
	if err != nil {
		log.Fatal(err)
	}

	browser := srv.Client()
	browser.Jar, _ = cookiejar.New(nil)
	browser.Post(srv.URL+"/login", "", nil)
	resp, _ := browser.Post(srv.URL+"/token", "", nil)
	var tok accesstoken.Token
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()

	claims, err := orders.Verify(context.Background(), tok.AccessToken)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(claims.Subject, claims.Audience)
	// Output: bob [https://orders.example]
}

// A hosted provider (here shaped like Auth0) signs users in; the app
// verifies its tokens and exchanges one for a session of its own, which
// Logout and LogoutAll can end.
func ExampleProvider_ExchangeHandler() {
	ring, _ := session.NewKeyRing(session.GenerateKey())
	sessions, _ := session.New(session.Config{Keys: ring})
	auth0, err := accesstoken.NewProvider(accesstoken.ProviderConfig{
		JWKSURL:  "https://example.eu.auth0.com/.well-known/jwks.json",
		Issuer:   "https://example.eu.auth0.com/",
		Audience: "https://api.example.com",
		// The client IDs of our own apps at Auth0: the exchange refuses a
		// token any other client of the tenant obtained for the same API.
		AuthorizedParties: []string{"yourSpaClientID"},
	})
	if err != nil {
		log.Fatal(err)
	}
	users := map[string]string{"https://example.eu.auth0.com/ auth0|6543": "42"} // your users table
	mux := http.NewServeMux()
	mux.Handle("POST /session", auth0.ExchangeHandler(sessions, func(ctx context.Context, c *accesstoken.Claims) (string, error) {
		id, ok := users[c.Issuer+" "+c.Subject]
		if !ok {
			return "", fmt.Errorf("no account for %s", c.Subject)
		}
		return id, nil
	}))
	// The API can also take the provider's tokens directly.
	mux.Handle("GET /api/orders", auth0.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "orders of", accesstoken.FromContext(r.Context()).Subject)
	})))
	_ = http.Handler(sessions.Middleware(mux)) // http.ListenAndServe(addr, ...)
}
