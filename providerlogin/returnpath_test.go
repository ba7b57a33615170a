package providerlogin

import (
	"net/url"
	"strings"
	"testing"
)

func TestSafeReturnPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in string
		ok bool
	}{
		{"/", true},
		{"/dashboard", true},
		{"/a/b?x=1&y=%2F#frag", true},
		{"/search?q=a%20b", true},
		{"/%E2%9C%93", true},
		{"", false},
		{"dashboard", false},
		{"//evil.example", false},
		{"//evil.example/path", false},
		{"///evil.example", false},
		{"/\\evil.example", false},
		{"\\\\evil.example", false},
		{"\\/evil.example", false},
		{"/path\\..\\x", false},
		{"https:evil", false},
		{"https:/evil.example", false},
		{"https://evil.example", false},
		{"http://evil.example/", false},
		{"javascript:alert(1)", false},
		{"data:text/html,hi", false},
		{"/%2F%2Fevil.example", false},
		{"/%2fevil.example", false},
		{"/%5Cevil.example", false},
		{"/%5cevil.example", false},
		{"/%252F%252Fevil.example", false},
		{"/%25252F%25252Fevil.example", false},
		{"%2F%2Fevil.example", false},
		{"/\t/evil.example", false},
		{"/\n/evil.example", false},
		{"/\r/evil.example", false},
		{"/%09/evil.example", false},
		{"/%0d%0aSet-Cookie:x=1", false},
		{"/\x00", false},
		{"/\x7f", false},
		{"/ /evil.example", false},
		{"/caf\u00e9", false},
		{"/%zz", false},
		{"/" + strings.Repeat("a", maxReturnPath), false},
	}
	for _, tt := range tests {
		got, ok := SafeReturnPath(tt.in)
		if ok != tt.ok {
			t.Errorf("SafeReturnPath(%q) ok = %v, want %v", tt.in, ok, tt.ok)
		}
		if ok && got != tt.in {
			t.Errorf("SafeReturnPath(%q) = %q, want it unchanged", tt.in, got)
		}
		if !ok && got != "" {
			t.Errorf("SafeReturnPath(%q) = %q on refusal, want \"\"", tt.in, got)
		}
	}
}

// browserResolve resolves p against base the way a WHATWG URL parser
// would for the cases that matter here: it drops tabs and newlines and reads
// backslashes as slashes before resolving.
func browserResolve(base *url.URL, p string) (*url.URL, error) {
	p = strings.Map(func(r rune) rune {
		switch r {
		case '\t', '\n', '\r':
			return -1
		case '\\':
			return '/'
		}
		return r
	}, p)
	p = strings.TrimLeft(p, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f ")
	ref, err := url.Parse(p)
	if err != nil {
		return nil, err
	}
	return base.ResolveReference(ref), nil
}

func FuzzSafeReturnPath(f *testing.F) {
	for _, s := range []string{"/", "/a?b=c#d", "//evil.example", "/\\evil", "https:evil", "/%2F%2Fevil", "/%5Cx", "/\t/evil", "/%252F%252F"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://app.example/some/page")
	f.Fuzz(func(t *testing.T, p string) {
		got, ok := SafeReturnPath(p)
		if !ok {
			return
		}
		if got != p {
			t.Fatalf("accepted %q but returned %q", p, got)
		}
		if strings.ContainsAny(p, "\\\t\r\n ") || strings.HasPrefix(p, "//") || !strings.HasPrefix(p, "/") {
			t.Fatalf("accepted %q", p)
		}
		// Whatever the decoding depth, the browser stays on our origin.
		for s, i := p, 0; i < 5; i++ {
			u, err := browserResolve(base, s)
			if err == nil && (u.Host != base.Host || u.Scheme != base.Scheme) {
				t.Fatalf("accepted %q, which leads to %s://%s", p, u.Scheme, u.Host)
			}
			d, err := url.PathUnescape(s)
			if err != nil || d == s {
				break
			}
			s = d
		}
	})
}
