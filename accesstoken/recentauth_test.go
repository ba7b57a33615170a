package accesstoken

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sessionauth/session"
)

// recentEnv is newEnv on the clock of the synctest bubble it runs in, with
// routes to sign in with methods (POST /login?user=U&amr=M&amr=N), step up
// (POST /stepup?amr=M) and three RequireRecentAuth routes: GET /recent
// (5 minutes), GET /key (a key, any age), GET /recent-key (both).
func recentEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, func(c *Config, _ *session.Config) { c.now = nil })
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		var opts []session.LoginOption
		if q.Has("amr") {
			opts = append(opts, session.ProvedWith(q["amr"]...))
		}
		if err := e.sessions.Login(w, r, q.Get("user"), opts...); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
	})
	mux.HandleFunc("POST /stepup", func(w http.ResponseWriter, r *http.Request) {
		if err := e.sessions.StepUp(w, r, r.URL.Query()["amr"]...); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
	})
	mux.Handle("/token", e.issuer.MintHandler())
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(FromContext(r.Context()).Subject))
	})
	mux.Handle("GET /recent", e.issuer.RequireRecentAuth(5*time.Minute)(api))
	mux.Handle("GET /key", e.issuer.RequireRecentAuth(0, "hwk", "swk")(api))
	mux.Handle("GET /recent-key", e.issuer.RequireRecentAuth(5*time.Minute, "hwk")(api))
	mux.Handle("GET /strict-recent", e.issuer.Strict(e.issuer.RequireRecentAuth(5*time.Minute)(api)))
	e.handler = e.sessions.Middleware(mux)
	return e
}

// cookieOf returns the session cookie w set.
func cookieOf(t *testing.T, w interface{ Result() *http.Response }) *http.Cookie {
	t.Helper()
	for _, c := range w.Result().Cookies() {
		if c.Value != "" {
			return c
		}
	}
	t.Fatal("no session cookie set")
	return nil
}

