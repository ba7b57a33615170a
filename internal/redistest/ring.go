package redistest

import (
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionauth/session/internal/redisring"
)

// NewRing starts two servers of the test's own and returns a Ring over
// them, with them, so that a test can stop one. The Ring keeps its shards
// (redisring.KeepShards, as the library requires) and fails fast: 200 ms
// timeouts, no retries, a heartbeat every 50 ms. It is closed when the
// test ends. With REDIS_URL set the test is skipped: one shared server
// makes no ring and cannot be stopped.
func NewRing(t testing.TB) (ring *redis.Ring, a, b *Server) {
	t.Helper()
	if os.Getenv("REDIS_URL") != "" {
		t.Skip("REDIS_URL set: a ring needs two servers of the test's own")
	}
	a, b = start(t), start(t)
	ring = redis.NewRing(&redis.RingOptions{
		Addrs:              map[string]string{"a": a.Addr, "b": b.Addr},
		HeartbeatFn:        redisring.KeepShards,
		HeartbeatFrequency: 50 * time.Millisecond,
		DialTimeout:        200 * time.Millisecond,
		ReadTimeout:        200 * time.Millisecond,
		WriteTimeout:       200 * time.Millisecond,
		MaxRetries:         -1,
		DialerRetries:      1,
	})
	t.Cleanup(func() { ring.Close() })
	return ring, a, b
}
