package session

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// assuranceHarness is a harness whose app has the routes the assurance
// tests need: /login?user=&amr=a,b[&remember=1], /stepup?amr=a,b, /info
// (the session's proof as JSON), /set?k=&v=, /recent (a fresh proof within
// five minutes) and /recent-key (the same, by a passkey: hwk or swk).
//
// In mode "redis" the store is a RedisStore on a redis-server of its own,
// returned as the second result; the clock starts at the real time, which
// Redis's own expiry follows.
func assuranceHarness(t *testing.T, mode string) (*harness, Store) {
	t.Helper()
	var h *harness
	var store Store
	mod := func(c *Config) { c.StepUpURL = "/confirm?from=app" }
	switch mode {
	case "memory":
		h = newHarness(t, mod)
	case "redis":
		rs := newRedisTestStore(t)
		h = newHarness(t, func(c *Config) { mod(c); c.Store = rs })
		h.clock.t = time.Now().Truncate(time.Second)
		rs.now = h.clock.Now
		store = rs
	case "cookie-only":
		h = newCookieOnlyHarness(t, mod)
	default:
		t.Fatalf("unknown mode %q", mode)
	}
	m := h.m
	mux := http.NewServeMux()
	methods := func(r *http.Request) []string {
		if v := r.URL.Query().Get("amr"); v != "" {
			return strings.Split(v, ",")
		}
		return nil
	}
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		var opts []LoginOption
		if amr := methods(r); amr != nil {
			opts = append(opts, ProvedWith(amr...))
		}
		if r.URL.Query().Get("remember") != "" {
			opts = append(opts, RememberMe())
		}
		if err := m.Login(w, r, r.URL.Query().Get("user"), opts...); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
	})
	mux.HandleFunc("/stepup", func(w http.ResponseWriter, r *http.Request) {
		if err := m.StepUp(w, r, methods(r)...); err != nil {
			code := http.StatusInternalServerError
			if errors.Is(err, ErrNotAuthenticated) {
				code = http.StatusUnauthorized
			}
			http.Error(w, err.Error(), code)
		}
	})
	mux.HandleFunc("/whoami", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(FromContext(r.Context()).UserID()))
	})
	mux.HandleFunc("/set", func(w http.ResponseWriter, r *http.Request) {
		FromContext(r.Context()).Set(r.URL.Query().Get("k"), r.URL.Query().Get("v"))
	})
	mux.HandleFunc("/info", func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		json.NewEncoder(w).Encode(proofInfo{
			User: s.UserID(), ID: s.ID(), AuthTime: s.AuthTime(), AMR: s.AuthMethods(),
			Created: s.header.created, RememberMe: s.header.persistent, Cart: s.Get("cart"),
		})
	})
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("passed")) })
	mux.Handle("/recent", m.RequireRecentAuth(5*time.Minute)(ok))
	mux.Handle("/recent-key", m.RequireRecentAuth(5*time.Minute, "hwk", "swk")(ok))
	h.app = m.Middleware(mux)
	return h, store
}

type proofInfo struct {
	User       string
	ID         string
	AuthTime   time.Time
	AMR        []string
	Created    time.Time
	RememberMe bool
	Cart       string
}

func (h *harness) info(c string) proofInfo {
	h.t.Helper()
	var pi proofInfo
	if err := json.Unmarshal(h.do("GET", "/info", c).Body.Bytes(), &pi); err != nil {
		h.t.Fatal(err)
	}
	return pi
}

// loginWith signs user in with the proof methods amr ("" for none) and
// returns the cookie.
func (h *harness) loginWith(user, amr string) string {
	h.t.Helper()
	w := h.do("POST", "/login?user="+user+"&amr="+amr)
	if w.Code != 200 {
		h.t.Fatalf("login: %d %s", w.Code, w.Body)
	}
	return h.cookieOf(w)
}

var assuranceModes = []string{"memory", "redis", "cookie-only"}

func TestLoginRecordsTheProofOfIdentity(t *testing.T) {
	t.Parallel()
	for _, mode := range assuranceModes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			h, _ := assuranceHarness(t, mode)
			loginAt := h.clock.Now()
			c := h.loginWith("alice", "")
			h.clock.Advance(time.Minute)
			if got := h.info(c); !got.AuthTime.Equal(loginAt.Truncate(time.Millisecond)) || got.AMR != nil {
				t.Fatalf("login without ProvedWith: auth time %v, methods %q; want %v and none", got.AuthTime, got.AMR, loginAt)
			}
			c = h.loginWith("alice", "pwd,otp")
			if got := h.info(c); !got.AuthTime.Equal(h.clock.Now()) || !slices.Equal(got.AMR, []string{"pwd", "otp"}) {
				t.Fatalf("login with ProvedWith(pwd, otp): auth time %v, methods %q", got.AuthTime, got.AMR)
			}
			if got := h.info(""); !got.AuthTime.IsZero() || got.AMR != nil {
				t.Fatalf("anonymous request: auth time %v, methods %q", got.AuthTime, got.AMR)
			}
		})
	}
}

