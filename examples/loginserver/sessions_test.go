package main

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/sessionauth/session"
)

func TestSessionsListsDevicesWithoutSecrets(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	wantStatus(t, e.browser("192.0.2.1:1").get("/sessions"), http.StatusUnauthorized)
	laptop, phone := e.browser("192.0.2.1:1"), e.browser("192.0.2.2:1")
	phone.ua = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1"
	laptop.mustLogin()
	phone.mustLogin()
	r := laptop.get("/sessions")
	wantStatus(t, r, http.StatusOK)
	var list []sessionJSON
	r.json(t, &list)
	if len(list) != 2 || !list[0].Current || list[1].Current {
		t.Fatalf("sessions %+v: want 2, the current one first", list)
	}
	if list[0].Device != "Chrome on Linux" || list[1].Device != "Safari on iOS" {
		t.Fatalf("devices %q, %q", list[0].Device, list[1].Device)
	}
	for _, s := range list {
		if s.ID == "" || s.Created.IsZero() || s.LastSeen.IsZero() || !s.Expires.After(s.LastSeen) {
			t.Fatalf("incomplete session %+v", s)
		}
	}
	// No token, cookie value or store key in the answer.
	for _, b := range []*browser{laptop, phone} {
		v := b.cookies[session.DefaultCookieName].Value
		if strings.Contains(r.body, v) || strings.Contains(r.body, v[:20]) {
			t.Fatal("the sessions list contains a cookie value")
		}
	}
	entries, _ := e.store.ListUser(context.Background(), e.demo.ID)
	for _, en := range entries {
		if strings.Contains(r.body, en.Key) {
			t.Fatal("the sessions list contains a store key")
		}
	}
	e.store.down.Store(true)
	wantStatus(t, laptop.get("/sessions"), http.StatusServiceUnavailable)
}
