package session

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
)

// Ping checks that the Manager's store answers, at the cost of one cheap
// store call bounded by Config.StoreTimeout (and ctx): the store's own
// health check when it has a Ping(ctx) error method (RedisStore has one of
// its own: a PING on a connection outside go-redis's pool, then one through
// it), else a Get of a random key (for pgstore, one indexed lookup). It returns nil,
// or an error wrapping ErrStoreUnavailable and the store's error (the
// cause: "connection refused", a deadline). It is meant for start-up and
// for a readiness probe (/readyz); it goes to the store even while the
// circuit breaker stops requests, and its success ends such a suspension
// at once. A Manager in CookieOnly mode has no store: Ping returns nil.
func (m *Manager) Ping(ctx context.Context) error {
	if _, ok := m.mode.(storeBackend); !ok || m.store == nil {
		return nil
	}
	var err error
	if c, ok := m.store.(interface{ check(context.Context) error }); ok {
		err = c.check(ctx)
	} else {
		err = checkStore(ctx, m.store, storePing(m.store))
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	return nil
}

// storePing returns the store's health check: its unexported ping (RedisStore)
// or exported Ping method (pgstore), or nil.
func storePing(s Store) func(context.Context) error {
	switch p := s.(type) {
	case interface{ ping(context.Context) error }:
		return p.ping
	case interface{ Ping(context.Context) error }:
		return p.Ping
	}
	return nil
}

// checkStore runs ping, or without one a Get of a random key (whose
// ErrNotFound is an answer).
func checkStore(ctx context.Context, s Store, ping func(context.Context) error) error {
	if ping != nil {
		return ping(ctx)
	}
	var b [32]byte
	rand.Read(b[:])
	if _, err := s.Get(ctx, hex.EncodeToString(b[:])); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	return nil
}

// check is Manager.Ping through the guard: the store's health check with
// the guard's deadline, whatever the breaker's state; its outcome counts
// as a call's.
func (g *guard) check(ctx context.Context) error {
	start := g.elapsed()
	callCtx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	err := checkStore(callCtx, g.store, g.ping)
	if err != nil && ctx.Err() == nil && callCtx.Err() == context.DeadlineExceeded {
		err = fmt.Errorf("session: store call exceeded StoreTimeout (%v): %w", g.timeout, err)
	}
	g.record(ctx, nil, nil, start, err)
	return err
}

// logLoginFailure logs a Login that failed because the store did: the
// caller may only answer 503, and an operator should see why. Calls the
// breaker stopped are not logged one by one (it logged once when it
// opened), so the first failing Login of an outage is logged, not every one.
func (m *Manager) logLoginFailure(ctx context.Context, err error) {
	if m.log == nil || !errors.Is(err, ErrStoreUnavailable) || errors.Is(err, errSuspended) {
		return
	}
	m.log.LogAttrs(ctx, slog.LevelError, "session: login failed: store unavailable", slog.String("error", err.Error()))
}
