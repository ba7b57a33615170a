package throttle_test

import (
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/sessionauth/session/throttle"
)

func TestClientAddr(t *testing.T) {
	t.Parallel()
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:ffff::/48")}
	tests := []struct {
		name    string
		trusted []netip.Prefix
		header  string // GuardConfig.ProxyHeader
		peer    string
		values  []string // of the header, in order
		want    string   // "" for the zero Addr
	}{
		{"no proxies: the peer", nil, "", "198.51.100.7:1234", nil, "198.51.100.7"},
		{"no proxies: header ignored", nil, "", "198.51.100.7:1234", []string{"203.0.113.1"}, "198.51.100.7"},
		{"untrusted peer: header ignored", proxies, "", "198.51.100.7:1234", []string{"203.0.113.1"}, "198.51.100.7"},
		{"trusted peer, no header: the proxy", proxies, "", "10.1.2.3:80", nil, "10.1.2.3"},
		{"trusted peer: the client it appended", proxies, "", "10.1.2.3:80", []string{"203.0.113.1"}, "203.0.113.1"},
		{"spoofed entries left of it are ignored", proxies, "", "10.1.2.3:80", []string{"192.0.2.66, 192.0.2.67, 203.0.113.1"}, "203.0.113.1"},
		{"chain of trusted proxies", proxies, "", "10.1.2.3:80", []string{"192.0.2.66, 203.0.113.1, 10.9.9.9, 10.8.8.8"}, "203.0.113.1"},
		{"every hop trusted: the left-most", proxies, "", "10.1.2.3:80", []string{"10.0.0.5, 10.0.0.6"}, "10.0.0.5"},
		{"several header lines", proxies, "", "10.1.2.3:80", []string{"192.0.2.66", "203.0.113.1, 10.0.0.9"}, "203.0.113.1"},
		{"unknown hop: the proxy that wrote it", proxies, "", "10.1.2.3:80", []string{"203.0.113.1, unknown"}, "10.1.2.3"},
		{"garbage hop", proxies, "", "10.1.2.3:80", []string{"203.0.113.1, 999.1.1.1"}, "10.1.2.3"},
		{"empty elements skipped", proxies, "", "10.1.2.3:80", []string{"203.0.113.1, , "}, "203.0.113.1"},
		{"hop with port", proxies, "", "10.1.2.3:80", []string{"203.0.113.1:5555"}, "203.0.113.1"},
		{"IPv6 hop, bracketed with port", proxies, "", "10.1.2.3:80", []string{"[2001:db8::1]:5555"}, "2001:db8::1"},
		{"IPv6 hop, bare", proxies, "", "10.1.2.3:80", []string{"2001:db8::1"}, "2001:db8::1"},
		{"IPv6 proxy", proxies, "", "[2001:db8:ffff::1]:80", []string{"2001:db8::1"}, "2001:db8::1"},
		{"mapped IPv4 peer is IPv4", proxies, "", "[::ffff:10.1.2.3]:80", []string{"::ffff:203.0.113.1"}, "203.0.113.1"},
		{"zone dropped", nil, "", "[fe80::1%eth0]:80", nil, "fe80::1"},
		{"unparsable peer", proxies, "", "@", []string{"203.0.113.1"}, ""},
		{"more than 20 hops: stops at the 20th", proxies, "", "10.1.2.3:80", []string{"203.0.113.1, " + strings.Repeat("10.0.0.1, ", 25) + "10.0.0.2"}, "10.0.0.1"},
		{"X-Real-IP", proxies, "X-Real-IP", "10.1.2.3:80", []string{"203.0.113.1"}, "203.0.113.1"},
		{"other header not read", proxies, "X-Real-IP", "10.1.2.3:80", nil, "10.1.2.3"},

		{"Forwarded", proxies, "Forwarded", "10.1.2.3:80", []string{"for=203.0.113.1;proto=https"}, "203.0.113.1"},
		{"Forwarded, case and spaces", proxies, "Forwarded", "10.1.2.3:80", []string{"proto=https; For=203.0.113.1 "}, "203.0.113.1"},
		{"Forwarded, quoted IPv6 with port", proxies, "Forwarded", "10.1.2.3:80", []string{`for="[2001:db8:cafe::17]:4711"`}, "2001:db8:cafe::17"},
		{"Forwarded, chain", proxies, "Forwarded", "10.1.2.3:80", []string{"for=192.0.2.66, for=203.0.113.1, for=10.0.0.7;by=10.1.2.3"}, "203.0.113.1"},
		{"Forwarded, obfuscated hop", proxies, "Forwarded", "10.1.2.3:80", []string{"for=203.0.113.1, for=_hidden"}, "10.1.2.3"},
		{"Forwarded, element without for", proxies, "Forwarded", "10.1.2.3:80", []string{"for=203.0.113.1, proto=http"}, "10.1.2.3"},
		// The client opens a quoted string its proxy's element would fall
		// into if the header were read from the left.
		{"Forwarded, client's open quote", proxies, "Forwarded", "10.1.2.3:80", []string{`for="192.0.2.66, for=203.0.113.1`}, "203.0.113.1"},
		{"Forwarded, quoted comma and escaped quote", proxies, "Forwarded", "10.1.2.3:80", []string{`for=192.0.2.66;x="a,\"b", for=203.0.113.1`}, "203.0.113.1"},
		{"Forwarded, X-Forwarded-For not read", proxies, "Forwarded", "10.1.2.3:80", nil, "10.1.2.3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := newGuard(t, throttle.GuardConfig{TrustedProxies: tc.trusted, ProxyHeader: tc.header})
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.peer
			h := tc.header
			if h == "" {
				h = "X-Forwarded-For"
			}
			for _, v := range tc.values {
				r.Header.Add(h, v)
			}
			if tc.name == "Forwarded, X-Forwarded-For not read" {
				r.Header.Set("X-Forwarded-For", "203.0.113.1")
			}
			got := g.ClientAddr(r)
			if (tc.want == "" && got.IsValid()) || (tc.want != "" && got.String() != tc.want) {
				t.Fatalf("ClientAddr = %v, want %q", got, tc.want)
			}
		})
	}
}