func TestProvedWithRefusesWhatIsNotAnAMRList(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 33)
	for _, tc := range []struct {
		name    string
		methods []string
		ok      bool
	}{
		{"one", []string{"pwd"}, true},
		{"eight", []string{"a", "b", "c", "d", "e", "f", "g", "h"}, true},
		{"every allowed byte", []string{"az09_-", strings.Repeat("z", 32)}, true},
		{"none", nil, false},
		{"nine", []string{"a", "b", "c", "d", "e", "f", "g", "h", "i"}, false},
		{"empty value", []string{"pwd", ""}, false},
		{"too long", []string{long}, false},
		{"space", []string{"pwd otp"}, false},
		{"upper case", []string{"PWD"}, false},
		{"non-ASCII", []string{"pwé"}, false},
		{"NUL", []string{"p\x00"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, nil)
			var loginErr, stepErr error
			h.app = h.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				loginErr = h.m.Login(w, r, "alice", ProvedWith(tc.methods...))
				stepErr = h.m.StepUp(w, r, tc.methods...)
			}))
			w := h.do("POST", "/")
			if tc.ok {
				if loginErr != nil || stepErr != nil {
					t.Fatalf("Login: %v, StepUp: %v", loginErr, stepErr)
				}
				return
			}
			if !errors.Is(loginErr, ErrInvalidAuthMethod) || !errors.Is(stepErr, ErrInvalidAuthMethod) {
				t.Fatalf("Login: %v, StepUp: %v; want ErrInvalidAuthMethod", loginErr, stepErr)
			}
			noSessionCookie(t, h, w)
			if n := h.store.calls(); n != 0 {
				t.Fatalf("%d store calls for a refused login", n)
			}
		})
	}
}

// recentAuthAnswer checks a refusal of RequireRecentAuth to an API
// request: 401, RFC 9470's challenge, the JSON reason, no session made.
func recentAuthAnswer(t *testing.T, h *harness, w *httptest.ResponseRecorder, reason string, amr []string) {
	t.Helper()
	if w.Code != http.StatusUnauthorized {
		t.Fatalf("status %d (%s), want 401", w.Code, w.Body)
	}
	// A request with no session sent no credentials: RFC 6750 (3.1) wants
	// no error code in the challenge then, and the body agrees with it, as
	// accesstoken's answers do.
	challenge, wantErr := `Bearer error="insufficient_user_authentication", max_age=300`, "insufficient_user_authentication"
	if reason == "signed_out" {
		challenge, wantErr = "Bearer", "unauthorized"
	}
	if got := w.Header().Get("WWW-Authenticate"); got != challenge {
		t.Fatalf("WWW-Authenticate: %q, want %q", got, challenge)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type: %q", ct)
	}
	var body struct {
		Error  string   `json:"error"`
		Reason string   `json:"reason"`
		MaxAge int      `json:"max_age"`
		AMR    []string `json:"amr"`
	}
	dec := json.NewDecoder(w.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		t.Fatal(err)
	}
	if body.Error != wantErr || body.Reason != reason || body.MaxAge != 300 || !slices.Equal(body.AMR, amr) {
		t.Fatalf("body %+v, want reason %q, max_age 300, amr %q", body, reason, amr)
	}
	noSessionCookie(t, h, w)
}

