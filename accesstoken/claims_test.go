package accesstoken

import (
	"errors"
	"testing"
	"time"
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
	} {
		c, err := decodeClaims([]byte(tc.payload))
		if err != nil || !tc.check(c) {
			t.Errorf("%s: %+v, %v", tc.payload, c, err)
		}
	}
	for _, bad := range []string{
		``, `null`, `[]`, `"s"`, `{"exp":"1"}`, `{"exp":true}`, `{"exp":-1}`, `{"exp":1e12}`,
		`{"exp":NaN}`, `{"aud":{}}`, `{"aud":[1]}`, `{"sub":1}`, `{"jti":[]}`, `{"iat":1,"iat":2}`,
		`{"sub":"a"}x`, `{"sid":"a","sid":"b"}`,
	} {
		if _, err := decodeClaims([]byte(bad)); !errors.Is(err, errClaims) {
			t.Errorf("%s: err = %v, want errClaims", bad, err)
		}
	}
}
