package session

import (
	"context"
	"errors"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionauth/session/internal/redistest"
)

// RedisStore's health check answers for a live server, names a refused
// connection, and is bounded by ctx on a server that never answers.
func TestRedisStorePingNamesTheCause(t *testing.T) {
	t.Parallel()
	live := redistest.New(t)
	tests := []struct {
		name string
		addr string
		want error // nil: answers
	}{
		{"live", live.Addr, nil},
		{"refused", "127.0.0.1:1", syscall.ECONNREFUSED},
		{"unresponsive", redistest.Unresponsive(t), os.ErrDeadlineExceeded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			client := redis.NewClient(&redis.Options{Addr: tc.addr, MaxRetries: -1, ContextTimeoutEnabled: true})
			t.Cleanup(func() { client.Close() })
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			start := time.Now()
			err := NewRedisStore(client).ping(ctx)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("ping = %v, want %v", err, tc.want)
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Fatalf("ping took %v with a 200ms deadline", took)
			}
		})
	}
}

// The reason RedisStore's health check dials a connection of its own: once
// more dials than its pool size have failed, go-redis's pool fails every
// command at once with the last dial error and redials in the background
// only once a second, so a command through the pool can fail for up to a
// second after the server answers again, while the store's ping, which
// dials outside the pool, succeeds. If go-redis changes this, the check
// may go through the pool alone.
func TestRedisStorePingDoesNotWaitForThePoolsRedial(t *testing.T) {
	t.Parallel()
	srv := redistest.New(t)
	if !srv.Owned() {
		t.Skip("REDIS_URL set: cannot kill that server")
	}
	o := srv.Options()
	o.PoolSize, o.MaxRetries, o.DialerRetries = 2, -1, 1
	client := redis.NewClient(o)
	t.Cleanup(func() { client.Close() })
	s := NewRedisStore(client)
	ctx := context.Background()
	// The pool's background redial may happen to fall just after a
	// restart; three tries make that chance negligible.
	var err error
	for try := 0; try < 3 && err == nil; try++ {
		srv.Kill(t)
		for range 4 { // more failed dials than the pool's size
			client.Ping(ctx)
		}
		srv.Restart(t)
		// The store's check dials on its own and gets an answer; the
		// pool, within the second it waits, still fails.
		if err := dialPing(ctx, client.Options()); err != nil {
			t.Fatalf("the check's own dial after the restart: %v", err)
		}
		err = client.Ping(ctx).Err()
	}
	t.Logf("a PING through the pool right after the restart: %v", err)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("PING through the pool = %v, want the pool's remembered dial error", err)
	}
	// The store's check reports the truth of the pool once it has redialled.
	end := time.Now().Add(3 * time.Second)
	for s.ping(ctx) != nil {
		if time.Now().After(end) {
			t.Fatal("the pool did not redial within 3s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
