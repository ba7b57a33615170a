package providerlogin

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestParseCallback(t *testing.T) {
	t.Parallel()
	st := strings.Repeat("A", 43)
	tests := []struct {
		raw     string
		want    callbackParams
		wantErr error
	}{
		{"state=" + st + "&code=abc&iss=https%3A%2F%2Fop.example", callbackParams{state: st, code: "abc", iss: "https://op.example", hasIss: true}, nil},
		{"state=" + st + "&error=access_denied&error_description=%3Cb%3E", callbackParams{state: st, errCode: "access_denied"}, nil},
		{"state=" + st + "&error=made_up", callbackParams{state: st, errCode: "invalid_error"}, nil},
		{"code=abc", callbackParams{code: "abc"}, nil},
		{"", callbackParams{}, nil},
		{"state=a&state=b", callbackParams{}, ErrBadRequest},
		{"code=a&code=b", callbackParams{}, ErrBadRequest},
		{"iss=a&iss=a", callbackParams{}, ErrBadRequest},
		{"error=a&error=b", callbackParams{}, ErrBadRequest},
		{"state=a+b", callbackParams{}, ErrBadRequest},
		{"state=a%2Fb", callbackParams{}, ErrBadRequest},
		{"state=" + strings.Repeat("a", maxState+1), callbackParams{}, ErrBadRequest},
		{"code=a%0Ab", callbackParams{}, ErrBadRequest},
		{"code=" + strings.Repeat("a", maxCode+1), callbackParams{}, ErrBadRequest},
		{"iss=%7F", callbackParams{}, ErrBadRequest},
		{"code=%zz", callbackParams{}, ErrBadRequest},
		{"code=a;b", callbackParams{}, ErrBadRequest},
		{strings.Repeat("x", maxCallbackQuery+1), callbackParams{}, ErrBadRequest},
	}
	for _, tt := range tests {
		got, err := parseCallback(tt.raw)
		if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
			t.Errorf("parseCallback(%.40q) error %v, want %v", tt.raw, err, tt.wantErr)
			continue
		}
		if err == nil && got != tt.want {
			t.Errorf("parseCallback(%.40q) = %+v, want %+v", tt.raw, got, tt.want)
		}
	}
}

func FuzzParseCallback(f *testing.F) {
	f.Add("state=" + strings.Repeat("A", 43) + "&code=abc&iss=https%3A%2F%2Fop.example")
	f.Add("error=access_denied&state=x")
	f.Add("state=a&state=b")
	f.Add("code=%zz;")
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := parseCallback(raw)
		if err != nil {
			if !errors.Is(err, ErrBadRequest) {
				t.Fatalf("error %v does not wrap ErrBadRequest", err)
			}
			return
		}
		if len(p.state) > maxState || len(p.code) > maxCode || len(p.iss) > maxIssuer {
			t.Fatalf("over a cap: %+v", p)
		}
		for i := 0; i < len(p.state); i++ {
			if !isStateChar(p.state[i]) {
				t.Fatalf("state %q has a character outside base64url", p.state)
			}
		}
		for _, v := range []string{p.code, p.iss} {
			for i := 0; i < len(v); i++ {
				if !isVSChar(v[i]) {
					t.Fatalf("%q has a control or non-ASCII byte", v)
				}
			}
		}
		if p.errCode != "" && p.errCode != "invalid_error" && !knownErrorCodes[p.errCode] {
			t.Fatalf("error code %q passed through", p.errCode)
		}
		// What was accepted round-trips: re-encoding and parsing again gives
		// the same parameters.
		q := url.Values{}
		set := func(k, v string, present bool) {
			if present {
				q.Set(k, v)
			}
		}
		set("state", p.state, p.state != "")
		set("code", p.code, p.code != "")
		set("iss", p.iss, p.hasIss)
		set("error", p.errCode, p.errCode != "")
		again, err := parseCallback(q.Encode())
		if err != nil || again != p {
			t.Fatalf("round trip of %+v: %+v, %v", p, again, err)
		}
	})
}
