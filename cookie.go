package session

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// maxCookieLen caps a session cookie's value. Ours are about 100 bytes; a
// longer value is not ours and is dropped before any decoding work.
const maxCookieLen = 256

// maxSessionCookies caps how many cookies of our name one request may make
// us verify, so a flood of them costs at most this many MACs. A request
// with more is anonymous (it cannot be signed in on the strength of a
// subset of its cookies), and Logout reports that it could not end them all.
const maxSessionCookies = 16

// maxPersistentAge is the longest Max-Age a browser honours (400 days).
const maxPersistentAge = 400 * 24 * time.Hour

// Default cookie names. The __Host- prefix makes browsers refuse the cookie
// unless it is Secure, has Path=/ and no Domain, so a sibling subdomain cannot
// plant or overwrite it. Neither name says which library or stack is behind it.
const (
	defaultCookieName         = "__Host-sid"
	defaultInsecureCookieName = "sid"
)

// errNoSessionCookie: the request carries no session cookie.
var errNoSessionCookie = errors.New("no session cookie")

// CookieOptions sets the session cookie's attributes. The zero value is the
// safe default: HttpOnly, Secure, SameSite=Lax, Path=/, no Domain, named
// "__Host-sid" (or "sid" when the attributes do not
// allow the __Host- prefix). Whether the cookie outlives the browser session
// is chosen per session, with the RememberMe login option.
type CookieOptions struct {
	// Name of the cookie. Prefer a "__Host-" name: New then checks that the
	// attributes satisfy the prefix.
	Name string
	// Path defaults to "/".
	Path string
	// Domain is empty by default (host-only cookie). Setting it shares the
	// session with every subdomain.
	Domain string
	// DisableSecure drops the Secure attribute, for plain-HTTP development on
	// a host other than localhost (browsers accept Secure cookies from
	// http://localhost). It is never inferred from the request.
	DisableSecure bool
	// DisableHTTPOnly lets page scripts read the cookie. Leave it off.
	DisableHTTPOnly bool
	// SameSite defaults to http.SameSiteLaxMode. SameSiteNoneMode requires Secure.
	SameSite http.SameSite
	// Partitioned adds the Partitioned attribute (CHIPS), for sessions inside
	// third-party iframes. It requires Secure.
	Partitioned bool
}

// withDefaults fills in defaults and checks the combination.
func (o CookieOptions) withDefaults() (CookieOptions, error) {
	if o.Path == "" {
		o.Path = "/"
	}
	switch o.SameSite {
	case 0, http.SameSiteDefaultMode:
		o.SameSite = http.SameSiteLaxMode
	case http.SameSiteLaxMode, http.SameSiteStrictMode, http.SameSiteNoneMode:
	default: // net/http would send the cookie without the attribute
		return o, fmt.Errorf("%w: cookie: unknown SameSite value %d", ErrInvalidConfig, o.SameSite)
	}
	secure := !o.DisableSecure
	if o.Name == "" {
		o.Name = defaultCookieName
		if !secure || o.Path != "/" || o.Domain != "" {
			o.Name = defaultInsecureCookieName
		}
	}
	if !validCookieName(o.Name) || !validCookiePath(o.Path) || !validCookieDomain(o.Domain) {
		return o, fmt.Errorf("%w: cookie: invalid Name, Path or Domain", ErrInvalidConfig)
	}
	// Browsers match the prefixes without regard to case.
	if hasPrefixFold(o.Name, "__Host-") && (!secure || o.Path != "/" || o.Domain != "") {
		return o, fmt.Errorf("%w: cookie: a __Host- cookie needs Secure, Path=/ and no Domain", ErrInvalidConfig)
	}
	if hasPrefixFold(o.Name, "__Secure-") && !secure {
		return o, fmt.Errorf("%w: cookie: a __Secure- cookie needs Secure", ErrInvalidConfig)
	}
	if o.SameSite == http.SameSiteNoneMode && !secure {
		return o, fmt.Errorf("%w: cookie: SameSite=None needs Secure", ErrInvalidConfig)
	}
	if o.Partitioned && !secure {
		return o, fmt.Errorf("%w: cookie: Partitioned needs Secure", ErrInvalidConfig)
	}
	return o, nil
}

func validCookieName(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", c) >= 0 {
			return false
		}
	}
	return true
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// validCookiePath accepts an absolute path of printable ASCII without ';'.
func validCookiePath(p string) bool {
	if !strings.HasPrefix(p, "/") {
		return false
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c >= 0x7f || c == ';' {
			return false
		}
	}
	return true
}

// validCookieDomain accepts "" or a host name (letters, digits, '-' and
// '.', an optional leading dot), the form net/http keeps; anything else it
// would silently drop, widening or narrowing the cookie's scope.
func validCookieDomain(d string) bool {
	d = strings.TrimPrefix(d, ".")
	if d == "" {
		return true
	}
	if len(d) > 253 || strings.HasPrefix(d, "-") || strings.HasSuffix(d, ".") || strings.Contains(d, "..") {
		return false
	}
	for i := 0; i < len(d); i++ {
		c := d[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// cookie builds the Set-Cookie value for value. maxAge > 0 makes a
// persistent cookie; maxAge < 0 deletes the cookie; 0 is a browser-session
// cookie.
func (o *CookieOptions) cookie(value string, maxAge time.Duration, now time.Time) *http.Cookie {
	c := &http.Cookie{
		Name:        o.Name,
		Value:       value,
		Path:        o.Path,
		Domain:      o.Domain,
		Secure:      !o.DisableSecure,
		HttpOnly:    !o.DisableHTTPOnly,
		SameSite:    o.SameSite,
		Partitioned: o.Partitioned,
	}
	switch {
	case maxAge < 0:
		c.MaxAge = -1
		c.Expires = time.Unix(1, 0)
	case maxAge > 0:
		maxAge = min(maxAge, maxPersistentAge)
		secs := int((maxAge + time.Second - 1) / time.Second)
		c.MaxAge = secs
		c.Expires = now.Add(time.Duration(secs) * time.Second)
	}
	return c
}

// forEachCookie calls fn with the value of every cookie named name in the
// request's Cookie headers, without allocating. Quoted values are unquoted.
// It stops early when fn returns false.
func forEachCookie(h http.Header, name string, fn func(value string) bool) {
	for _, line := range h["Cookie"] {
		for len(line) > 0 {
			var part string
			part, line, _ = strings.Cut(line, ";")
			for len(part) > 0 && (part[0] == ' ' || part[0] == '\t') {
				part = part[1:]
			}
			k, v, ok := strings.Cut(part, "=")
			if !ok || k != name {
				continue
			}
			for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
				v = v[:len(v)-1]
			}
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			if !fn(v) {
				return
			}
		}
	}
}

// bearerToken returns the token of an "Authorization: Bearer" header.
func bearerToken(h http.Header) (string, bool) {
	v := h.Get("Authorization")
	if len(v) < 7 || !strings.EqualFold(v[:7], "bearer ") {
		return "", false
	}
	return strings.TrimSpace(v[7:]), true
}
