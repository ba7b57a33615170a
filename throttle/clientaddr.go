package throttle

import (
	"net/http"
	"net/netip"
	"strings"
)

// maxHops bounds how many forwarding hops ClientAddr reads from the right of
// a header, so a long header costs no more than a short one.
const maxHops = 20

// ClientAddr returns the address of the client that sent r, the one the
// guard counts attempts by.
//
// It is the peer's address (r.RemoteAddr) unless the peer is one of
// TrustedProxies. Then it is read from the ProxyHeader, right to left: the
// first address that is not a trusted proxy is the client, because
// everything to its left was written by the client itself. If every hop is
// trusted, it is the left-most one; if a hop does not parse ("unknown", an
// obfuscated name), it is the trusted hop that wrote it. A header from a
// peer that is not a trusted proxy is never read.
//
// IPv4-mapped IPv6 addresses are returned as IPv4, without zones. The zero
// Addr means the peer address did not parse (a Unix socket, a test's
// RemoteAddr); all such clients share one budget. Cost: a parse of
// RemoteAddr, and of at most 20 hops of the header behind a trusted proxy.
func (g *Guard) ClientAddr(r *http.Request) netip.Addr {
	return clientAddr(r, g.proxies, g.proxyHeader)
}

func clientAddr(r *http.Request, trusted []netip.Prefix, header string) netip.Addr {
	peer := parsePeer(r.RemoteAddr)
	if !peer.IsValid() || !contains(trusted, peer) {
		return peer
	}
	forwarded := header == "Forwarded"
	values := r.Header.Values(header)
	last, hops := peer, 0
	for i := len(values) - 1; i >= 0; i-- {
		line := values[i]
		for line != "" {
			var hop string
			if forwarded {
				line, hop = cutLastForwarded(line)
				hop = forwardedFor(hop)
			} else if j := strings.LastIndexByte(line, ','); j >= 0 {
				line, hop = line[:j], line[j+1:]
			} else {
				line, hop = "", line
			}
			hop = strings.Trim(hop, " \t") // OWS is space and tab only
			if hop == "" && !forwarded {
				continue // "a, , b": an empty list element, as RFC 9110 allows
			}
			if hops++; hops > maxHops {
				return last
			}
			a, ok := parseNode(hop)
			switch {
			case !ok:
				return last
			case !contains(trusted, a):
				return a
			}
			last = a
		}
	}
	return last
}

func contains(prefixes []netip.Prefix, a netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parsePeer parses r.RemoteAddr: "ip:port", "[ipv6]:port" or a bare IP.
func parsePeer(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return normalize(ap.Addr())
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return normalize(a)
	}
	return netip.Addr{}
}

func normalize(a netip.Addr) netip.Addr { return a.Unmap().WithZone("") }

// parseNode parses one hop: "192.0.2.1", "192.0.2.1:80", "2001:db8::1",
// "[2001:db8::1]" or "[2001:db8::1]:80". Anything else ("unknown",
// "_hidden", a host name) is not an address.
func parseNode(s string) (netip.Addr, bool) {
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return netip.Addr{}, false
		}
		if rest := s[end+1:]; rest != "" && !validPort(rest) {
			return netip.Addr{}, false
		}
		a, err := netip.ParseAddr(s[1:end])
		if err != nil || !a.Is6() {
			return netip.Addr{}, false
		}
		return normalize(a), true
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return normalize(a), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil && ap.Addr().Is4() {
		return normalize(ap.Addr()), true
	}
	return netip.Addr{}, false
}

// validPort reports whether s is ":" and a port: digits, or an obfuscated
// port ("_abc") as RFC 7239 allows.
func validPort(s string) bool {
	if len(s) < 2 || s[0] != ':' {
		return false
	}
	for _, c := range []byte(s[1:]) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// cutLastForwarded splits the last element off a Forwarded header line
// (RFC 7239: elements separated by commas outside quoted strings), scanning
// from the right so that what a client wrote on the left cannot change how
// the elements its proxies appended are read.
func cutLastForwarded(s string) (rest, elem string) {
	quoted := false
	for i := len(s) - 1; i >= 0; i-- {
		switch s[i] {
		case '"':
			if !escaped(s, i) {
				quoted = !quoted
			}
		case ',':
			if !quoted {
				return s[:i], s[i+1:]
			}
		}
	}
	return "", s
}

// escaped reports whether s[i] follows an odd number of backslashes. Each
// run of backslashes is read by one call at most, so a scan stays linear.
func escaped(s string, i int) bool {
	n := 0
	for j := i - 1; j >= 0 && s[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}

// forwardedFor returns the value of the for= parameter of one Forwarded
// element, unquoted, or "" when there is none or it is malformed.
func forwardedFor(elem string) string {
	for elem != "" {
		var pair string
		pair, elem = cutPair(elem)
		name, value, ok := strings.Cut(strings.Trim(pair, " \t"), "=")
		if !ok || !strings.EqualFold(strings.Trim(name, " \t"), "for") {
			continue
		}
		value = strings.Trim(value, " \t")
		if !strings.HasPrefix(value, `"`) {
			return value
		}
		if strings.Contains(value, `\`) {
			// A proxy never needs to escape a character of an address; a
			// value that does was not written by one.
			return ""
		}
		return unquote(value)
	}
	return ""
}

// cutPair splits the first ";"-separated pair, outside quoted strings, off
// an element.
func cutPair(s string) (pair, rest string) {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if quoted {
				i++
			}
		case '"':
			quoted = !quoted
		case ';':
			if !quoted {
				return s[:i], s[i+1:]
			}
		}
	}
	return s, ""
}

// unquote decodes a quoted-string ("..." with backslash escapes), or
// returns "" if s is not exactly one.
func unquote(s string) string {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return ""
	}
	var b strings.Builder
	for i := 1; i < len(s)-1; i++ {
		c := s[i]
		switch c {
		case '\\':
			i++
			if i == len(s)-1 {
				return ""
			}
			c = s[i]
		case '"':
			return ""
		}
		b.WriteByte(c)
	}
	return b.String()
}

// addrKey is the part of a throttle key that names a client address: an
// IPv4 address, or the /64 of an IPv6 one (one subscriber usually has a
// whole /64, so counting single IPv6 addresses would count nothing).
func addrKey(a netip.Addr) string {
	switch {
	case !a.IsValid():
		return "?"
	case a.Is4():
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}
