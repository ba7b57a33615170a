package throttle_test

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sessionauth/session/throttle"
	"github.com/sessionauth/session/throttle/throttletest"
)

// known reports whether b's next sign-in as user counts as a known device.
func known(t *testing.T, g *throttle.Guard, b *browser, user string) bool {
	t.Helper()
	a, err := g.CheckLogin(b.request(), user)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Abandon()
	return a.KnownDevice()
}

func TestDeviceCookieAttributesAreSafeByDefault(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		cfg    throttle.GuardConfig
		cookie string
		secure bool
		maxAge int
	}{
		{"default", throttle.GuardConfig{}, "__Host-device", true, 365 * 24 * 3600},
		{"plain HTTP development", throttle.GuardConfig{DisableSecureCookie: true}, "device", false, 365 * 24 * 3600},
		{"own name and lifetime", throttle.GuardConfig{DeviceCookieName: "__Host-known", DeviceLifetime: 30 * 24 * time.Hour}, "__Host-known", true, 30 * 24 * 3600},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := newGuard(t, tc.cfg)
			a, err := g.CheckLogin(newBrowser("192.0.2.1:1").request(), "alice")
			if err != nil {
				t.Fatal(err)
			}
			w := httptest.NewRecorder()
			if err := g.LoginSucceeded(w, a); err != nil {
				t.Fatal(err)
			}
			cs := w.Result().Cookies()
			if len(cs) != 1 {
				t.Fatalf("%d cookies set, want 1", len(cs))
			}
			c := cs[0]
			if c.Name != tc.cookie || c.Path != "/" || c.Domain != "" || !c.HttpOnly || c.Secure != tc.secure ||
				c.SameSite != http.SameSiteStrictMode || c.MaxAge != tc.maxAge {
				t.Fatalf("cookie %+v", c)
			}
			if strings.Contains(c.Value, "alice") {
				t.Fatal("the cookie names the account")
			}
			// As with the session cookie: no shared cache keeps a
			// response that sets it.
			if h := w.Result().Header; h.Get("Cache-Control") != "no-store" || !slices.Contains(h.Values("Vary"), "Cookie") {
				t.Fatalf("Cache-Control %q, Vary %q: want no-store and Cookie", h.Get("Cache-Control"), h.Values("Vary"))
			}
		})
	}
}

func TestDeviceCookieIsBoundToItsAccount(t *testing.T) {
	t.Parallel()
	g := newGuard(t, throttle.GuardConfig{})
	b := newBrowser("192.0.2.1:1")
	if known(t, g, b, "alice") {
		t.Fatal("a browser that never signed in is known")
	}
	signIn(t, g, b, "alice", true)
	if !known(t, g, b, "alice") {
		t.Fatal("the browser is not known after signing in")
	}
	if known(t, g, b, "bob") || known(t, g, b, "Alice") || known(t, g, b, "alice ") {
		t.Fatal("alice's device cookie counts for another account")
	}
	// Another instance with the same keys knows it too; one with other keys
	// does not.
	if !known(t, newGuard(t, throttle.GuardConfig{}), b, "alice") {
		t.Fatal("another guard with the same key does not know the device")
	}
	other := newGuard(t, throttle.GuardConfig{DeviceKeys: [][]byte{[]byte("another key, another key, another key!")}})
	if known(t, other, b, "alice") {
		t.Fatal("a guard with another key accepts the device cookie")
	}
}

func TestDeviceCookieTamperedOrMovedIsUnknown(t *testing.T) {
	t.Parallel()
	g := newGuard(t, throttle.GuardConfig{})
	b := newBrowser("192.0.2.1:1")
	signIn(t, g, b, "alice", true)
	good := b.cookies["__Host-device"].Value
	raw, err := base64.RawURLEncoding.DecodeString(good)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 1, 8, 9, 24, 25, len(raw) - 1} {
		bad := append([]byte(nil), raw...)
		bad[i] ^= 1
		b.cookies["__Host-device"].Value = base64.RawURLEncoding.EncodeToString(bad)
		if known(t, g, b, "alice") {
			t.Fatalf("byte %d flipped: still known", i)
		}
	}
	// The same value under another cookie name does not verify.
	moved := newBrowser("192.0.2.1:1")
	moved.cookies["device"] = &http.Cookie{Name: "device", Value: good}
	insecure := newGuard(t, throttle.GuardConfig{DisableSecureCookie: true})
	if known(t, insecure, moved, "alice") {
		t.Fatal("a device cookie moved to another name is known")
	}
}

