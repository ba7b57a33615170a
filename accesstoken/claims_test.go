package accesstoken

import (
	"bytes"
	"errors"
	"strconv"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/go-jose/go-jose/v4/json"
)

func TestDecodeClaims(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		payload string
		check   func(*Claims) bool
	}{
		{`{"exp":1800000000.75}`, func(c *Claims) bool { return c.Expiry.Equal(time.Unix(1800000000, 750000000)) }},
		{`{"exp":0}`, func(c *Claims) bool { return c.Expiry.Equal(time.Unix(0, 0)) }},
		{`{"aud":"a"}`, func(c *Claims) bool { return len(c.Audience) == 1 && c.Audience[0] == "a" }},
		{`{"aud":["a","b"]}`, func(c *Claims) bool { return len(c.Audience) == 2 }},
		{`{"aud":null,"sub":null}`, func(c *Claims) bool { return c.Audience == nil && c.Subject == "" }},
		{`{"sid":12}`, func(c *Claims) bool { return c.SessionID == "" }}, // a provider's non-string sid is ignored
		{`{"sid":"s1"}`, func(c *Claims) bool { return c.SessionID == "s1" }},
		{` {"Sub":"x"} `, func(c *Claims) bool { return c.Subject == "" }}, // names are case-sensitive
		{`{"nested":{"a":1,"b":[1,2]}}`, func(c *Claims) bool { return true }},
		{`{"auth_time":1800000000,"amr":["pwd","otp"]}`, func(c *Claims) bool {
			return c.AuthTime.Equal(time.Unix(1800000000, 0)) && len(c.AuthMethods) == 2 && c.AuthMethods[1] == "otp"
		}},
		// Odd shapes of auth_time and amr leave them empty (RequireRecentAuth
		// then refuses) rather than refusing a provider's whole token.
		{`{"auth_time":"1800000000"}`, func(c *Claims) bool { return c.AuthTime.IsZero() }},
		{`{"auth_time":-5}`, func(c *Claims) bool { return c.AuthTime.IsZero() }},
		{`{"auth_time":null}`, func(c *Claims) bool { return c.AuthTime.IsZero() }},
		{`{"amr":[{"method":"password","timestamp":1}]}`, func(c *Claims) bool { return c.AuthMethods == nil }},
		{`{"amr":"pwd"}`, func(c *Claims) bool { return c.AuthMethods == nil }},
		{`{"amr":[]}`, func(c *Claims) bool { return c.AuthMethods == nil }},
	} {
		c, err := decodeClaims([]byte(tc.payload))
		if err != nil || !tc.check(c) {
			t.Errorf("%s: %+v, %v", tc.payload, c, err)
		}
	}
	for _, bad := range []string{
		``, `null`, `[]`, `"s"`, `{"exp":"1"}`, `{"exp":true}`, `{"exp":-1}`, `{"exp":1e12}`,
		`{"exp":NaN}`, `{"aud":{}}`, `{"aud":[1]}`, `{"sub":1}`, `{"jti":[]}`, `{"iat":1,"iat":2}`,
		`{"sub":"a"}x`, `{"sid":"a","sid":"b"}`, `{"amr":["a"],"amr":["b"]}`,
	} {
		if _, err := decodeClaims([]byte(bad)); !errors.Is(err, errClaims) {
			t.Errorf("%s: err = %v, want errClaims", bad, err)
		}
	}
}

// FuzzDecodeClaims feeds arbitrary verified payloads to decodeClaims. It
// must never panic; the authorised party it finds must be what the rule says
// (a string azp; without azp, a string client_id; without either, a single
// aud; otherwise none), so that no shape of a claim (another JSON type, a
// repeated or differently cased name, null) lends a token a party it was not
// issued to; and the wrong-issuer and wrong-audience errors that repeat
// these claims stay short and free of control characters.
func FuzzDecodeClaims(f *testing.F) {
	for _, s := range []string{
		`{"azp":"our-spa","aud":["api","x"]}`,
		`{"azp":"third","client_id":"our-spa"}`,
		`{"azp":null,"client_id":"our-spa"}`,
		`{"azp":"","aud":"our-spa"}`,
		`{"client_id":5,"aud":"our-spa"}`,
		`{"aud":["our-spa"]}`,
		`{"aud":"our-spa","AZP":"x","Client_id":"y"}`,
		`{"azp":"a","azp":"b"}`,
		`{"azp":"a","\u0061zp":"b"}`,
		`{"iss":"https://evil\u0000\n\u001b[31m","aud":["\u2028","a\"b"]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		c, err := decodeClaims(payload)
		if err != nil {
			if !errors.Is(err, errClaims) {
				t.Fatalf("error %v is not errClaims", err)
			}
			return
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(bytes.TrimSpace(payload), &m); err != nil { // as decodeClaims trims
			t.Fatalf("decodeClaims accepted what a map does not decode: %v", err)
		}
		str := func(raw json.RawMessage) string {
			var s string
			if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
				return ""
			}
			return s
		}
		var want string
		if raw, ok := m["azp"]; ok {
			want = str(raw)
		} else if raw, ok := m["client_id"]; ok {
			want = str(raw)
		} else if len(c.Audience) == 1 {
			want = c.Audience[0]
		}
		if c.party != want {
			t.Fatalf("party %q, want %q", c.party, want)
		}
		for _, e := range []error{
			mismatch(errIssuer, "https://idp.example/", []string{c.Issuer}, false),
			mismatch(errAudience, "api://orders", c.Audience, true),
		} {
			msg := e.Error()
			if len(msg) > 1024 {
				t.Fatalf("error of %d bytes", len(msg))
			}
			if !utf8.ValidString(msg) {
				t.Fatalf("error %q is not valid UTF-8", msg)
			}
			for _, r := range msg {
				if !strconv.IsPrint(r) {
					t.Fatalf("error %q holds %U", msg, r)
				}
			}
		}
	})
}
