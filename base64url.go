package session

// decodeBase64URL decodes src, padded base64url (RFC 4648 §5, as
// base64.URLEncoding writes it), into dst, which must hold
// len(src)/4*3 bytes; it reports the length and whether src was valid. It
// accepts exactly what base64.URLEncoding.Decode accepts, with the same
// result, except line breaks, which that skips and this refuses: a cookie
// value never holds one (net/http drops a cookie whose value has a control
// byte), and macIndex leaves a value it refuses to encoding/base64. It is
// the forged-value check's first step: a table lookup per
// character and no copy of src, about half the time of Decode, which reads
// its input as []byte and so needs the string copied first.
func decodeBase64URL(dst []byte, src string) (int, bool) {
	if len(src)%4 != 0 {
		return 0, false
	}
	if len(src) == 0 {
		return 0, true
	}
	body := len(src) - 4
	_ = dst[body/4*3+2]
	n := 0
	for i := 0; i < body; i += 4 {
		a, b, c, d := base64URLValue[src[i]], base64URLValue[src[i+1]], base64URLValue[src[i+2]], base64URLValue[src[i+3]]
		if (a|b|c|d)&0xc0 != 0 {
			return 0, false
		}
		v := uint32(a)<<18 | uint32(b)<<12 | uint32(c)<<6 | uint32(d)
		dst[n], dst[n+1], dst[n+2] = byte(v>>16), byte(v>>8), byte(v)
		n += 3
	}
	// The last quantum: "xxxx", "xxx=" or "xx==".
	last := src[body:]
	a, b := base64URLValue[last[0]], base64URLValue[last[1]]
	if (a|b)&0xc0 != 0 {
		return 0, false
	}
	v := uint32(a)<<18 | uint32(b)<<12
	switch {
	case last[2] == '=' && last[3] == '=':
		dst[n] = byte(v >> 16)
		return n + 1, true
	case last[3] == '=':
		c := base64URLValue[last[2]]
		if c&0xc0 != 0 {
			return 0, false
		}
		v |= uint32(c) << 6
		dst[n], dst[n+1] = byte(v>>16), byte(v>>8)
		return n + 2, true
	default:
		c, d := base64URLValue[last[2]], base64URLValue[last[3]]
		if (c|d)&0xc0 != 0 {
			return 0, false
		}
		v |= uint32(c)<<6 | uint32(d)
		dst[n], dst[n+1], dst[n+2] = byte(v>>16), byte(v>>8), byte(v)
		return n + 3, true
	}
}

// base64URLValue maps a byte to its base64url value, or 0xff for a byte
// outside the alphabet ('=' included).
var base64URLValue = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range len(alphabet) {
		t[alphabet[i]] = byte(i)
	}
	return t
}()
