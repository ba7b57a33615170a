package providerlogin

import (
	"net/url"
	"strings"
)

// maxReturnPath bounds the return path kept through a sign-in.
const maxReturnPath = 1024

// SafeReturnPath reports whether p is a path on this site that is safe to
// redirect to after sign-in, and returns it. It accepts only an
// origin-relative path: it starts with a single "/", contains only printable
// ASCII without backslashes, and stays so after percent-decoding (repeatedly).
// It refuses everything a browser could read as another origin:
// "//evil.example", "/\evil.example", "https:evil", "https://evil.example",
// "/%2F%2Fevil.example", "/%5Cevil.example", and control characters, which
// browsers strip ("/\t/evil.example"). Cost: a scan of p per decoding level
// and one url.Parse (about a microsecond, one allocation).
func SafeReturnPath(p string) (string, bool) {
	if len(p) == 0 || len(p) > maxReturnPath {
		return "", false
	}
	s := p
	for level := range 4 { // four levels of encoding is plenty; deeper ones are refused
		if !safePathLevel(s, level == 0) {
			return "", false
		}
		if !strings.Contains(s, "%") {
			return p, finalCheck(p)
		}
		d, err := url.PathUnescape(s)
		if err != nil {
			return "", false
		}
		if d == s {
			return p, finalCheck(p)
		}
		s = d
	}
	return "", false
}

// safePathLevel checks one decoding level of a candidate path: the raw
// form must be printable ASCII without spaces; a decoded form may hold
// spaces and UTF-8, but never control characters or backslashes.
func safePathLevel(s string, raw bool) bool {
	if len(s) == 0 || s[0] != '/' {
		return false
	}
	if len(s) > 1 && (s[1] == '/' || s[1] == '\\') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f || c == '\\' || raw && (c == ' ' || c > 0x7e) {
			return false
		}
	}
	return true
}

// finalCheck makes sure Go's own URL parser sees the path as a path.
func finalCheck(p string) bool {
	u, err := url.Parse(p)
	return err == nil && u.Scheme == "" && u.Host == "" && u.User == nil && u.Opaque == "" && strings.HasPrefix(u.Path, "/")
}
