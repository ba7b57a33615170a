package passkey

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
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
	for _, body := range []string{`{"unknown":1}`, `{} {}`, `[`, `{"id":1}`} {
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