// stepUpRefusal checks RFC 9470's answer: 401, the challenge with
// error="insufficient_user_authentication", the description and max_age
// wanted, and a JSON body that agrees with it.
func stepUpRefusal(t *testing.T, w interface {
	Result() *http.Response
}, desc string, maxAge int64, amr []string) {
	t.Helper()
	res := w.Result()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", res.StatusCode)
	}
	want := `Bearer error="insufficient_user_authentication", error_description="` + desc + `"`
	if maxAge > 0 {
		want += ", max_age=" + strconvI(maxAge)
	}
	if got := res.Header.Get("WWW-Authenticate"); got != want {
		t.Fatalf("WWW-Authenticate %q, want %q", got, want)
	}
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Fatal("refusal cacheable")
	}
	var body struct {
		Error       string   `json:"error"`
		Description string   `json:"error_description"`
		MaxAge      int64    `json:"max_age"`
		AMR         []string `json:"amr"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if body.Error != challengeError(want) || body.Description != desc || body.MaxAge != maxAge || !slices.Equal(body.AMR, amr) {
		t.Fatalf("body %+v disagrees with the challenge %q / amr %v", body, want, amr)
	}
}

func strconvI(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestMintCarriesAuthTimeAndMethods(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e := recentEnv(t)
		signedIn := time.Now()
		cookie := cookieOf(t, e.do("POST", "/login?user=alice&amr=pwd&amr=otp", nil))
		time.Sleep(time.Minute)
		c, err := e.issuer.Verify(context.Background(), e.mint(cookie))
		if err != nil {
			t.Fatal(err)
		}
		if !c.AuthTime.Equal(signedIn.Truncate(time.Second)) || !slices.Equal(c.AuthMethods, []string{"pwd", "otp"}) {
			t.Fatalf("auth_time %v amr %v, want %v [pwd otp]", c.AuthTime, c.AuthMethods, signedIn)
		}
		// A step-up shows in the next token.
		time.Sleep(time.Minute)
		steppedAt := time.Now()
		cookie = cookieOf(t, e.do("POST", "/stepup?amr=hwk", cookie))
		c, err = e.issuer.Verify(context.Background(), e.mint(cookie))
		if err != nil {
			t.Fatal(err)
		}
		if !c.AuthTime.Equal(steppedAt.Truncate(time.Second)) || !slices.Equal(c.AuthMethods, []string{"hwk"}) {
			t.Fatalf("after StepUp: auth_time %v amr %v", c.AuthTime, c.AuthMethods)
		}
	})
}

func TestMintWithoutRecordedMethodsHasNoAMR(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	tok := e.mint(e.login("alice"))
	payload, _ := strictB64.DecodeString(strings.Split(tok, ".")[1])
	var m map[string]any
	json.Unmarshal(payload, &m)
	if _, ok := m["amr"]; ok {
		t.Fatalf("amr present without ProvedWith: %s", payload)
	}
	if _, ok := m["auth_time"].(float64); !ok {
		t.Fatalf("no numeric auth_time: %s", payload)
	}
}

// TestRequireRecentAuthRefusesAStaleProof: a token minted now from a
// session whose last proof is older than maxAge gets the step-up
// challenge; after StepUp, the next token passes.
func TestRequireRecentAuthRefusesAStaleProof(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e := recentEnv(t)
		cookie := cookieOf(t, e.do("POST", "/login?user=alice&amr=pwd", nil))
		if w := e.do("GET", "/recent", nil, bearer(e.mint(cookie))...); w.Code != http.StatusOK {
			t.Fatalf("fresh proof: %d %s", w.Code, w.Body)
		}
		time.Sleep(5*time.Minute + time.Second)
		tok := e.mint(cookie) // a new token, but the proof is still the login's
		stepUpRefusal(t, e.do("GET", "/recent", nil, bearer(tok)...), descStale, 300, nil)
		stepUpRefusal(t, e.do("GET", "/strict-recent", nil, bearer(tok)...), descStale, 300, nil)
		// Exactly at maxAge the proof still counts (as in the root).
		cookie = cookieOf(t, e.do("POST", "/stepup?amr=pwd", cookie))
		tok = e.mint(cookie)
		time.Sleep(5 * time.Minute)
		if w := e.do("GET", "/recent", nil, bearer(tok)...); w.Code != http.StatusOK {
			t.Fatalf("after StepUp: %d %s", w.Code, w.Body)
		}
		if w := e.do("GET", "/strict-recent", nil, bearer(tok)...); w.Code != http.StatusOK {
			t.Fatalf("Strict after StepUp: %d %s", w.Code, w.Body)
		}
		time.Sleep(time.Second)
		stepUpRefusal(t, e.do("GET", "/recent", nil, bearer(tok)...), descStale, 300, nil)
	})
}

// TestRequireRecentAuthRefusesAnotherMethod: a password proof does not
// pass a route that wants a key, however fresh; a step-up with one does.
func TestRequireRecentAuthRefusesAnotherMethod(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e := recentEnv(t)
		cookie := cookieOf(t, e.do("POST", "/login?user=alice&amr=pwd&amr=otp", nil))
		tok := e.mint(cookie)
		stepUpRefusal(t, e.do("GET", "/key", nil, bearer(tok)...), descMethod, 0, []string{"hwk", "swk"})
		stepUpRefusal(t, e.do("GET", "/recent-key", nil, bearer(tok)...), descMethod, 300, []string{"hwk"})
		if w := e.do("GET", "/recent", nil, bearer(tok)...); w.Code != http.StatusOK {
			t.Fatalf("control, age only: %d", w.Code)
		}
		// No methods recorded at all is not a key either.
		plain := e.mint(cookieOf(t, e.do("POST", "/login?user=bob", nil)))
		stepUpRefusal(t, e.do("GET", "/key", nil, bearer(plain)...), descMethod, 0, []string{"hwk", "swk"})
		cookie = cookieOf(t, e.do("POST", "/stepup?amr=swk", cookie))
		tok = e.mint(cookie)
		if w := e.do("GET", "/key", nil, bearer(tok)...); w.Code != http.StatusOK {
			t.Fatalf("after a passkey step-up: %d %s", w.Code, w.Body)
		}
		stepUpRefusal(t, e.do("GET", "/recent-key", nil, bearer(tok)...), descMethod, 300, []string{"hwk"})
		time.Sleep(20 * time.Minute) // no age limit on /key; the token needs a fresh mint
		if w := e.do("GET", "/key", nil, bearer(e.mint(cookie))...); w.Code != http.StatusOK {
			t.Fatalf("20 minutes later, methods only: %d %s", w.Code, w.Body)
		}
	})
}

// TestRequireRecentAuthRefusesTokenWithoutAuthTime: a valid token of ours
// without auth_time or amr (minted before they existed) is asked to step up.
func TestRequireRecentAuthRefusesTokenWithoutAuthTime(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e := recentEnv(t)
		old, err := e.issuer.mint(mintedClaims{Sub: "alice", Sid: "0123456789abcdef"})
		if err != nil {
			t.Fatal(err)
		}
		stepUpRefusal(t, e.do("GET", "/recent", nil, bearer(old.AccessToken)...), descNoAuthTime, 300, nil)
		stepUpRefusal(t, e.do("GET", "/key", nil, bearer(old.AccessToken)...), descMethod, 0, []string{"hwk", "swk"})
		if c, err := e.issuer.Verify(context.Background(), old.AccessToken); err != nil || !c.AuthTime.IsZero() || c.AuthMethods != nil {
			t.Fatalf("Verify: %+v %v", c, err)
		}
	})
}

// TestRequireRecentAuthKeepsOtherRefusals: no token, a bad token and an
// expired one are answered as by Middleware, never with a step-up
// challenge (which would tell the client to re-authenticate for nothing).
func TestRequireRecentAuthKeepsOtherRefusals(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e := recentEnv(t)
		tok := e.mint(cookieOf(t, e.do("POST", "/login?user=alice&amr=hwk", nil)))
		for _, tc := range []struct {
			name      string
			headers   []string
			code      int
			challenge string
		}{
			{"no token", nil, 401, "Bearer"},
			{"garbage", bearer("a.b.c"), 401, `Bearer error="invalid_token"`},
			{"two headers", append(bearer(tok), bearer(tok)...), 400, `Bearer error="invalid_request"`},
		} {
			w := e.do("GET", "/recent-key", nil, tc.headers...)
			if got := w.Header().Get("WWW-Authenticate"); w.Code != tc.code || !strings.HasPrefix(got, tc.challenge) {
				t.Errorf("%s: %d %q", tc.name, w.Code, got)
			}
		}
		time.Sleep(6 * time.Minute) // past the token's exp and the leeway
		w := e.do("GET", "/recent-key", nil, bearer(tok)...)
		if got := w.Header().Get("WWW-Authenticate"); w.Code != 401 || !strings.Contains(got, `error="invalid_token"`) {
			t.Fatalf("expired token: %d %q", w.Code, got)
		}
	})
}

func TestRequireRecentAuthPanicsOnProgrammingErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for _, tc := range []struct {
		name    string
		maxAge  time.Duration
		methods []string
	}{
		{"nothing required", 0, nil},
		{"negative", -time.Minute, nil},
		{"below a second", time.Millisecond, nil},
		{"empty method", time.Minute, []string{""}},
		{"upper case", time.Minute, []string{"PWD"}},
		{"space", 0, []string{"pwd otp"}},
		{"too long", 0, []string{strings.Repeat("a", 33)}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", tc.name)
				}
			}()
			e.issuer.RequireRecentAuth(tc.maxAge, tc.methods...)
		}()
	}
}

// TestREADMEStepUpAnswerIsTheRealOne compares the README's sample refusal
// with what RequireRecentAuth answers.
func TestREADMEStepUpAnswerIsTheRealOne(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sample, ok := strings.Cut(string(data), "```\nHTTP/1.1 401 Unauthorized\n")
	sample, _, _ = strings.Cut(sample, "```")
	if !ok {
		t.Fatal("no sample refusal in the README")
	}
	synctest.Test(t, func(t *testing.T) {
		e := recentEnv(t)
		cookie := cookieOf(t, e.do("POST", "/login?user=alice&amr=pwd", nil))
		time.Sleep(6 * time.Minute)
		w := e.do("GET", "/recent", nil, bearer(e.mint(cookie))...)
		want := "WWW-Authenticate: " + w.Header().Get("WWW-Authenticate") + "\n" +
			"Cache-Control: " + w.Header().Get("Cache-Control") + "\n\n" + w.Body.String()
		if w.Code != http.StatusUnauthorized || sample != want {
			t.Fatalf("README shows\n%s\nthe middleware answers %d\n%s", sample, w.Code, want)
		}
	})
}

