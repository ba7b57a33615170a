package session

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"sync"
)

// The forged-value check. A signed value is securecookie's format:
// base64url("date|base64url(token)|mac"), where mac is HMAC-SHA256 under a
// hash key of "name|date|base64url(token)". securecookie's Decode checks it
// with a new HMAC and several buffers per call, about twelve allocations;
// a request with a forged or damaged cookie pays that for nothing. macIndex
// does the same MAC check with an HMAC and buffers taken from a pool, and
// reads the base64 straight from the cookie's string (decodeBase64URL), so
// refusing such a value allocates nothing; a value it accepts still goes
// through Decode, which checks everything again, so this check can only
// turn a value away, never let one in that Decode would refuse.

// macPool holds the HMAC state of one hash key.
type macPool struct {
	key  []byte
	pool sync.Pool // of *macScratch
}

// macScratch is one HMAC and the buffers of one check, kept together so
// that nothing passed to the hash escapes to a fresh allocation.
type macScratch struct {
	h   hash.Hash
	in  [maxCookieLen]byte // the value, for encoding/base64 (see macIndex)
	raw [maxCookieLen / 4 * 3]byte
	sum [sha256.Size]byte
}

func (p *macPool) get() *macScratch {
	if m, ok := p.pool.Get().(*macScratch); ok {
		m.h.Reset()
		return m
	}
	return &macScratch{h: hmac.New(sha256.New, p.key)}
}

// macIndex returns the index of the key whose MAC value carries, or -1
// when none does (or value is not in the signed format). It checks only
// the MAC, not the timestamp or the token inside.
func (s *signer) macIndex(value string) int {
	if len(value) > maxCookieLen || len(s.macs) == 0 {
		return -1
	}
	m := s.macs[0].get()
	defer s.macs[0].pool.Put(m)
	dn, ok := decodeBase64URL(m.raw[:], value)
	if !ok {
		// Not plain base64url: encoding/base64 decides, as it does in
		// Decode, which skips line breaks; such values are rare (net/http
		// drops a cookie with a control byte), so they pay the copy.
		n := copy(m.in[:], value)
		var err error
		if dn, err = base64.URLEncoding.Decode(m.raw[:], m.in[:n]); err != nil {
			return -1
		}
	}
	raw := m.raw[:dn]
	// "date|value|mac": the MAC covers name|date|value.
	i := bytes.IndexByte(raw, '|')
	if i < 0 {
		return -1
	}
	j := bytes.IndexByte(raw[i+1:], '|')
	if j < 0 {
		return -1
	}
	signed, mac := raw[:i+1+j], raw[i+1+j+1:]
	for k := range s.macs {
		h, other := m.h, m
		if k > 0 {
			other = s.macs[k].get()
			h = other.h
		}
		h.Write(s.namePipe)
		h.Write(signed)
		ok := constantTimeEqual(h.Sum(m.sum[:0]), mac)
		if k > 0 {
			s.macs[k].pool.Put(other)
		}
		if ok {
			return k
		}
	}
	return -1
}
