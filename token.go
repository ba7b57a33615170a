package session

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash/maphash"
	"math"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gorilla/securecookie"
)

// storeKey is the store key of a token: hex SHA-256, so that the store never
// holds a usable token.
func storeKey(token []byte) string {
	sum := sha256.Sum256(token)
	var buf [2 * sha256.Size]byte
	hex.Encode(buf[:], sum[:])
	return string(buf[:])
}

const tokenLen = 32

func newToken() []byte {
	t := make([]byte, tokenLen)
	rand.Read(t)
	return t
}

func publicID(key string) string {
	if key == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:8])
}

// signer is a KeyRing bound to one Manager's cookie name and maximum age: one
// gorilla/securecookie codec per key (HMAC-SHA256 over name, timestamp and
// value, compared in constant time), and a small cache of recently verified
// values.
type signer struct {
	name     string
	codecs   []*securecookie.SecureCookie
	macs     []macPool // one per codec: the forged-value check (macIndex)
	namePipe []byte    // name + "|", what the MAC covers first
	seed     maphash.Seed
	cache    [verifiedSlots]atomic.Pointer[verifiedValue]
}

// The verified-value cache spares a session's every request from repeating
// the securecookie decode (base64, HMAC setup and check: about half of an
// authenticated read). It is keyed by a seeded maphash of the cookie value
// (a few nanoseconds, where SHA-256 of a cookie costs about 150) and each
// entry holds the value that verified, which a lookup compares in full, in
// constant time: only a value byte for byte equal to one that verified is
// answered from the cache. Entries live for verifiedTTL.
//
// It is direct-mapped: a value's hash picks one of verifiedSlots slots, and
// a newly verified value replaces whatever was there. A lookup is one atomic
// load and writes no shared memory, so requests on several cores with the
// same cookie do not contend for it (a read-locked mutex is a cache line
// every core writes); the memory is fixed, whatever a flood of distinct
// cookies does; two busy cookies in one slot only cost each other a decode.
const (
	verifiedSlots = 4096 // a power of two
	verifiedTTL   = time.Minute
)

// verifiedValue is one entry of the cache, never changed once stored:
// verify hands out the entry itself, and a request's candidate keeps it
// (its token and store key) without a copy.
type verifiedValue struct {
	sum      uint64 // maphash of value: the slot's tag
	value    string // the cookie value that verified (a copy)
	token    [tokenLen]byte
	storeKey string // storeKey(token), computed once
	keyIndex int
	until    int64 // monotonic (monoNow)
}

// newSigner builds the codecs. maxAge rejects tokens signed longer ago than
// the longest session can live, before any store I/O; it replaces the
// codec's 30-day default, which would silently cap longer sessions.
func (k *KeyRing) newSigner(name string, maxAge time.Duration) *signer {
	s := &signer{name: name, codecs: make([]*securecookie.SecureCookie, len(k.hashKeys)), macs: make([]macPool, len(k.hashKeys)), namePipe: []byte(name + "|"), seed: maphash.MakeSeed()}
	for i, hk := range k.hashKeys {
		s.macs[i].key = hk
		// No block key: with one, Encode would encrypt the token in
		// place, and sign is handed tokens that are the cache's shared
		// entries (Session.token); TestRequestsNeverWriteTheCachedVerifications.
		c := securecookie.New(hk, nil)
		c.SetSerializer(securecookie.NopEncoder{})
		c.MaxLength(maxCookieLen)
		c.MaxAge(int(maxAge / time.Second))
		s.codecs[i] = c
	}
	return s
}

// sign returns the signed form of token under the first key.
func (s *signer) sign(token []byte) (string, error) {
	return s.codecs[0].Encode(s.name, token)
}

// verify checks value against every key, the signing key first, and returns
// the cache's entry for it: the token, its store key and the index of the
// key that verified it (0 is the current key), which must not be changed. A value verified within the last minute is answered from
// the cache. value must be at most maxCookieLen bytes.
func (s *signer) verify(value string) (*verifiedValue, bool) {
	return s.verifyAt(value, monoNow())
}

// verifyUnaged is verify without the check of a cached entry's age: v.until
// says until when the answer holds (monotonic), and the caller compares it
// with a clock reading it takes anyway (storeBackend.load), which spares the
// request a clock read of its own. A value decoded here holds for
// verifiedTTL.
func (s *signer) verifyUnaged(value string) (*verifiedValue, bool) {
	return s.verifyAt(value, math.MinInt64)
}

// verifyAt is verify with a cached entry taken while now (monotonic) is
// before its until.
func (s *signer) verifyAt(value string, now int64) (*verifiedValue, bool) {
	if len(value) > maxCookieLen {
		return nil, false
	}
	sum := maphash.String(s.seed, value)
	if e := s.cache[sum&(verifiedSlots-1)].Load(); e != nil && e.sum == sum && constantTimeEqual(e.value, value) && now < e.until {
		return e, true
	}
	return s.decode(value, sum)
}