// TestTokenMintedBeforeAStepUpKeepsItsOwnProof: a token carries the proof
// of the moment it was minted; a later StepUp of its session does not make
// it pass a route that wants the new method or a proof younger than its
// own. Only a token minted after the step-up does.
func TestTokenMintedBeforeAStepUpKeepsItsOwnProof(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e := recentEnv(t)
		cookie := cookieOf(t, e.do("POST", "/login?user=alice&amr=pwd", nil))
		time.Sleep(4 * time.Minute)
		before := e.mint(cookie)
		cookie = cookieOf(t, e.do("POST", "/stepup?amr=hwk", cookie))
		after := e.mint(cookie)
		stepUpRefusal(t, e.do("GET", "/key", nil, bearer(before)...), descMethod, 0, []string{"hwk", "swk"})
		if w := e.do("GET", "/key", nil, bearer(after)...); w.Code != http.StatusOK {
			t.Fatalf("token minted after the step-up: %d %s", w.Code, w.Body)
		}
		time.Sleep(time.Minute + time.Second) // the login is now older than 5 minutes, the step-up is not
		stepUpRefusal(t, e.do("GET", "/recent", nil, bearer(before)...), descStale, 300, nil)
		if w := e.do("GET", "/recent", nil, bearer(after)...); w.Code != http.StatusOK {
			t.Fatalf("token minted after the step-up, a minute later: %d %s", w.Code, w.Body)
		}
	})
}

