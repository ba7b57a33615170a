package session

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"hash/maphash"
	"net/http"
	"net/http/httptest"
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

// A request's token is the verification cache's entry, shared with every
// request that sends the same cookie: no request flow may write it
// (signing with an older key, renewing, logging out, a Bearer token, two
// copies of one token, entries past their minute), or one user's request
// would change another's session.
func TestRequestsNeverWriteTheCachedVerifications(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) {
		c.Bearer = true
		c.Keys, _ = NewKeyRing(testKeyA, testKeyB)
	})
	snapshot := map[*verifiedValue]verifiedValue{}
	remember := func() {
		for i := range h.m.signer.cache {
			if e := h.m.signer.cache[i].Load(); e != nil {
				if _, ok := snapshot[e]; !ok {
					snapshot[e] = *e
				}
			}
		}
	}
	unchanged := func(step string) {
		t.Helper()
		for e, was := range snapshot {
			if *e != was {
				t.Fatalf("%s: a cached verification changed from %+v to %+v", step, was, *e)
			}
		}
		// An entry made during the step: its store key was computed from
		// the token when it was stored.
		for i := range h.m.signer.cache {
			if e := h.m.signer.cache[i].Load(); e != nil && e.storeKey != storeKey(e.token[:]) {
				t.Fatalf("%s: a cached token changed after it was stored", step)
			}
		}
	}
	alice, bob := h.login("alice"), h.login("bob")
	oldKey, _ := NewKeyRing(testKeyB)
	bobOldKey, _ := oldKey.newSigner(h.m.signer.name, time.Hour).sign(mustToken(t, h, bob))
	aliceTwin := signedAt(h, [tokenLen]byte(mustToken(t, h, alice)), time.Now().Unix()-5)
	steps := []struct {
		name, method, target, bearer string
		cookies                      []string
	}{
		{"read", "GET", "/whoami", "", []string{alice}},
		{"write", "GET", "/set?k=a&v=b", "", []string{alice}},
		{"re-sign under the current key", "GET", "/set?k=a&v=c", "", []string{bobOldKey}},
		{"bearer", "GET", "/set?k=x&v=y", alice, nil},
		{"two copies of one token", "GET", "/set?k=t&v=y", "", []string{alice, aliceTwin}},
		{"renew", "POST", "/renew", "", []string{alice}},
		{"logout others", "POST", "/logout-others", "", []string{bob}},
		{"login over a session", "POST", "/login?user=carol", "", []string{bob}},
		{"logout", "POST", "/logout", "", []string{alice}},
		{"a dead token", "GET", "/set?k=a&v=b", "", []string{alice}},
	}
	for _, st := range steps {
		remember()
		r := httptest.NewRequest(st.method, st.target, nil)
		for _, c := range st.cookies {
			r.AddCookie(&http.Cookie{Name: h.m.cookie.Name, Value: c})
		}
		if st.bearer != "" {
			r.Header.Set("Authorization", "Bearer "+st.bearer)
		}
		h.app.ServeHTTP(httptest.NewRecorder(), r)
		unchanged(st.name)
	}
	// Entries past their minute: the load verifies again and takes the
	// new entry, leaving the old one as it was.
	dave := h.login("dave")
	for i := range h.m.signer.cache {
		if e := h.m.signer.cache[i].Load(); e != nil {
			stale := *e
			stale.until = monoNow() - 1
			h.m.signer.cache[i].Store(&stale)
		}
	}
	remember()
	if got := h.whoami(dave); got != "dave" {
		t.Fatalf("a cookie whose verification is past its minute reads as %q, want dave", got)
	}
	h.do("GET", "/set?k=z&v=1", dave)
	h.do("POST", "/renew", dave)
	unchanged("past the minute")
}
