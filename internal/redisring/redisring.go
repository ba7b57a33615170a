// Package redisring tells whether a go-redis Ring drops the shards it
// finds down, which the library's Redis users cannot allow.
package redisring

import (
	"context"
	"reflect"
	"sync"

	"github.com/redis/go-redis/v9"
)

// Advice is what to set, in the words a panic message gives it.
const Advice = "set RingOptions.HeartbeatFn to func(context.Context, *redis.Client) bool { return true }"

// DropsShards reports whether ring runs go-redis's default HeartbeatFn,
// which takes a shard that fails its health checks out of the ring and
// hashes that shard's keys to the others while it is down: their reads
// find nothing (a session reads as signed out, a throttle count as fresh)
// and their writes land where the shard's return hides them. A ring whose
// HeartbeatFn always reports its shards up keeps every key where it is,
// and a call on a down shard fails, as on a single server.
func DropsShards(ring *redis.Ring) bool {
	fn := ring.Options().HeartbeatFn
	return fn == nil || reflect.ValueOf(fn).Pointer() == defaultHeartbeat()
}

// defaultHeartbeat is the code address of go-redis's default HeartbeatFn,
// read once from a ring with no shards (which dials nothing).
var defaultHeartbeat = sync.OnceValue(func() uintptr {
	r := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{}})
	defer r.Close()
	return reflect.ValueOf(r.Options().HeartbeatFn).Pointer()
})

// IsNil reports whether client is nil, or a nil *redis.Client,
// *redis.ClusterClient or *redis.Ring: a constructor given one would
// otherwise fail later, at the first call, with a nil pointer dereference.
func IsNil(client redis.UniversalClient) bool {
	switch c := client.(type) {
	case nil:
		return true
	case *redis.Client:
		return c == nil
	case *redis.ClusterClient:
		return c == nil
	case *redis.Ring:
		return c == nil
	}
	return false
}

// KeepShards is a HeartbeatFn that reports every shard up, so the ring
// never moves keys; the library's tests use it.
func KeepShards(context.Context, *redis.Client) bool { return true }
