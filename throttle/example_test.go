package throttle_test

import (
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
	"github.com/sessionauth/session/password"
	"github.com/sessionauth/session/throttle"
)

// A sign-in handler: the guard decides before the password is checked, and
// hears the outcome after.
func ExampleGuard() {
	guard, err := throttle.NewGuard(throttle.GuardConfig{
		DeviceKeys: [][]byte{[]byte("at least 32 bytes of secret, such as a session key")},
	})
	if err != nil {
		log.Fatal(err)
	}
	hash, _ := password.Hash("correct horse battery staple")
	users := map[string]string{"alice": hash} // username → password hash

	login := func(w http.ResponseWriter, r *http.Request) {
		name, pw := strings.ToLower(r.PostFormValue("username")), r.PostFormValue("password")
		a, err := guard.CheckLogin(r, name)
		if err != nil { // throttle.ErrBusy, or the Limiter is down
			w.Header().Set("Retry-After", "1")
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		defer a.Done()
		if !a.Allowed() {
			w.Header().Set("Retry-After", strconv.Itoa(int(a.RetryAfter().Seconds())))
			http.Error(w, "too many attempts", http.StatusTooManyRequests)
			return
		}
		stored, found := users[name]
		match := false
		if found {
			match, _, _ = password.Verify(pw, stored)
		} else {
			password.DummyVerify(pw)
		}
		if !match {
			guard.LoginFailed(a)
			http.Error(w, "invalid credentials", http.StatusUnauthorized)
			return
		}
		if err := guard.LoginSucceeded(w, a); err != nil {
			log.Print(err) // the sign-in stands; the count was not given back
		}
		// ... sign the user in (session.Manager.Login) ...
		fmt.Fprintln(w, "welcome")
	}

	try := func(pw string) {
		form := url.Values{"username": {"alice"}, "password": {pw}}
		r := httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		login(w, r)
		if ra := w.Header().Get("Retry-After"); ra != "" {
			fmt.Println(w.Code, "Retry-After:", ra)
		} else {
			fmt.Println(w.Code)
		}
	}
	for range 10 {
		try("wrong")
	}
	try("correct horse battery staple") // the account's budget is spent
	// Output:
	// 401
	// 401
	// 401
	// 401
	// 401
	// 401
	// 401
	// 401
	// 401
	// 401
	// 429 Retry-After: 60
}

// Counts shared by every instance of the application, and kept across
// restarts, in Redis (single server, Sentinel or Cluster).
func ExampleNewRedis() {
	client := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{"localhost:6379"}})
	guard, err := throttle.NewGuard(throttle.GuardConfig{
		Limiter:    throttle.NewRedis(client, throttle.RedisConfig{Prefix: "myapp:throttle:"}),
		DeviceKeys: [][]byte{[]byte("at least 32 bytes of secret, such as a session key")},
	})
	if err != nil {
		log.Fatal(err)
	}
	_ = guard
}

// Behind a reverse proxy: the client is the right-most address in the
// proxy's header that is not a trusted proxy; what the client wrote to the
// left of it does not count.
func ExampleGuard_ClientAddr() {
	guard, _ := throttle.NewGuard(throttle.GuardConfig{
		DeviceKeys:     [][]byte{[]byte("at least 32 bytes of secret, such as a session key")},
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
	})
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.0.0.7:51000"                                      // the proxy
	r.Header.Set("X-Forwarded-For", "192.0.2.66, 203.0.113.9, 10.0.0.3") // spoofed, client, inner proxy
	fmt.Println(guard.ClientAddr(r))

	r.RemoteAddr = "198.51.100.4:51000" // not a proxy: the header is ignored
	fmt.Println(guard.ClientAddr(r))
	// Output:
	// 203.0.113.9
	// 198.51.100.4
}

// A registration handler: throttled per address, and hashing in a share of
// the slots that leaves the rest to sign-ins.
func ExampleGuard_CheckRegister() {
	guard, _ := throttle.NewGuard(throttle.GuardConfig{
		DeviceKeys: [][]byte{[]byte("at least 32 bytes of secret, such as a session key")},
	})
	register := func(w http.ResponseWriter, r *http.Request) {
		a, err := guard.CheckRegister(r)
		switch {
		case errors.Is(err, throttle.ErrBusy), err != nil:
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		case !a.Allowed():
			w.Header().Set("Retry-After", strconv.Itoa(int(a.RetryAfter().Seconds())))
			http.Error(w, "too many registrations", http.StatusTooManyRequests)
			return
		}
		defer a.Done()
		// ... validate (password.Policy), hash (password.Hash), create the user ...
		w.WriteHeader(http.StatusCreated)
	}
	codes := map[int]int{}
	for range 1200 {
		w := httptest.NewRecorder()
		register(w, httptest.NewRequest("POST", "/register", nil))
		codes[w.Code]++
	}
	fmt.Println(codes)
	// Output: map[201:10 429:1190]
}