func TestRequireRecentAuthOnEveryStore(t *testing.T) {
	t.Parallel()
	keys := []string{"hwk", "swk"}
	for _, mode := range assuranceModes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			h, _ := assuranceHarness(t, mode)
			for _, tc := range []struct {
				name    string
				amr     string        // the login's proof
				wait    time.Duration // since the login
				path    string
				passes  bool
				reason  string
				wantAMR []string
			}{
				{"fresh password passes", "pwd", 0, "/recent", true, "", nil},
				{"login without methods is a fresh proof", "", 4 * time.Minute, "/recent", true, "", nil},
				{"exactly max age passes", "pwd", 5 * time.Minute, "/recent", true, "", nil},
				{"stale proof", "pwd", 5*time.Minute + time.Millisecond, "/recent", false, "stale", nil},
				{"stale passkey", "hwk", 6 * time.Minute, "/recent-key", false, "stale", keys},
				{"fresh passkey passes", "swk", time.Minute, "/recent-key", true, "", nil},
				{"one of several methods passes", "pwd,hwk", 0, "/recent-key", true, "", nil},
				{"wrong method", "pwd", 0, "/recent-key", false, "method", keys},
				{"no method recorded", "", 0, "/recent-key", false, "method", keys},
				{"signed out", "-", 0, "/recent", false, "signed_out", nil},
			} {
				var c string
				if tc.amr != "-" {
					c = h.loginWith("alice", tc.amr)
				}
				h.clock.Advance(tc.wait)
				w := h.do("GET", tc.path, c)
				if tc.passes {
					if w.Code != 200 || w.Body.String() != "passed" {
						t.Fatalf("%s: %d %s", tc.name, w.Code, w.Body)
					}
					continue
				}
				t.Run(tc.name, func(t *testing.T) { recentAuthAnswer(t, h, w, tc.reason, tc.wantAMR) })
				if c != "" && h.whoami(c) != "alice" {
					t.Fatalf("%s: the refusal ended the session", tc.name)
				}
			}
		})
	}
}

func TestRequireRecentAuthSendsPagesToTheStepUpURL(t *testing.T) {
	t.Parallel()
	for _, mode := range assuranceModes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			h, _ := assuranceHarness(t, mode)
			c := h.loginWith("alice", "pwd")
			h.clock.Advance(10 * time.Minute)
			for _, tc := range []struct{ target, ret string }{
				{"/recent?x=1&y=%2F", "/recent?x=1&y=%2F"},
				{"/recent-key", "/recent-key"},
			} {
				r := httptest.NewRequest("POST", tc.target, nil)
				r.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
				r.AddCookie(&http.Cookie{Name: h.m.cookie.Name, Value: c})
				w := httptest.NewRecorder()
				h.app.ServeHTTP(w, r)
				if w.Code != http.StatusSeeOther {
					t.Fatalf("%s: status %d, want 303", tc.target, w.Code)
				}
				u, err := url.Parse(w.Header().Get("Location"))
				if err != nil || u.Path != "/confirm" || u.Query().Get("from") != "app" || u.Query().Get("return") != tc.ret {
					t.Fatalf("%s: Location %q", tc.target, w.Header().Get("Location"))
				}
				noSessionCookie(t, h, w)
			}
		})
	}
}

func TestStepUpRedirectReturnIsAlwaysALocalPath(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.StepUpURL = "/confirm" })
	for _, tc := range []struct{ path, want string }{
		{"/a/b", "/a/b"},
		{"//evil.example/x", "/"},
		{"/\\evil.example", "/%5Cevil.example"}, // escaped: a path of this site
		{"/a\\b", "/a%5Cb"},
		{"", "/"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.URL = &url.URL{Path: tc.path}
		got, _ := url.Parse(h.m.stepUpRedirect(r))
		if ret := got.Query().Get("return"); ret != tc.want {
			t.Errorf("path %q: return=%q, want %q", tc.path, ret, tc.want)
		}
	}
}

func TestStepUpURLMustBeALocalPath(t *testing.T) {
	t.Parallel()
	ring, _ := NewKeyRing(testKeyA)
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"", true},
		{"/confirm", true},
		{"/confirm?next=1", true},
		{"https://evil.example/confirm", false},
		{"//evil.example/confirm", false},
		{"confirm", false},
		{"/confirm#x", false},
		{"/\\evil.example", false},
	} {
		_, err := New(Config{Keys: ring, StepUpURL: tc.url})
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrInvalidConfig)) {
			t.Errorf("StepUpURL %q: %v", tc.url, err)
		}
	}
}

func TestRequireRecentAuthPanicsOnProgrammingErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	for _, tc := range []struct {
		name    string
		maxAge  time.Duration
		methods []string
	}{
		{"no max age", 0, nil},
		{"under a second", 999 * time.Millisecond, nil},
		{"bad method", time.Minute, []string{"Pass word"}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", tc.name)
				}
			}()
			h.m.RequireRecentAuth(tc.maxAge, tc.methods...)
		}()
	}
}

func TestRequireRecentAuthAnswers503WhenTheStoreIsDown(t *testing.T) {
	t.Parallel()
	h, _ := assuranceHarness(t, "memory")
	c := h.loginWith("alice", "pwd")
	h.store.fail.Store(true)
	if w := h.do("GET", "/recent", c); w.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d during an outage, want 503", w.Code)
	}
}