func TestDeviceCookieExpires(t *testing.T) {
	t.Parallel()
	clk := throttletest.NewClock()
	g := newGuardAt(t, clk.Now, throttle.GuardConfig{DeviceLifetime: 24 * time.Hour})
	b := newBrowser("192.0.2.1:1")
	signIn(t, g, b, "alice", true)
	clk.Advance(23 * time.Hour)
	signIn(t, g, b, "alice", true) // renews it
	clk.Advance(23 * time.Hour)
	if !known(t, g, b, "alice") {
		t.Fatal("a renewed device is unknown before its lifetime ends")
	}
	clk.Advance(time.Hour)
	if known(t, g, b, "alice") {
		t.Fatal("a device is still known after its lifetime")
	}
}

func TestDeviceKeysRotate(t *testing.T) {
	t.Parallel()
	oldKey := []byte("old key: 0123456789abcdef0123456789abcdef")
	newKey := []byte("new key: 0123456789abcdef0123456789abcdef")
	b := newBrowser("192.0.2.1:1")
	signIn(t, newGuard(t, throttle.GuardConfig{DeviceKeys: [][]byte{oldKey}}), b, "alice", true)
	rotated := newGuard(t, throttle.GuardConfig{DeviceKeys: [][]byte{newKey, oldKey}})
	if !known(t, rotated, b, "alice") {
		t.Fatal("a cookie signed by the old key is unknown while it still verifies")
	}
	signIn(t, rotated, b, "alice", true) // re-issued under the new key
	if !known(t, newGuard(t, throttle.GuardConfig{DeviceKeys: [][]byte{newKey}}), b, "alice") {
		t.Fatal("the cookie was not re-issued under the new key")
	}
}

func TestDeviceCookieKeepsFourAccounts(t *testing.T) {
	t.Parallel()
	g := newGuard(t, throttle.GuardConfig{})
	b := newBrowser("192.0.2.1:1")
	users := []string{"u1", "u2", "u3", "u4", "u5"}
	for _, u := range users {
		signIn(t, g, b, u, true)
	}
	if known(t, g, b, "u1") {
		t.Fatal("five accounts kept; the oldest should have been dropped")
	}
	for _, u := range users[1:] {
		if !known(t, g, b, u) {
			t.Fatalf("%s unknown", u)
		}
	}
	signIn(t, g, b, "u2", true) // again: moves to the front, no duplicate
	if v := b.cookies["__Host-device"].Value; strings.Count(v, ".") != 3 {
		t.Fatalf("cookie holds %d entries, want 4", strings.Count(v, ".")+1)
	}
}

// FuzzDeviceCookie feeds arbitrary device cookie values to CheckLogin.
// Nothing may panic, and no value made without the key is a known device.
func FuzzDeviceCookie(f *testing.F) {
	g := newGuard(f, throttle.GuardConfig{})
	b := newBrowser("192.0.2.1:1")
	signIn(f, g, b, "alice", true)
	good := b.cookies["__Host-device"].Value
	for _, s := range []string{good, good + "." + good, strings.Repeat(good+".", 10), "", ".", "...", "AAAA", strings.Repeat("A", 2000)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		r := httptest.NewRequest("POST", "/login", nil)
		r.Header.Set("Cookie", "__Host-device="+v)
		a, err := g.CheckLogin(r, "mallory")
		if err != nil {
			t.Fatal(err)
		}
		defer a.Abandon()
		if a.KnownDevice() {
			t.Fatalf("cookie %q made a known device for an account that never signed in", v)
		}
	})
}
