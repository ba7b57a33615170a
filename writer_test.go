package session

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestS38_StoreWriteCompletesBeforeHeaders(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	var storedAtHeaders int
	app := h.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h.m.Login(w, r, "alice"); err != nil {
			t.Error(err)
		}
		FromContext(r.Context()).Set("k", "v")
		http.Redirect(w, r, "/", http.StatusSeeOther)
	}))
	rec := &headerHook{ResponseRecorder: httptest.NewRecorder(), onHeader: func() {
		list, _ := h.mem.ListUser(context.Background(), "alice")
		storedAtHeaders = len(list)
		if len(list) == 1 {
			if v, _ := decodeValuesOf(list[0].Data); v["k"] != "v" {
				storedAtHeaders = -1
			}
		}
	}}
	app.ServeHTTP(rec, httptest.NewRequest("POST", "/login", nil))
	if storedAtHeaders != 1 {
		t.Fatalf("at WriteHeader the store held %d sessions of alice (with data: %v)", storedAtHeaders, storedAtHeaders != -1)
	}
}

type headerHook struct {
	*httptest.ResponseRecorder
	onHeader func()
}

func (h *headerHook) WriteHeader(code int) {
	h.onHeader()
	h.ResponseRecorder.WriteHeader(code)
}

func TestFlushAndHijackThroughResponseController(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	srv := httptest.NewServer(h.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if r.URL.Path == "/hijack" {
			conn, buf, err := rc.Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi")
			buf.Flush()
			conn.Close()
			return
		}
		FromContext(r.Context()).Set("k", "v")
		w.Write([]byte("a"))
		if err := rc.Flush(); err != nil {
			t.Error(err)
		}
		if _, ok := w.(http.Flusher); !ok {
			t.Error("not a Flusher")
		}
	})))
	defer srv.Close()
	res, err := srv.Client().Get(srv.URL + "/flush")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if len(res.Cookies()) != 1 {
		t.Fatal("flushing handler's session not committed before the flush")
	}
	res, err = srv.Client().Get(srv.URL + "/hijack")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatal(res.Status)
	}
}

// A handler that signs in and then switches protocols (a WebSocket upgrade)
// sends the session cookie with the 101 response: 101 is a final response,
// and nothing after it can carry a Set-Cookie.
func TestSwitchingProtocolsCommitsTheSession(t *testing.T) {
	t.Parallel()
	ring, _ := NewKeyRing(testKeyA)
	m, err := New(Config{Keys: ring, Cookie: CookieOptions{DisableSecure: true}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := m.Login(w, r, "alice"); err != nil {
			t.Error(err)
		}
		w.Header().Set("Connection", "Upgrade")
		w.Header().Set("Upgrade", "websocket")
		w.WriteHeader(http.StatusSwitchingProtocols)
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		conn.Close()
	})))
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 101 {
		t.Fatalf("status %d, want 101", res.StatusCode)
	}
	var found bool
	for _, c := range res.Cookies() {
		found = found || (c.Name == "sid" && c.Value != "")
	}
	if !found {
		t.Fatalf("the 101 response carries no session cookie: %v", res.Header)
	}
}
