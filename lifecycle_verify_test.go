package session

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"hash/maphash"
	"sync"
	"testing"
	"time"
)

// signedAt signs token as securecookie does, with timestamp ts (Unix
// seconds): a cookie value that verified once and has since grown older
// than the cookie may live.
func signedAt(h *harness, token [tokenLen]byte, ts int64) string {
	name := h.m.signer.name
	signed := fmt.Sprintf("%s|%d|%s", name, ts, base64.URLEncoding.EncodeToString(token[:]))
	mac := hmac.New(sha256.New, h.m.signer.macs[0].key)
	mac.Write([]byte(signed))
	return base64.URLEncoding.EncodeToString(append([]byte(signed[len(name)+1:]+"|"), mac.Sum(nil)...))
}

// A cookie that verified once, more than verifiedTTL ago, and is now past
// its maximum age still has its cache entry, which the Middleware takes
// without its age. It never signs a request in, is reported as expired,
// loses its entry on the first request that finds it stale, and never
// makes a request anonymous that carries a valid token beside it.
func TestACachedCookiePastItsMaximumAgeIsRejected(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var rejected []string
	h := newHarness(t, func(c *Config) {
		c.Observe = func(e Event) {
			if e.Name == evRejected {
				mu.Lock()
				rejected = append(rejected, e.Reason)
				mu.Unlock()
			}
		}
	})
	alice, bob := h.login("alice"), h.login("bob")
	va, _ := h.m.signer.verify(alice)
	expired := signedAt(h, va.token, time.Now().Add(-365*24*time.Hour).Unix())
	var b []byte
	if err := h.m.signer.codecs[0].Decode(h.m.signer.name, expired, &b); err == nil {
		t.Fatal("the crafted value is not past its maximum age")
	}
	sum := maphash.String(h.m.signer.seed, expired)
	slot := &h.m.signer.cache[sum&(verifiedSlots-1)]
	plant := func() {
		slot.Store(&verifiedValue{sum: sum, value: expired, token: va.token, storeKey: va.storeKey, until: monoNow() - 1})
	}
	for _, tc := range []struct {
		name    string
		cookies []string
		want    string
	}{
		{"alone", []string{expired}, ""},
		{"before a valid cookie", []string{expired, bob}, "bob"},
		{"after a valid cookie", []string{bob, expired}, "bob"},
	} {
		plant()
		mu.Lock()
		rejected = nil
		mu.Unlock()
		if got := h.whoami(tc.cookies...); got != tc.want {
			t.Errorf("%s: whoami = %q, want %q", tc.name, got, tc.want)
		}
		mu.Lock()
		if len(rejected) != 1 || rejected[0] != "expired" {
			t.Errorf("%s: rejected events %q, want one \"expired\"", tc.name, rejected)
		}
		mu.Unlock()
		if e := slot.Load(); e != nil && e.value == expired {
			t.Errorf("%s: the expired value keeps its cache entry", tc.name)
		}
	}
}