func TestStepUpRecordsAFreshProofOnTheSameSession(t *testing.T) {
	t.Parallel()
	for _, mode := range assuranceModes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			h, _ := assuranceHarness(t, mode)
			c := h.loginWith("alice", "pwd")
			w := h.do("POST", "/login?user=alice&amr=swk&remember=1", c)
			c = h.cookieOf(w)
			if w := h.do("POST", "/set?k=cart&v=42", c); mode == "cookie-only" {
				c = h.cookieOf(w) // resealed
			}
			before := h.info(c)
			h.clock.Advance(10 * time.Minute)
			recentAuthAnswer(t, h, h.do("GET", "/recent-key", c), "stale", []string{"hwk", "swk"})

			w = h.do("POST", "/stepup?amr=hwk", c)
			if w.Code != 200 {
				t.Fatalf("step-up: %d %s", w.Code, w.Body)
			}
			stepped := h.cookieOf(w)
			after := h.info(stepped)
			if after.ID == before.ID || after.ID == "" {
				t.Fatalf("the session ID did not change: %q → %q", before.ID, after.ID)
			}
			if after.User != "alice" || after.Cart != "42" || !after.RememberMe || !after.Created.Equal(before.Created) {
				t.Fatalf("step-up changed the session: before %+v, after %+v", before, after)
			}
			if !after.AuthTime.Equal(h.clock.Now()) || !slices.Equal(after.AMR, []string{"hwk"}) {
				t.Fatalf("proof after step-up: %v %q, want %v [hwk]", after.AuthTime, after.AMR, h.clock.Now())
			}
			if c := sessionCookie(t, w, h.m.cookie.Name); c.MaxAge <= 0 {
				t.Fatalf("the remember-me cookie lost its Max-Age: %s", c)
			}
			if got := h.do("GET", "/recent-key", stepped); got.Code != 200 {
				t.Fatalf("after step-up: %d %s", got.Code, got.Body)
			}
			if mode == "cookie-only" {
				// Nothing to revoke: the old cookie stays valid, but it
				// carries the old proof, never the new one.
				recentAuthAnswer(t, h, h.do("GET", "/recent-key", c), "stale", []string{"hwk", "swk"})
				return
			}
			if got := h.whoami(c); got != "" {
				t.Fatalf("the token from before the step-up still signs in as %q", got)
			}
			list, err := h.m.ListSessions(context.Background(), "alice")
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 1 || list[0].ID != after.ID || !list[0].AuthTime.Equal(after.AuthTime.Truncate(time.Millisecond)) || !slices.Equal(list[0].AuthMethods, []string{"hwk"}) {
				t.Fatalf("ListSessions after step-up: %+v, want the one stepped-up session", list)
			}
		})
	}
}

func TestStepUpOldTokenIsDeadOnEveryInstance(t *testing.T) {
	t.Parallel()
	// A second Manager over the same Redis has never seen the old token
	// die: the store alone must refuse it.
	h, rs := assuranceHarness(t, "redis")
	c := h.loginWith("alice", "pwd")
	other, err := New(Config{Store: rs, Keys: mustRing(t)})
	if err != nil {
		t.Fatal(err)
	}
	other.now = h.clock.Now
	read := other.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(FromContext(r.Context()).UserID()))
	}))
	ask := func(c string) string {
		r := httptest.NewRequest("GET", "/", nil)
		r.AddCookie(&http.Cookie{Name: other.cookie.Name, Value: c})
		w := httptest.NewRecorder()
		read.ServeHTTP(w, r)
		return w.Body.String()
	}
	if got := ask(c); got != "alice" {
		t.Fatalf("before step-up the other instance sees %q", got)
	}
	stepped := h.cookieOf(h.do("POST", "/stepup?amr=swk", c))
	if got := ask(c); got != "" {
		t.Fatalf("the old token still signs in on another instance as %q", got)
	}
	if got := ask(stepped); got != "alice" {
		t.Fatalf("the stepped-up token reads as %q on another instance", got)
	}
}

func mustRing(t *testing.T) *KeyRing {
	t.Helper()
	ring, err := NewKeyRing(testKeyA)
	if err != nil {
		t.Fatal(err)
	}
	return ring
}

func TestStepUpWithoutASessionIsRefused(t *testing.T) {
	t.Parallel()
	for _, mode := range assuranceModes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			h, _ := assuranceHarness(t, mode)
			// No cookie at all, and an anonymous session with values.
			anon := h.cookieOf(h.do("POST", "/set?k=cart&v=1"))
			for _, c := range []string{"", anon} {
				w := h.do("POST", "/stepup?amr=hwk", c)
				if w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), ErrNotAuthenticated.Error()) {
					t.Fatalf("step-up without a signed-in session: %d %s", w.Code, w.Body)
				}
				noSessionCookie(t, h, w)
			}
			var err error
			h.app = h.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				err = h.m.StepUp(w, r, "hwk")
			}))
			h.do("POST", "/")
			if !errors.Is(err, ErrNotAuthenticated) {
				t.Fatalf("StepUp: %v, want ErrNotAuthenticated", err)
			}
		})
	}
}