// decode verifies value in full and caches it under sum, its maphash. A
// value whose MAC no key produced (a forged or damaged cookie) stops at
// macIndex, with no allocation; one that passes is decoded by securecookie,
// which checks it all again. A value that fails and still has an entry (it
// verified once and has since grown older than the cookie may live) loses
// it, so verifyUnaged stops taking it on its stale entry's word.
func (s *signer) decode(value string, sum uint64) (*verifiedValue, bool) {
	slot := &s.cache[sum&(verifiedSlots-1)]
	if i := s.macIndex(value); i >= 0 {
		var b []byte
		if s.codecs[i].Decode(s.name, value, &b) == nil && len(b) == tokenLen {
			e := &verifiedValue{sum: sum, value: strings.Clone(value), token: [tokenLen]byte(b), storeKey: storeKey(b), keyIndex: i, until: monoNow() + int64(verifiedTTL)}
			slot.Store(e)
			return e, true
		}
		if e := slot.Load(); e != nil && e.sum == sum && constantTimeEqual(e.value, value) {
			slot.CompareAndSwap(e, nil)
		}
	}
	return nil, false
}

// constantTimeEqual reports whether a and b are equal, in time that depends
// on their lengths only: eight bytes at a time, with no branch on their
// contents (subtle.ConstantTimeCompare goes a byte at a time: on a
// 120-byte cookie value, 19 ns here against its 39).
func constantTimeEqual[T string | []byte](a, b T) bool {
	if len(a) != len(b) {
		return false
	}
	var d uint64
	i := 0
	for ; i+8 <= len(a); i += 8 {
		d |= load64(a[i:]) ^ load64(b[i:])
	}
	for ; i < len(a); i++ {
		d |= uint64(a[i] ^ b[i])
	}
	return d == 0
}

// load64 is the first eight bytes of s, little-endian.
func load64[T string | []byte](s T) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// deadTokens remembers tokens whose records are gone (a read found none, or
// Logout deleted them), so that presenting one again costs no store read.
// A token never comes back to life: Login always makes a new one, and a
// Store's ErrNotFound is final for a key. A token that a Login or a renewal
// replaced is remembered with the time it was replaced, so that a request
// sent with it just before the browser got the new cookie does not delete
// that cookie (see Manager.replacedLately).
//
// Like the verified-value cache it is direct-mapped: a token's first bytes
// (it is random) pick one of deadSlots slots, and a newly dead token
// replaces whatever was there, which only costs the forgotten token one
// more read. Every request with a token asks, and few add: asking is one
// atomic load, with no lock and no shared cache line written.
type deadTokens struct {
	slots [deadSlots]atomic.Pointer[deadToken]
}

// deadToken is an entry of deadTokens.
type deadToken struct {
	token      [tokenLen]byte
	replacedAt int64 // the Manager's clock (Unix ns) when a Login or renewal replaced it; 0 when it ended otherwise
}

const deadSlots = 8192 // a power of two

func (d *deadTokens) slot(token [tokenLen]byte) *atomic.Pointer[deadToken] {
	return &d.slots[binary.LittleEndian.Uint16(token[:])&(deadSlots-1)]
}

// add remembers token as ended. It keeps what it knew of a token replaced
// before: a late request finding its record gone says nothing new.
func (d *deadTokens) add(token [tokenLen]byte) {
	slot := d.slot(token)
	if p := slot.Load(); p == nil || p.token != token {
		slot.Store(&deadToken{token: token})
	}
}

// addReplaced remembers token as replaced by a Login or a renewal at at
// (the Manager's clock).
func (d *deadTokens) addReplaced(token [tokenLen]byte, at time.Time) {
	d.slot(token).Store(&deadToken{token: token, replacedAt: at.UnixNano()})
}

// has reports whether token is remembered as ended.
func (d *deadTokens) has(token [tokenLen]byte) bool {
	dead, _ := d.lookup(token)
	return dead
}

// lookup reports whether token is remembered as ended and, when a Login or
// a renewal replaced it, when (Unix ns; 0 otherwise).
func (d *deadTokens) lookup(token [tokenLen]byte) (dead bool, replacedAt int64) {
	p := d.slot(token).Load()
	if p == nil || p.token != token {
		return false, 0
	}
	return true, p.replacedAt
}

// successorKey is the store key of the marker a renewal of the session
// under key leaves (see Manager.renew): a hash, so it is not the store key
// of any token.
func successorKey(key string) string {
	h := sha256.New()
	h.Write([]byte("successor\x00"))
	h.Write([]byte(key))
	var buf [2 * sha256.Size]byte
	hex.Encode(buf[:], h.Sum(nil))
	return string(buf[:])
}
