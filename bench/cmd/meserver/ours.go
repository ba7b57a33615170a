package main

import (
	"context"
	"net/http"

	"github.com/redis/go-redis/v9"
	"github.com/sessionauth/session"
)

func init() {
	modes["ours-mem"] = func(string) (http.Handler, func(), error) {
		return newOurs(session.NewMemoryStore())
	}
	modes["ours-redis"] = func(url string) (http.Handler, func(), error) {
		opt, err := redis.ParseURL(url)
		if err != nil {
			return nil, nil, err
		}
		c := redis.NewClient(opt)
		if err := c.Ping(context.Background()).Err(); err != nil {
			c.Close()
			return nil, nil, err
		}
		h, _, err := newOurs(session.NewRedisStore(c))
		return h, func() { c.Close() }, err
	}
}

// newOurs wires the library as the example server does: Middleware around
// the mux, RequireAuth around /me, Login in the login handler. Keys are
// fresh for each run.
func newOurs(store session.Store) (http.Handler, func(), error) {
	keys, err := session.NewKeyRing(session.GenerateKey())
	if err != nil {
		return nil, nil, err
	}
	m, err := session.New(session.Config{Store: store, Keys: keys})
	if err != nil {
		return nil, nil, err
	}
	usernames := map[string]string{demoID: demoUsername}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		u, ok := readCredentials(r)
		if !ok {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid credentials"})
			return
		}
		if err := m.Login(w, r, u.ID); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "session store unavailable"})
			return
		}
		writeJSON(w, http.StatusOK, u)
	})
	mux.Handle("GET /me", m.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := session.FromContext(r.Context()).UserID()
		writeJSON(w, http.StatusOK, user{ID: id, Username: usernames[id]})
	})))
	return m.Middleware(mux), func() {}, nil
}