// TestRequireRecentAuthTakesNoOddProofForAGoodOne: auth_time and amr in
// shapes other than a number and an array of strings (a string, a float
// far in the future, an amr string "hwk", an object) never pass, even in a
// token signed with the issuer's key.
func TestRequireRecentAuthTakesNoOddProofForAGoodOne(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e := recentEnv(t)
		now := time.Now().Unix()
		for _, tc := range []struct {
			name, claims, route, desc string
		}{
			{"auth_time a string", `"auth_time":"` + strconvI(now) + `"`, "/recent", descNoAuthTime},
			{"auth_time negative", `"auth_time":-1`, "/recent", descNoAuthTime},
			{"auth_time huge", `"auth_time":1e300`, "/recent", descNoAuthTime},
			{"auth_time null", `"auth_time":null`, "/recent", descNoAuthTime},
			{"auth_time zero", `"auth_time":0`, "/recent", descStale},
			{"amr a string", `"auth_time":` + strconvI(now) + `,"amr":"hwk"`, "/key", descMethod},
			{"amr an object", `"auth_time":` + strconvI(now) + `,"amr":{"hwk":true}`, "/key", descMethod},
			{"amr with a number", `"auth_time":` + strconvI(now) + `,"amr":["hwk",1]`, "/key", descMethod},
			{"amr of arrays", `"auth_time":` + strconvI(now) + `,"amr":[["hwk"]]`, "/key", descMethod},
			{"amr in another case", `"auth_time":` + strconvI(now) + `,"amr":["HWK"]`, "/key", descMethod},
			{"control: a number and an array of strings", `"auth_time":` + strconvI(now) + `.5,"amr":["hwk"]`, "/recent-key", ""},
		} {
			tok := craft(headerJSON("EdDSA", e.key.KeyID(), nil), `{"iss":"`+testIssuer+`","aud":"`+testAudience+`","sub":"alice","sid":"0123456789abcdef","jti":"j1","iat":`+strconvI(now)+`,"exp":`+strconvI(now+60)+`,`+tc.claims+`}`, signWith(t, e.key.key, "EdDSA"))
			if _, err := e.issuer.Verify(context.Background(), tok); err != nil {
				t.Fatalf("%s: the token does not verify: %v", tc.name, err)
			}
			w := e.do("GET", tc.route, nil, bearer(tok)...)
			if tc.desc == "" {
				if w.Code != http.StatusOK {
					t.Errorf("%s: %d %s", tc.name, w.Code, w.Body)
				}
				continue
			}
			if w.Code != http.StatusUnauthorized || !strings.Contains(w.Header().Get("WWW-Authenticate"), tc.desc) {
				t.Errorf("%s: %d %q, want 401 %q", tc.name, w.Code, w.Header().Get("WWW-Authenticate"), tc.desc)
			}
		}
	})
}
