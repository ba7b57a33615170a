package session

import (
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/chacha20poly1305"
)

// The cookie of a cookie-only session (Config.CookieOnly) is, before
// unpadded base64url:
//
//	byte      format, sealFormat
//	byte      key ID: which key of the ring sealed it
//	[24]byte  random nonce
//	...       the payload sealed with XChaCha20-Poly1305, and its 16-byte tag
//
// The associated data is the format byte, the key ID and the cookie name, so
// a value moved to a cookie of another name does not open. The payload:
//
//	[16]byte  session ID, random, new at every Login (Session.ID derives from it)
//	varint    idle deadline, Unix milliseconds
//	uvarint   length of the user ID, then the user ID ("" for anonymous)
//	...       a record, exactly as in Record.Data (record.go): flags,
//	          creation time, timeouts, last proof of identity, values
//
// XChaCha20-Poly1305 takes 192-bit random nonces, so any number of cookies
// can be sealed under one key without counting them, and it runs in constant
// time without hardware support.
const (
	sealFormat      = 1
	sealIDLen       = 16
	sealNonceLen    = chacha20poly1305.NonceSizeX
	sealHeaderLen   = 2 + sealNonceLen
	sealOverhead    = sealHeaderLen + chacha20poly1305.Overhead
	minSealedPlain  = sealIDLen + 1 + 1 + 2 + 1 + 1 + 1 + 1 // the smallest payload decodePayload accepts
	sealKeyIDInfo   = "github.com/sessionauth/session cookie-sealing key id v1"
	maxSetCookieLen = 4096 // what browsers keep of one cookie: name, value and attributes
)

// sealer seals and opens cookie-only sessions with the keys of one KeyRing,
// for one cookie name and set of attributes. It is immutable and safe for
// concurrent use.
type sealer struct {
	keys        []sealKey // ring order: keys[0] seals
	maxValueLen int       // the longest cookie value whose Set-Cookie fits maxSetCookieLen
}

type sealKey struct {
	id   byte
	aead cipher.AEAD
	ad   []byte // format, id, cookie name
}

// newSealer builds the AEADs of the ring for cookie, whose attributes (in
// their longest form: persistent, with Max-Age and Expires) leave the room
// for the value.
func (k *KeyRing) newSealer(cookie *CookieOptions) (*sealer, error) {
	attrs := len(cookie.cookie("", maxPersistentAge, time.Now()).String())
	s := &sealer{maxValueLen: maxSetCookieLen - attrs}
	// Room for a signed-in session with the longest user ID and no values.
	if s.encodedLen(payloadBound(string(make([]byte, maxUserIDLen)), string(make([]byte, maxAMRLen)), nil)) > s.maxValueLen {
		return nil, fmt.Errorf("%w: cookie: the cookie's attributes leave no room for a cookie-only session", ErrInvalidConfig)
	}
	for _, key := range k.sealKeys {
		aead, err := chacha20poly1305.NewX(key)
		if err != nil {
			return nil, fmt.Errorf("session: cookie-only sealing: %w", err)
		}
		id, err := hkdf.Key(sha256.New, key, nil, sealKeyIDInfo, 1)
		if err != nil {
			return nil, fmt.Errorf("session: cookie-only sealing: %w", err)
		}
		ad := append([]byte{sealFormat, id[0]}, cookie.Name...)
		s.keys = append(s.keys, sealKey{id: id[0], aead: aead, ad: ad})
	}
	return s, nil
}

// sealedSession is what a cookie-only session's cookie carries.
type sealedSession struct {
	id      []byte // sealIDLen bytes
	expires time.Time
	userID  []byte // so that opening a cookie allocates nothing for it
	header  recordHeader
	values  map[string]string // values to seal; when nil, raw is sealed as it is
	raw     []byte            // the record's values section (decoded: always set)
}

// newSessionID returns a random session ID for a cookie-only session.
func newSessionID() []byte {
	id := make([]byte, sealIDLen)
	rand.Read(id)
	return id
}

// sessionIDKey is the stand-in for a store key that a cookie-only session
// keeps in Session.key, from which Session.ID and log entries derive its
// public ID.
func sessionIDKey(id []byte) string { return hex.EncodeToString(id) }

// encode returns the payload.
func (p *sealedSession) encode() []byte {
	raw := p.raw
	if p.values != nil || raw == nil {
		raw = nil
	}
	rec := encodeRecord(p.header, p.values, raw)
	b := make([]byte, 0, sealIDLen+2*binary.MaxVarintLen64+len(p.userID)+len(rec))
	b = append(b, p.id...)
	b = binary.AppendVarint(b, p.expires.UnixMilli())
	b = binary.AppendUvarint(b, uint64(len(p.userID)))
	b = append(b, p.userID...)
	return append(b, rec...)
}

