package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestCheckLoopbackRefusesOtherHosts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url     string
		wantErr bool
	}{
		{"http://127.0.0.1:8080/me", false},
		{"http://127.8.9.10/me", false},
		{"http://[::1]:80/", false},
		{"http://localhost:1234/x", false},
		{"http://10.0.0.1/me", true},
		{"http://192.168.1.1/me", true},
		{"http://example.com/me", true},
		{"https://127.0.0.1/me", true},
	}
	for _, tt := range tests {
		err := checkLoopback(tt.url)
		if (err != nil) != tt.wantErr {
			t.Errorf("checkLoopback(%q) = %v, want error %v", tt.url, err, tt.wantErr)
		}
	}
	if err := checkLoopback("http://10.0.0.1/"); !errors.Is(err, errNotLoopback) {
		t.Errorf("err = %v, want errNotLoopback", err)
	}
}

func TestPct(t *testing.T) {
	t.Parallel()
	s := make([]float64, 100)
	for i := range s {
		s[i] = float64(i + 1)
	}
	tests := []struct {
		q    float64
		want float64
	}{{0.5, 50}, {0.99, 99}, {1, 100}, {0, 1}}
	for _, tt := range tests {
		if got := pct(s, tt.q); got != tt.want {
			t.Errorf("pct(%v) = %v, want %v", tt.q, got, tt.want)
		}
	}
	if got := pct(nil, 0.5); got != 0 {
		t.Errorf("pct(nil) = %v", got)
	}
}

// TestRunLogsInAndSendsCookie runs a small bounded load against a test
// server that only answers 200 to the cookie its login handed out.
func TestRunLogsInAndSendsCookie(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, _ *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: "tok"})
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("sid"); err != nil || c.Value != "tok" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		w.Write([]byte(`{"id":"1"}`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	cfg := config{name: "t", target: srv.URL + "/me", loginURL: srv.URL + "/login", requests: 200, warmup: 10,
		duration: 5 * time.Second, concurrency: 4, wantStatus: http.StatusOK}
	res, err := run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 200 || res.Errors != 0 || res.Body != `{"id":"1"}` || res.P99us <= 0 {
		t.Fatalf("unexpected result %+v", res)
	}
	cfg.loginURL = "" // no cookie: every request is a 401
	if _, err := run(context.Background(), cfg); err == nil {
		t.Fatal("run without login succeeded against a server that answers 401")
	}
}
