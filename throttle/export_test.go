package throttle

import (
	"time"

	"github.com/redis/go-redis/v9"
)

// The package's clock seams, for its own tests (throttle_test) only: this
// file is compiled with them and is no part of the API.

// NewMemoryAt is NewMemory on the clock now.
func NewMemoryAt(cfg MemoryConfig, now func() time.Time) Limiter { return newMemory(cfg, now) }

// NewRedisAt is NewRedis on the clock now.
func NewRedisAt(client redis.UniversalClient, cfg RedisConfig, now func() time.Time) Limiter {
	return newRedis(client, cfg, now)
}

// NewGuardAt is NewGuard on the clock now, which also drives the default
// memory Limiter.
func NewGuardAt(cfg GuardConfig, now func() time.Time) (*Guard, error) { return newGuard(cfg, now) }

// MemoryLen returns how many keys a limiter from NewMemory tracks.
func MemoryLen(l Limiter) int { return l.(*memory).len() }
