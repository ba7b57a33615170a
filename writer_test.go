package session

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
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
