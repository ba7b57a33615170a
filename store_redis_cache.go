package session

import (
	"context"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// Client-side caching: what the store adds to go-redis's (see RedisStore).
//
// go-redis tracks each pooled connection with CLIENT TRACKING and applies an
// invalidation when it next reads the connection that carries it; the write
// that causes it usually travels on another connection of the same client,
// so without help a store would read its own stale record for up to a drain
// interval after writing it. forget drops the written keys from the cache
// as soon as Redis has answered. It needs the cache itself, which the
// client's options expose only when the application built it
// (Options.ClientSideCache); with ClientSideCacheConfig alone the store
// reads with GETEX, which go-redis never caches.

// cscNamespace is the prefix go-redis v9 puts before a Redis key in its
// client-side cache: database, then the length-prefixed ACL user name.
// TestRedisClientCacheReadsOwnWrites fails if a go-redis upgrade changes it.
func cscNamespace(db int, username string) string {
	return strconv.Itoa(db) + "\x00" + strconv.Itoa(len(username)) + ":" + username + "\x00"
}

// useClientCache looks at client's options: with a cache the store can reach
// it remembers the cache, so its writes can drop what they change; with a
// cache it cannot reach it reads past the cache.
func (s *RedisStore) useClientCache(client redis.UniversalClient) {
	c, ok := client.(*redis.Client)
	if !ok {
		return
	}
	opt := c.Options()
	switch {
	case opt.ClientSideCache != nil:
		s.cache = opt.ClientSideCache
		s.cacheNS = cscNamespace(opt.DB, opt.Username)
	case opt.ClientSideCacheConfig != nil:
		s.readPastCache = true
	}
}

// get reads the record under the Redis key rk: a GET, which the client's
// cache serves when it holds rk, or a GETEX without options, which it never
// does.
func (s *RedisStore) get(ctx context.Context, rk string) *redis.StringCmd {
	if s.readPastCache {
		cmd := redis.NewStringCmd(ctx, "getex", rk)
		_ = s.client.Process(ctx, cmd)
		return cmd
	}
	return s.client.Get(ctx, rk)
}

// forget drops the store keys from the client's cache after the store wrote
// them. A read of one of them that was in flight when the write ran is
// dropped too, so it cannot put the old record back.
func (s *RedisStore) forget(keys ...string) {
	if s.cache == nil {
		return
	}
	for _, k := range keys {
		if k != "" {
			s.cache.DeleteByRedisKey(s.cacheNS + s.recordKey(k))
		}
	}
}
