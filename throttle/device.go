package throttle

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"slices"
	"strings"
	"time"
)

// A device cookie says "this browser signed in to this account before". It
// holds up to four entries, one per account signed in from the browser,
// newest first, joined by ".". Each entry is unpadded base64url of
//
//	version (1 byte, 1) | issued (8 bytes, Unix seconds, big-endian) | device ID (16 random bytes) | MAC (32 bytes)
//
// where MAC is HMAC-SHA256, under a key derived from one of the guard's
// DeviceKeys, of the cookie name, a zero byte, the first 25 bytes and the
// username. The username is not in the cookie: an entry is checked against
// the username a sign-in names, so it proves nothing about any other
// account and tells nobody which account it belongs to.
const (
	deviceVersion      = 1
	deviceIDLen        = 16
	devicePayloadLen   = 1 + 8 + deviceIDLen
	deviceEntryLen     = devicePayloadLen + sha256.Size
	maxDeviceEntries   = 4
	maxDeviceCookieLen = 1024
	// deviceSkew is how far in the future an entry's issue time may be, for
	// instances whose clocks differ a little.
	deviceSkew = 5 * time.Minute
	// deviceKeyLabel separates the device cookie's keys from every other
	// use of the keys the application passes.
	deviceKeyLabel = "github.com/sessionauth/session/throttle device cookie v1"
)

type deviceID [deviceIDLen]byte

func newDeviceID() deviceID {
	var id deviceID
	rand.Read(id[:]) // never returns an error; the program crashes if the OS has no randomness
	return id
}

func (id deviceID) key() string { return "d:" + base64.RawURLEncoding.EncodeToString(id[:]) }

type deviceCookie struct {
	name     string
	keys     [][]byte // derived; keys[0] signs
	lifetime time.Duration
	secure   bool
}

func deriveDeviceKey(k []byte) []byte {
	m := hmac.New(sha256.New, k)
	m.Write([]byte(deviceKeyLabel))
	return m.Sum(nil)
}

func (c *deviceCookie) mac(key, payload []byte, username string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(c.name))
	m.Write([]byte{0})
	m.Write(payload)
	m.Write([]byte(username))
	return m.Sum(nil)
}

// entries returns the well-formed, unexpired entries of r's device cookies,
// decoded, at most maxDeviceEntries of each cookie. Oversized cookies are
// ignored.
func (c *deviceCookie) entries(r *http.Request, now time.Time) [][]byte {
	var out [][]byte
	for _, ck := range r.CookiesNamed(c.name) {
		if len(ck.Value) > maxDeviceCookieLen {
			continue
		}
		v := ck.Value
		for range maxDeviceEntries {
			if v == "" {
				break
			}
			var part string
			part, v, _ = strings.Cut(v, ".")
			e, err := base64.RawURLEncoding.DecodeString(part)
			if err != nil || len(e) != deviceEntryLen || e[0] != deviceVersion {
				continue
			}
			issued := time.Unix(int64(binary.BigEndian.Uint64(e[1:9])), 0)
			if issued.After(now.Add(deviceSkew)) || !now.Before(issued.Add(c.lifetime)) {
				continue
			}
			out = append(out, e)
		}
	}
	return out
}

// owner reports whether entry e was issued to username under one of the
// keys.
func (c *deviceCookie) owner(e []byte, username string) bool {
	for _, k := range c.keys {
		if hmac.Equal(e[devicePayloadLen:], c.mac(k, e[:devicePayloadLen], username)) {
			return true
		}
	}
	return false
}

// find returns the device ID of an entry of r's device cookies that was
// issued to username and has not expired. Cost: one HMAC per entry and key,
// at most 4 entries per cookie.
func (c *deviceCookie) find(r *http.Request, username string, now time.Time) (deviceID, bool) {
	for _, e := range c.entries(r, now) {
		if c.owner(e, username) {
			return deviceID(e[9:devicePayloadLen]), true
		}
	}
	return deviceID{}, false
}

// set writes the device cookie to w: a new entry for username and id, issued
// now under the first key, then the other accounts' entries from r, up to
// four in all. Entries of username under an older key are dropped, so key
// rotation moves a browser to the new key at its next sign-in.
func (c *deviceCookie) set(w http.ResponseWriter, r *http.Request, username string, id deviceID, now time.Time) {
	e := make([]byte, deviceEntryLen)
	e[0] = deviceVersion
	binary.BigEndian.PutUint64(e[1:9], uint64(now.Unix()))
	copy(e[9:devicePayloadLen], id[:])
	copy(e[devicePayloadLen:], c.mac(c.keys[0], e[:devicePayloadLen], username))
	parts := []string{base64.RawURLEncoding.EncodeToString(e)}
	for _, old := range c.entries(r, now) {
		if len(parts) == maxDeviceEntries {
			break
		}
		if !c.owner(old, username) {
			parts = append(parts, base64.RawURLEncoding.EncodeToString(old))
		}
	}
	// As with the session cookie: no shared cache may keep a response
	// that sets it.
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	if !slices.Contains(h.Values("Vary"), "Cookie") {
		h.Add("Vary", "Cookie")
	}
	http.SetCookie(w, &http.Cookie{
		Name:     c.name,
		Value:    strings.Join(parts, "."),
		Path:     "/",
		MaxAge:   int(c.lifetime / time.Second),
		HttpOnly: true,
		Secure:   c.secure,
		SameSite: http.SameSiteStrictMode,
	})
}