func TestNewGuardNormalizesTrustedProxies(t *testing.T) {
	t.Parallel()
	g := newGuard(t, throttle.GuardConfig{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("::ffff:10.0.0.0/104")}})
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.1.2.3:80"
	r.Header.Set("X-Forwarded-For", "203.0.113.1")
	if got := g.ClientAddr(r); got.String() != "203.0.113.1" {
		t.Fatalf("a mapped /104 does not trust 10.1.2.3: ClientAddr = %v", got)
	}
}

// FuzzClientAddr feeds arbitrary forwarding headers from behind a trusted
// proxy. Nothing may panic, and the answer is always the proxy or an
// address that appears in the header, never a trusted address when an
// untrusted one follows it.
func FuzzClientAddr(f *testing.F) {
	for _, s := range []string{
		"203.0.113.1", "192.0.2.66, 203.0.113.1, 10.0.0.7", `for="[2001:db8::1]:80";proto=https, for=10.0.0.2`,
		`for="x, for=1.2.3.4`, `\\\"`, ",,,", "[::1", "[::1]:x:y", "unknown",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	xff := newGuard(f, throttle.GuardConfig{TrustedProxies: trusted})
	fwd := newGuard(f, throttle.GuardConfig{TrustedProxies: trusted, ProxyHeader: "Forwarded"})
	f.Fuzz(func(t *testing.T, header string, forwarded bool) {
		g, name := xff, "X-Forwarded-For"
		if forwarded {
			g, name = fwd, "Forwarded"
		}
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = "10.0.0.1:80"
		r.Header.Set(name, header)
		got := g.ClientAddr(r)
		if !got.IsValid() {
			t.Fatalf("ClientAddr(%q) is the zero Addr behind a valid proxy", header)
		}
		if got.String() != "10.0.0.1" && !looselyIn(header, got) {
			t.Fatalf("ClientAddr(%q) = %v, which is neither the proxy nor in the header", header, got)
		}
	})
}

// looselyIn reports whether some token of s parses as a.
func looselyIn(s string, a netip.Addr) bool {
	for _, tok := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(" \t,;=\"[]\\", r) }) {
		for _, cand := range []string{tok, strings.Split(tok, "%")[0]} {
			if b, err := netip.ParseAddr(cand); err == nil && b.Unmap().WithZone("") == a {
				return true
			}
			if ap, err := netip.ParseAddrPort(cand); err == nil && ap.Addr().Unmap() == a {
				return true
			}
		}
		if i := strings.LastIndexByte(tok, ':'); i > 0 {
			if b, err := netip.ParseAddr(tok[:i]); err == nil && b.Unmap() == a {
				return true
			}
		}
	}
	return false
}
