package session

import (
	"context"
	"errors"
	"fmt"
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

// useClientCache looks at client's options. With enabled, the client must
// cache in a cache the store can reach, which it remembers so that its
// writes can drop what they change; otherwise it reads past any cache the
// client has.
func (s *RedisStore) useClientCache(client redis.UniversalClient, enabled bool) error {
	c, ok := client.(*redis.Client)
	if !enabled {
		if ok && (c.Options().ClientSideCache != nil || c.Options().ClientSideCacheConfig != nil) {
			s.readPastCache = true
		}
		return nil
	}
	if !ok {
		return fmt.Errorf("session: NewRedisStore: RedisConfig.ClientSideCache needs a *redis.Client (go-redis caches for a single server only), not %T", client)
	}
	opt := c.Options()
	switch {
	case opt.Protocol != 0 && opt.Protocol != 3:
		return fmt.Errorf("session: NewRedisStore: RedisConfig.ClientSideCache needs RESP3: set redis.Options.Protocol to 3 (it is %d)", opt.Protocol)
	case opt.ClientSideCache == nil:
		return errors.New("session: NewRedisStore: RedisConfig.ClientSideCache needs redis.Options.ClientSideCache set to a cache, such as session.NewRedisClientCache(redis.CacheConfig{...}) (ClientSideCacheConfig alone hides the cache from the store)")
	}
	s.cache = opt.ClientSideCache
	s.localCache, _ = s.cache.(*redis.LocalCache)
	s.front, _ = s.cache.(*RedisClientCache)
	s.cacheNS = cscNamespace(opt.DB, opt.Username)
	return nil
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
