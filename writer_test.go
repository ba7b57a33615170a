package session

import (
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
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

// when the session cannot be saved (the store is down and the
// handler changed a value), commit answers with the ErrorHandler's 503, but
// Hijack still hands the connection over: the handler then writes its own
// protocol (a WebSocket 101) on a connection whose client already got the
// 503's headers. Write and FlushError report errResponseReplaced in the
// same situation.
func TestHijackAfterAFailedCommitIsRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	c := h.login("alice")
	h.store.fail.Store(true)
	hijacked := make(chan error, 1)
	srv := httptest.NewServer(h.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		FromContext(r.Context()).Set("seen", "1") // a change the store cannot take
		conn, buf, err := http.NewResponseController(w).Hijack()
		hijacked <- err
		if err != nil {
			return
		}
		defer conn.Close()
		buf.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nframes")
		buf.Flush()
	})))
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nCookie: %s=%s\r\n\r\n", h.m.cookie.Name, c)
	err = <-hijacked
	conn.SetReadDeadline(time.Now().Add(time.Second))
	got, _ := io.ReadAll(bufio.NewReader(conn))
	if err == nil {
		t.Fatalf("Hijack after a failed commit returned a connection; the client read:\n%s", got)
	}
}

// When the session cannot be saved, the ErrorHandler's answer replaces the
// handler's response, headers included: the handler's Content-Length would
// cut the error's body short (the client sees an unexpected EOF), and its
// Content-Encoding, ETag, redirect, cookies and caching do not describe
// the error. Headers set around the handler for every response stay.
func TestFailedCommitDropsTheHandlersResponseHeaders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		respond func(w http.ResponseWriter, r *http.Request)
		dropped map[string]string // header → the handler's value
		// outer wraps the Middleware, as an app's own middleware does; its
		// headers stay on the error response.
		outer func(http.Handler) http.Handler
		kept  map[string]string
	}{
		{"content length", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "5")
			w.Write([]byte("hello"))
		}, map[string]string{"Content-Length": "5"}, nil, nil},
		{"compressed, with a validator", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			w.Header().Set("ETag", `"v1"`)
			w.Header().Set("Last-Modified", "Mon, 07 Dec 2026 06:00:00 GMT")
			w.Write([]byte("\x1f\x8b"))
		}, map[string]string{"Content-Encoding": "gzip", "Etag": `"v1"`, "Last-Modified": "Mon, 07 Dec 2026 06:00:00 GMT"}, nil, nil},
		{"redirect", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/elsewhere", http.StatusSeeOther)
		}, map[string]string{"Location": "/elsewhere"}, nil, nil},
		{"cookie and caching", func(w http.ResponseWriter, r *http.Request) {
			http.SetCookie(w, &http.Cookie{Name: "flash", Value: "saved"})
			w.Header().Set("Cache-Control", "public, max-age=3600")
			w.Header().Set("Content-Disposition", `attachment; filename="report.csv"`)
			w.WriteHeader(http.StatusOK)
		}, map[string]string{"Set-Cookie": "flash=saved", "Content-Disposition": `attachment; filename="report.csv"`}, nil, nil},
		{"inside a compressing middleware that sets a cookie", func(w http.ResponseWriter, r *http.Request) {
			http.SetCookie(w, &http.Cookie{Name: "flash", Value: "saved"})
			w.Write([]byte("hello"))
		}, map[string]string{"Set-Cookie": "flash=saved"}, gzipAndCSRF, map[string]string{"Content-Encoding": "gzip", "Set-Cookie": "csrf=t0k3n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, nil)
			c := h.login("alice")
			h.store.fail.Store(true)
			app := h.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				FromContext(r.Context()).Set("seen", "1") // a change the store cannot take
				tt.respond(w, r)
			}))
			if tt.outer != nil {
				app = tt.outer(app)
			}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Access-Control-Allow-Origin", "https://app.example")
				app.ServeHTTP(w, r)
			}))
			defer srv.Close()
			req, _ := http.NewRequest("GET", srv.URL+"/", nil)
			req.AddCookie(&http.Cookie{Name: h.m.cookie.Name, Value: c})
			client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			res, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, err := io.ReadAll(res.Body)
			if err != nil {
				t.Fatalf("reading the error response: %v (body so far %q)", err, body)
			}
			if res.StatusCode != http.StatusServiceUnavailable || string(body) != "{\"error\":\"session store unavailable\"}\n" {
				t.Errorf("got %d %q; want 503 with the default JSON body", res.StatusCode, body)
			}
			if ct := res.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type %q; want the error's own", ct)
			}
			if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q; want the error's no-store", cc)
			}
			for k, handlers := range tt.dropped {
				for _, v := range res.Header.Values(k) {
					if v == handlers {
						t.Errorf("the error response carries the handler's %s: %q", k, v)
					}
				}
			}
			for k, want := range tt.kept {
				if k == "Content-Encoding" && want == "gzip" {
					// The client took it off when it decompressed the body.
					if !res.Uncompressed {
						t.Errorf("the error response was not gzip-encoded; the outer middleware compresses every response")
					}
					continue
				}
				if got := res.Header.Values(k); !slices.Contains(got, want) {
					t.Errorf("%s on the error response = %q; the outer middleware's %q must stay", k, got, want)
				}
			}
			if got := res.Header.Get("Access-Control-Allow-Origin"); got != "https://app.example" {
				t.Errorf("Access-Control-Allow-Origin %q; a header set around the handler must stay", got)
			}
		})
	}
}

// gzipAndCSRF is an outer middleware that sets a cookie of its own and
// compresses the response: it sets Content-Encoding before the handler
// runs, and everything written goes through its gzip writer.
func gzipAndCSRF(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "csrf", Value: "t0k3n"})
		w.Header().Set("Content-Encoding", "gzip")
		gz := gzip.NewWriter(w)
		defer gz.Close()
		next.ServeHTTP(gzipWriter{w, gz}, r)
	})
}

type gzipWriter struct {
	http.ResponseWriter
	gz *gzip.Writer
}

func (w gzipWriter) Write(b []byte) (int, error) { return w.gz.Write(b) }

// Noting which of the handler-response headers an outer middleware set
// costs no allocation, on every request that arrives with headers set.
func TestOuterResponseHeadersAllocatesNothing(t *testing.T) {
	h := http.Header{
		"Cache-Control":           {"no-store"},
		"Set-Cookie":              {"csrf=t0k3n", "theme=dark"},
		"Content-Security-Policy": {"default-src 'self'"},
	}
	if n := testing.AllocsPerRun(100, func() { outerResponseHeaders(h) }); n != 0 {
		t.Errorf("outerResponseHeaders allocated %v times a call; want 0", n)
	}
	outer, cookies := outerResponseHeaders(h)
	h.Set("Cache-Control", "public")
	h.Add("Set-Cookie", "flash=saved")
	h.Set("Location", "/elsewhere")
	dropHandlerResponseHeaders(h, outer, int(cookies))
	if got := h.Values("Set-Cookie"); !slices.Equal(got, []string{"csrf=t0k3n", "theme=dark"}) {
		t.Errorf("Set-Cookie after the drop = %q; want the outer middleware's two", got)
	}
	if h.Get("Location") != "" || h.Get("Content-Security-Policy") == "" || h.Get("Cache-Control") == "" {
		t.Errorf("after the drop: %v; want Location gone, the outer Cache-Control and the CSP kept", h)
	}
}
