package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// serve runs srv on ln until ctx ends, then shuts down gracefully:
//
//   - it stops accepting connections and at once closes those that have not
//     sent a byte yet (http.Server.Shutdown alone waits up to 5 seconds for
//     them, so an idle browser tab or a load balancer's pre-opened connection
//     would delay every restart);
//   - it closes idle keep-alive connections and lets requests in flight
//     finish, for at most grace;
//   - past grace it closes the connections still busy (a client trickling a
//     body, a slow download), logs how it ended, and returns nil: a shutdown
//     that had to cut a slow client is still a clean exit.
//
// serve installs srv.ConnState; srv must not set one of its own.
func serve(ctx context.Context, srv *http.Server, ln net.Listener, grace time.Duration, log *slog.Logger) error {
	conns := &freshConns{m: map[net.Conn]struct{}{}}
	srv.ConnState = conns.track
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", grace)
	start := time.Now()
	conns.closeAll()
	shutCtx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		// Only the deadline can end Shutdown early: cut the slow clients.
		log.Warn("requests still in flight at the end of the grace period: their connections were closed",
			"grace", grace, "error", err)
		srv.Close()
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped", "after", time.Since(start).Round(time.Millisecond))
	return nil
}

// freshConns holds the connections that have not sent a byte of a request
// yet (http.StateNew). Closing one loses nothing: no request has begun.
type freshConns struct {
	mu      sync.Mutex
	m       map[net.Conn]struct{}
	closing bool
}

// track is the server's ConnState hook.
func (f *freshConns) track(c net.Conn, s http.ConnState) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case s == http.StateNew && f.closing:
		c.Close() // accepted while shutting down
	case s == http.StateNew:
		f.m[c] = struct{}{}
	default:
		delete(f.m, c)
	}
}

// closeAll closes the fresh connections, and every one accepted from now on.
func (f *freshConns) closeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closing = true
	for c := range f.m {
		c.Close()
	}
	clear(f.m)
}
