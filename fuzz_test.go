package session

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// FuzzCookieValue feeds arbitrary cookie headers through the whole load path:
// never a panic or a 5xx, a signed-in user only when the header carries the
// one valid cookie, and no store call for a value that does not verify.
func FuzzCookieValue(f *testing.F) {
	ring, _ := NewKeyRing(testKeyA)
	m, _ := New(Config{Keys: ring})
	cs := &countingStore{Store: NewMemoryStore()}
	m.setStore(cs)
	login := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.Login(w, r, "fuzz-user")
	}))
	rec := httptest.NewRecorder()
	login.ServeHTTP(rec, httptest.NewRequest("POST", "/", nil))
	valid := rec.Result().Cookies()[0].Value
	name := m.cookie.Name
	for _, s := range []string{"", "sid=x", name + "=" + valid, name + "=\"" + valid + "\"", "a=b; " + name + "=%%%", name + "=" + valid[:40], name + "=" + valid + "; " + name + "=x"} {
		f.Add(s)
	}
	var user string
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user = FromContext(r.Context()).UserID()
	}))
	f.Fuzz(func(t *testing.T, header string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Cookie", header)
		before := cs.gets.Load()
		verified := false
		forEachCookie(r.Header, name, func(v string) bool {
			if len(v) <= maxCookieLen {
				if _, _, ok := m.signer.verifyBytes(v); ok {
					verified = true
				}
			}
			return true
		})
		user = ""
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("status %d", w.Code)
		}
		if user != "" && (user != "fuzz-user" || !strings.Contains(header, valid)) {
			t.Fatalf("signed in as %q without the valid cookie", user)
		}
		if !verified && cs.gets.Load() != before {
			t.Fatal("store read for a cookie that does not verify")
		}
	})
}

// FuzzRecordData checks that record decoding never panics, and that what it
// accepts re-encodes to an equivalent record.
func FuzzRecordData(f *testing.F) {
	h := recordHeader{persistent: true, created: time.UnixMilli(1700000000000), idle: time.Minute, lifetime: time.Hour}
	f.Add(encodeRecord(h, map[string]string{"a": "b", "cart": "42"}, nil))
	f.Add(encodeRecord(h, nil, nil))
	h.authTime, h.amr = h.created.Add(time.Minute), "pwd hwk"
	f.Add(encodeRecord(h, map[string]string{"a": "b"}, nil))
	f.Add([]byte{1, 0, 0, 1, 1, 0})
	f.Add([]byte{2, 0, 0, 1, 1, 0, 3, 'h', 'w', 'k', 0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		hdr, raw, err := decodeHeader(data)
		if err != nil {
			return
		}
		if walkValues(raw, nil) != nil {
			return
		}
		values, err := decodeValues(raw)
		if err != nil {
			t.Fatalf("walkValues accepted what decodeValues rejects: %v", err)
		}
		again := encodeRecord(hdr, values, nil)
		hdr2, raw2, err := decodeHeader(again)
		if err != nil || hdr2 != hdr {
			t.Fatalf("re-encoded header differs: %v %+v %+v", err, hdr, hdr2)
		}
		values2, err := decodeValues(raw2)
		if err != nil || len(values2) != len(values) {
			t.Fatalf("re-encoded values differ: %v", err)
		}
		for k, v := range values {
			if values2[k] != v {
				t.Fatalf("value %q changed", k)
			}
		}
	})
}

// FuzzParseKeyRing: any SESSION_KEYS string is either an error or a usable
// ring; never a panic.
func FuzzParseKeyRing(f *testing.F) {
	f.Add("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	f.Add("a,b")
	f.Add(",,,")
	f.Fuzz(func(t *testing.T, s string) {
		ring, err := ParseKeyRing(s)
		if err == nil && ring.len() == 0 {
			t.Fatal("empty ring without an error")
		}
	})
}
