// Command meserver is the end-to-end benchmark's server: POST /login signs a
// user in, GET /me answers {"id","username"} for a signed-in user. In -mode
// bare it does the same JSON work with no session middleware at all (the
// floor); in the session modes it uses the library the way the example
// server does: Middleware around the mux, RequireAuth around /me, Login in
// the login handler.
//
// It listens on a loopback address only, prints "listening on http://ADDR" on
// its first line, and exits by itself after -max-lifetime.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"
)

// demo account (the load generator signs in with these).
const (
	demoID       = "usr_5f0c2a9e41d37b68"
	demoUsername = "demo"
	demoPassword = "bench-password"
)

// modes maps -mode to a handler constructor; session modes are added from
// their own files.
var modes = map[string]func(redisURL string) (http.Handler, func(), error){
	"bare": newBare,
}

type user struct {
	ID       string `json:"id"`
	Username string `json:"username"`
}

type credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// writeJSON is how both modes answer: status, content type, encoded body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// readCredentials decodes a login body and checks it against the demo user.
func readCredentials(r *http.Request) (user, bool) {
	var c credentials
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 4096)).Decode(&c); err != nil {
		return user{}, false
	}
	if c.Username != demoUsername || c.Password != demoPassword {
		return user{}, false
	}
	return user{ID: demoID, Username: demoUsername}, true
}

// bareCookie is what the bare server's login sets, so that its /me requests
// carry a cookie of the same size as a real session's.
var bareCookie = &http.Cookie{Name: "session", Value: strings.Repeat("b", 100), Path: "/", HttpOnly: true}

func newBare(string) (http.Handler, func(), error) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		u, ok := readCredentials(r)
		if !ok {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid credentials"})
			return
		}
		http.SetCookie(w, bareCookie)
		writeJSON(w, http.StatusOK, u)
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, user{ID: demoID, Username: demoUsername})
	})
	return mux, func() {}, nil
}

func main() {
	mode := flag.String("mode", "bare", "bare, or a session mode: "+strings.Join(modeNames(), ", "))
	addr := flag.String("addr", "127.0.0.1:0", "loopback address to listen on")
	redisURL := flag.String("redis", "", "Redis URL for the Redis modes")
	life := flag.Duration("max-lifetime", 10*time.Minute, "exit after this long")
	flag.Parse()
	if err := serve(*mode, *addr, *redisURL, *life); err != nil {
		fmt.Fprintln(os.Stderr, "meserver:", err)
		os.Exit(1)
	}
}

func modeNames() []string {
	var names []string
	for k := range modes {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

func serve(mode, addr, redisURL string, life time.Duration) error {
	mk, ok := modes[mode]
	if !ok {
		return fmt.Errorf("unknown mode %q (have %s)", mode, strings.Join(modeNames(), ", "))
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return errors.New("listen address must be loopback")
	}
	h, cleanup, err := mk(redisURL)
	if err != nil {
		return err
	}
	defer cleanup()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       time.Minute,
	}
	fmt.Printf("listening on http://%s\n", l.Addr())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, life)
	defer cancel()
	go func() {
		<-ctx.Done()
		shut, c := context.WithTimeout(context.Background(), 5*time.Second)
		defer c()
		_ = srv.Shutdown(shut)
	}()
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
