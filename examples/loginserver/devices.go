package main

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// Session values that describe the device, saved at sign-in and shown in the
// sessions list.
const (
	valueUserAgent = "ua"   // the user agent, cut to maxUserAgent bytes
	valueNetwork   = "from" // the client's coarse network (app.clientNetwork)
)

// maxUserAgent caps the user agent kept in the session for the devices list.
const maxUserAgent = 256

// deviceLabel turns a user agent into "Firefox on Windows". It is a rough
// guess for display only; the full user agent is shown on hover.
func deviceLabel(ua string) string {
	if ua == "" {
		return "Unknown device"
	}
	browser := ""
	for _, b := range []struct{ token, name string }{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"},
		{"HeadlessChrome/", "Headless Chrome"}, {"Chrome/", "Chrome"}, {"Safari/", "Safari"},
	} {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	if browser == "" {
		// A non-browser client such as "curl/8.5.0": its product name.
		name, _, _ := strings.Cut(ua, "/")
		name, _, _ = strings.Cut(name, " ")
		return truncate(name, 40)
	}
	for _, o := range []struct{ token, name string }{
		{"Windows", "Windows"}, {"Android", "Android"}, {"iPhone", "iOS"}, {"iPad", "iPadOS"},
		{"CrOS", "ChromeOS"}, {"Mac OS X", "macOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, o.token) {
			return browser + " on " + o.name
		}
	}
	return browser
}

// clientNetwork is where a request comes from, coarsely enough to show and
// to log: the network of the client address the throttle counts by
// (Guard.ClientAddr: the peer, or behind a trusted proxy the address it
// forwarded). See networkOf.
func (a *app) clientNetwork(r *http.Request) string {
	return networkOf(a.guard.ClientAddr(r))
}

// networkOf is an address's coarse network: the IPv4 /24 ("192.0.2.0/24"),
// the IPv6 /48, or "loopback"; "" for the zero Addr (a peer address that
// did not parse).
func networkOf(ip netip.Addr) string {
	if !ip.IsValid() {
		return ""
	}
	ip = ip.Unmap()
	bits := 48
	switch {
	case ip.IsLoopback():
		return "loopback"
	case ip.Is4():
		bits = 24
	}
	p, err := ip.Prefix(bits)
	if err != nil {
		return ""
	}
	return p.String()
}

// locationLabel describes the network a session signed in from, as seen by
// a viewer on network viewer: "this computer", "this network",
// "192.0.2.x network", "2001:db8:1::/48 network". A GeoIP lookup could say
// "near Lyon" instead; this example keeps to what the address shows.
func locationLabel(from, viewer string) string {
	switch {
	case from == "loopback" && viewer == "loopback":
		return "this computer"
	case from == "loopback":
		return "the server's own computer"
	case from != "" && from == viewer:
		return "this network"
	}
	p, err := netip.ParsePrefix(from)
	if err != nil {
		return "an unknown network"
	}
	if p.Addr().Is4() && p.Bits() == 24 {
		a := p.Addr().As4()
		return fmt.Sprintf("%d.%d.%d.x network", a[0], a[1], a[2])
	}
	return p.String() + " network"
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
