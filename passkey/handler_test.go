package passkey

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sessionauth/session"
)

func TestEveryPOSTNeedsJSONAndTheSameOrigin(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	v := app.visitor()
	v.login("alice")
	for _, path := range []string{"register/begin", "register/finish", "signin/begin", "signin/finish", "stepup/begin", "stepup/finish", "list", "rename", "remove"} {
		for _, tc := range []struct {
			name, ct, site string
			status         int
			code           string
		}{
			{"form post", "application/x-www-form-urlencoded", "", http.StatusUnsupportedMediaType, "content_type"},
			{"text/plain (a CORS-simple type)", "text/plain", "", http.StatusUnsupportedMediaType, "content_type"},
			{"no type", "", "", http.StatusUnsupportedMediaType, "content_type"},
			{"cross-site", "application/json", "cross-site", http.StatusForbidden, "cross_origin"},
			{"same-site, other origin", "application/json", "same-site", http.StatusForbidden, "cross_origin"},
		} {
			req, _ := http.NewRequest("POST", app.srv.URL+"/passkey/"+path, strings.NewReader("{}"))
			if tc.ct != "" {
				req.Header.Set("Content-Type", tc.ct)
			}
			if tc.site != "" {
				req.Header.Set("Sec-Fetch-Site", tc.site)
			}
			res, err := v.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			b.ReadFrom(res.Body)
			res.Body.Close()
			if res.StatusCode != tc.status || !strings.Contains(b.String(), `"`+tc.code+`"`) {
				t.Errorf("%s %s: %d %s, want %d %s", path, tc.name, res.StatusCode, b.String(), tc.status, tc.code)
			}
		}
		if res, err := v.client.Get(app.srv.URL + "/passkey/" + path); err != nil || res.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("GET %s: %v %v, want 405", path, res.StatusCode, err)
		}
	}
}

func TestBodiesAreDecodedStrictlyAndBounded(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	v := app.visitor()
	v.login("alice")
	for _, body := range []string{`{"unknown":1}`, `{} {}`, `[`, `{"id":1}`,
		`{"id":"AAAA","id":"BBBB"}`, `{"ID":"AAAA","name":"x"}`, `{"id":"AAAA","naMe":"x"}`, `{"id":"AAAA","NAME":"x"}`} {
		v.refused("/passkey/rename", []byte(body), http.StatusBadRequest, "bad_request")
	}
	v.refused("/passkey/signin/finish", []byte(`{"id":"`+strings.Repeat("a", maxBody)+`"}`), http.StatusRequestEntityTooLarge, "too_large")
	v.refused("/passkey/signin/finish", []byte(`{"id":"x"}`), http.StatusBadRequest, "bad_request")
}

func TestTheScriptIsServed(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	res, err := http.Get(app.srv.URL + "/passkey/passkey.js")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(res.Body)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") || !strings.Contains(b.String(), "window.passkey") {
		t.Fatalf("passkey.js: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
}

// FuzzFinishBody posts arbitrary bodies to every finish endpoint of a
// visitor who began each ceremony: never a panic, never a 200, never a
// stored passkey or a changed session.
func FuzzFinishBody(f *testing.F) {
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"id":"AA","rawId":"AA","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"AA","signature":"AA"}}`))
	f.Add([]byte(`{"credential":{"id":"AA","rawId":"AA","type":"public-key","response":{"clientDataJSON":"e30","attestationObject":"oA"}},"name":"x"}`))
	f.Add([]byte(`{"credential":null,"name":""}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		app := newTestApp(t)
		v := app.visitor()
		v.login("alice")
		before := v.me()
		for _, kind := range []string{"register", "signin", "stepup"} {
			if kind != "stepup" {
				v.must("/passkey/"+kind+"/begin", nil)
			}
			if code, b := v.post("/passkey/"+kind+"/finish", body); code == 200 || code >= 500 {
				t.Fatalf("%s/finish answered %d %s", kind, code, b)
			}
		}
		if creds, _ := app.store.ListUser(t.Context(), "alice"); len(creds) != 0 {
			t.Fatal("a fuzzed body stored a passkey")
		}
		if after := v.me(); after.ID != before.ID {
			t.Fatal("a fuzzed body changed the session")
		}
	})
}

func TestRepeatedBeginsDoNotGrowTheSession(t *testing.T) {
	t.Parallel()
	// Cookie-only, where the session is the cookie: its size is the
	// session's.
	app := newTestAppWith(t, session.Config{CookieOnly: true})
	v := app.visitor()
	v.login("alice")
	v.register(newSoftAuthn(t), "")
	size := func() int {
		u, _ := url.Parse(app.srv.URL)
		n := 0
		for _, c := range v.client.Jar.Cookies(u) {
			n += len(c.Value)
		}
		return n
	}
	kinds := []string{"register", "signin", "stepup"}
	for _, k := range kinds {
		v.must("/passkey/"+k+"/begin", nil)
	}
	once := size()
	if once == 0 {
		t.Fatal("no session cookie")
	}
	for range 20 {
		for _, k := range kinds {
			v.must("/passkey/"+k+"/begin", nil)
		}
	}
	if after := size(); after > once {
		t.Fatalf("the session cookie grew from %d to %d bytes with repeated begins", once, after)
	}
}