// decodePayload parses and checks a whole payload, without allocating: p
// points into b. It never panics; the sealed bytes are authentic, but it
// trusts them no more than a store's.
func decodePayload(b []byte) (p sealedSession, ok bool) {
	if len(b) < minSealedPlain {
		return p, false
	}
	p.id, b = b[:sealIDLen:sealIDLen], b[sealIDLen:]
	exp, n := binary.Varint(b)
	if n <= 0 {
		return p, false
	}
	b = b[n:]
	user, b, ok := readBytes(b)
	if !ok || len(user) > maxUserIDLen || !utf8.Valid(user) {
		return p, false
	}
	h, raw, err := decodeHeader(b)
	if err != nil || walkValues(raw, nil) != nil {
		return p, false
	}
	p.expires, p.userID, p.header, p.raw = time.UnixMilli(exp), user, h, raw
	return p, true
}

// pairLen is the encoded size of one value.
func pairLen(k, v string) int {
	return uvarintLen(len(k)) + len(k) + uvarintLen(len(v)) + len(v)
}

// authBound is at least the size of a record's proof fields with the
// methods amr (record.go): the offset of the auth time, at its longest,
// and the methods.
func authBound(amr string) int {
	return uvarintLen(int(maxDuration/time.Millisecond)) + uvarintLen(len(amr)) + len(amr)
}

func uvarintLen(n int) int {
	l := 1
	for ; n >= 0x80; n >>= 7 {
		l++
	}
	return l
}

// payloadBound is at least the payload's size for a session of userID with
// values and the proof methods amr, whatever its times and timeouts (they
// count at their longest).
func payloadBound(userID, amr string, values map[string]string) int {
	n := sealIDLen + binary.MaxVarintLen64 + uvarintLen(len(userID)) + len(userID) +
		2 + 3*binary.MaxVarintLen64 + authBound(amr) + binary.MaxVarintLen64
	for k, v := range values {
		n += pairLen(k, v)
	}
	return n
}

// encodedLen is the length of the cookie value that seals a payload of n
// bytes.
func (s *sealer) encodedLen(n int) int {
	return base64.RawURLEncoding.EncodedLen(sealOverhead + n)
}

// check returns an error wrapping ErrCookieTooLarge when a payload of n
// bytes would not fit in the cookie.
func (s *sealer) check(n int) error {
	if l := s.encodedLen(n); l > s.maxValueLen {
		return fmt.Errorf("%w: the session needs a %d-byte cookie value, at most %d fit", ErrCookieTooLarge, l, s.maxValueLen)
	}
	return nil
}

// checkSet is check for a session of userID with the proof methods amr and
// values once key is set to value.
func (s *sealer) checkSet(userID, amr string, values map[string]string, key, value string) error {
	n := payloadBound(userID, amr, values) + pairLen(key, value)
	if old, ok := values[key]; ok {
		n -= pairLen(key, old)
	}
	return s.check(n)
}

// seal returns the cookie value carrying p, sealed under the first key.
func (s *sealer) seal(p *sealedSession) (string, error) {
	plain := p.encode()
	if err := s.check(len(plain)); err != nil {
		return "", err
	}
	k := &s.keys[0]
	b := make([]byte, sealHeaderLen, sealOverhead+len(plain))
	b[0], b[1] = sealFormat, k.id
	rand.Read(b[2:sealHeaderLen])
	b = k.aead.Seal(b, b[2:sealHeaderLen], plain, k.ad)
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// open returns the session sealed in value, its payload (which p points
// into) and the index in the ring of the key that opened it (0 is the
// sealing key). Anything else — garbled,
// truncated, oversized, tampered with, sealed under a key the ring does not
// hold, for another cookie name, a signed token of the server-side mode —
// is !ok. It never panics. Cost: a base64 decode and, for a value whose key
// ID the ring knows, one AEAD open (rarely two: key IDs are one byte).
func (s *sealer) open(value string) (p sealedSession, plain []byte, keyIndex int, ok bool) {
	if len(value) < base64.RawURLEncoding.EncodedLen(sealOverhead+minSealedPlain) || len(value) > maxSetCookieLen {
		return p, nil, -1, false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(value)
	// The decoder skips \r and \n, so a long value can decode short.
	if err != nil || len(b) < sealOverhead+minSealedPlain || b[0] != sealFormat {
		return p, nil, -1, false
	}
	last := -1
	for i := range s.keys {
		if s.keys[i].id == b[1] {
			last = i
		}
	}
	nonce, sealed := b[2:sealHeaderLen], b[sealHeaderLen:]
	for i := 0; i <= last; i++ {
		k := &s.keys[i]
		if k.id != b[1] {
			continue
		}
		var dst []byte
		if i == last {
			dst = sealed[:0] // open in place: no other key will need the ciphertext
		}
		plain, err := k.aead.Open(dst, nonce, sealed, k.ad)
		if err != nil {
			continue
		}
		if p, ok = decodePayload(plain); !ok {
			return p, nil, -1, false
		}
		return p, plain, i, true
	}
	return p, nil, -1, false
}