func TestStepUpOutsideMiddlewareAndAfterHeaders(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"memory", "cookie-only"} {
		h, _ := assuranceHarness(t, mode)
		if err := h.m.StepUp(httptest.NewRecorder(), httptest.NewRequest("POST", "/", nil), "pwd"); !errors.Is(err, ErrNoMiddleware) {
			t.Fatalf("%s: StepUp outside Middleware: %v", mode, err)
		}
		c := h.loginWith("alice", "pwd")
		var err error
		h.app = h.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(200)
			err = h.m.StepUp(w, r, "hwk")
		}))
		h.do("POST", "/", c)
		if !errors.Is(err, ErrHeadersWritten) {
			t.Fatalf("%s: StepUp after the headers: %v", mode, err)
		}
	}
}

func TestStepUpTooLargeForTheCookieChangesNothing(t *testing.T) {
	t.Parallel()
	h, _ := assuranceHarness(t, "cookie-only")
	c := h.loginWith("alice", "")
	room := 0
	for h.m.testSealer().checkSet("alice", "", nil, "k", strings.Repeat("v", room+1)) == nil {
		room++
	}
	c = h.cookieOf(h.do("POST", "/set?k=k&v="+strings.Repeat("v", room), c))
	w := h.do("POST", "/stepup?amr=hwk,swk,pwd", c)
	if w.Code != 500 || !strings.Contains(w.Body.String(), ErrCookieTooLarge.Error()) {
		t.Fatalf("step-up that does not fit: %d %s", w.Code, w.Body)
	}
	noSessionCookie(t, h, w)
}

func TestVersion1RecordsReadAsProvedAtLogin(t *testing.T) {
	t.Parallel()
	created := time.UnixMilli(1767320000000)
	h := recordHeader{persistent: true, created: created, idle: time.Hour, lifetime: 24 * time.Hour}
	v1 := encodeRecord(h, map[string]string{"a": "b"}, nil)
	if v1[0] != 1 {
		t.Fatalf("a record without a proof is written as version %d, want 1", v1[0])
	}
	got, raw, err := decodeHeader(v1)
	if err != nil || !got.authTime.Equal(created) || got.amr != "" {
		t.Fatalf("version 1: %+v %v", got, err)
	}
	if vals, err := decodeValues(raw); err != nil || vals["a"] != "b" {
		t.Fatalf("version 1 values: %v %v", vals, err)
	}
	h.authTime, h.amr = created.Add(90*time.Second), "hwk"
	v2 := encodeRecord(h, nil, nil)
	if v2[0] != 2 {
		t.Fatalf("a record with a proof is written as version %d, want 2", v2[0])
	}
	if got, _, err := decodeHeader(v2); err != nil || got != h {
		t.Fatalf("version 2: %+v %v, want %+v", got, err, h)
	}
	for _, bad := range []string{"HWK", "a  b", " a", "a ", strings.Repeat("a", 33), "a b c d e f g h i"} {
		b := []byte{2, 0}
		b = append(b, v2[2:len(v2)-5]...) // up to the methods' length
		b = append(b, byte(len(bad)))
		b = append(b, bad...)
		b = append(b, 0) // no values
		if _, _, err := decodeHeader(b); err == nil {
			t.Errorf("methods %q decode", bad)
		}
	}
}

func TestAuthMethodsReturnsACopy(t *testing.T) {
	t.Parallel()
	h, _ := assuranceHarness(t, "memory")
	c := h.loginWith("alice", "pwd,hwk")
	h.app = h.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		s.AuthMethods()[0] = "xxx"
		if got := s.AuthMethods(); !slices.Equal(got, []string{"pwd", "hwk"}) {
			t.Errorf("AuthMethods after changing a returned slice: %q", got)
		}
	}))
	h.do("GET", "/", c)
}

func TestSessionInfoJSONCarriesTheProof(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 6, 22, 0, 0, 0, time.UTC)
	b, err := json.Marshal(SessionInfo{AuthTime: at, AuthMethods: []string{"hwk"}})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	json.Unmarshal(b, &got)
	if got["auth_time"] != "2026-12-06T22:00:00Z" || !slices.Equal(toStrings(got["amr"]), []string{"hwk"}) {
		t.Fatalf("SessionInfo JSON: %s", b)
	}
}

func toStrings(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}
