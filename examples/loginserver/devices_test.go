package main

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestDeviceLabelNamesBrowserAndOS(t *testing.T) {
	t.Parallel()
	for ua, want := range map[string]string{
		"": "Unknown device",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36 Edg/140.0.0.0": "Edge on Windows",
		"Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0":                                                        "Firefox on Linux",
		"Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0 Mobile Safari/537.36":                      "Chrome on Android",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15":            "Safari on macOS",
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36":                 "Headless Chrome on Linux",
		"curl/8.5.0":         "curl",
		"Go-http-client/1.1": "Go-http-client",
	} {
		if got := deviceLabel(ua); got != want {
			t.Errorf("deviceLabel(%q) = %q, want %q", ua, got, want)
		}
	}
}

func TestClientNetworkIsCoarse(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for remote, want := range map[string]string{
		"192.0.2.77:1234":           "192.0.2.0/24",
		"[::ffff:192.0.2.77]:1234":  "192.0.2.0/24",
		"[2001:db8:a:b:c::1]:443":   "2001:db8:a::/48",
		"127.0.0.1:80":              "loopback",
		"[::1]:80":                  "loopback",
		"garbage":                   "",
		"[fe80::1%eth0]:80":         "fe80::/48",
		"10.1.2.3:9":                "10.1.2.0/24",
		"[2001:db8:ffff:1::2]:8080": "2001:db8:ffff::/48",
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		if got := e.app.clientNetwork(r); got != want {
			t.Errorf("clientNetwork(%q) = %q, want %q", remote, got, want)
		}
	}
}

// Behind a trusted proxy the network is the forwarded client's; a header
// from any other peer is ignored.
func TestClientNetworkBehindTrustedProxy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *appConfig) { c.Throttle.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")} })
	for _, tc := range []struct{ remote, forwarded, want string }{
		{"10.0.0.5:1234", "198.51.100.7", "198.51.100.0/24"},
		{"10.0.0.5:1234", "198.51.100.7, 10.0.0.9", "198.51.100.0/24"},
		{"10.0.0.5:1234", "", "10.0.0.0/24"},
		{"192.0.2.77:1234", "198.51.100.7", "192.0.2.0/24"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.remote
		if tc.forwarded != "" {
			r.Header.Set("X-Forwarded-For", tc.forwarded)
		}
		if got := e.app.clientNetwork(r); got != tc.want {
			t.Errorf("clientNetwork(%s, X-Forwarded-For %q) = %q, want %q", tc.remote, tc.forwarded, got, tc.want)
		}
	}
}

func TestLocationLabelIsRelativeToTheViewer(t *testing.T) {
	t.Parallel()
	tests := []struct{ from, viewer, want string }{
		{"192.0.2.0/24", "192.0.2.0/24", "this network"},
		{"192.0.2.0/24", "198.51.100.0/24", "192.0.2.x network"},
		{"2001:db8:a::/48", "192.0.2.0/24", "2001:db8:a::/48 network"},
		{"loopback", "loopback", "this computer"},
		{"loopback", "192.0.2.0/24", "the server's own computer"},
		{"", "", "an unknown network"},
		{"", "192.0.2.0/24", "an unknown network"},
		{"not a prefix", "192.0.2.0/24", "an unknown network"},
	}
	for _, tc := range tests {
		if got := locationLabel(tc.from, tc.viewer); got != tc.want {
			t.Errorf("locationLabel(%q, %q) = %q, want %q", tc.from, tc.viewer, got, tc.want)
		}
	}
}
