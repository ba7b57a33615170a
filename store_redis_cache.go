package session

import (
	"context"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// Client-side caching.
//
// A *redis.Client built with Options.ClientSideCache (go-redis's
// server-assisted client-side caching over RESP3, marked experimental in
// go-redis) serves a RedisStore's Get, a plain GET, from process memory once
// the record has been read, with no round trip. Redis tracks the keys each
// connection has read and pushes an invalidation to it when any client
// changes or deletes one of them, or when it expires; go-redis applies it
// when it next reads from that connection, and an idle pooled connection is
// read every CacheConfig.DrainInterval (5 ms by default). So a Logout,
// LogoutAll, Update or idle extension on one instance reaches the caches of
// the others after a delay: a few milliseconds on an idle loopback, more
// under CPU pressure, and without a hard bound other than
// CacheConfig.MaxStaleness, which caps how long an entry is served at all
// (for example while a network partition holds the invalidations back). See
// the README for measured figures.
//
// The store keeps what it can exact:
//
//   - Its own writes (Create, Replace, Update, Touch, Delete, DeleteUser)
//     drop the written keys from the client's cache as soon as Redis has
//     answered, so the next read on the same instance sees them at once
//     (a request right after a logout or a change never reads the old
//     record).
//   - Expiry is checked against the Expires stored in the record on every
//     read, cached or not, and the Manager checks the absolute lifetime from
//     the record's data, so a stale entry can end a session early (an idle
//     extension not yet seen) but never extend one.
//
// Caching needs a *redis.Client on a single server (or one built by
// redis.NewUniversalClient with one address): go-redis does not cache for
// Cluster, Sentinel (NewFailoverClient) or Ring clients, and a RedisStore on
// them reads from Redis every time. Only DB 0 is cached. A client whose cache
// the store cannot reach, one built with Options.ClientSideCacheConfig alone,
// could serve the store its own stale writes, so the store reads with GETEX
// (Redis 6.2 or later), which the cache does not serve, and such a client
// gets no caching of sessions.
//
// Memory: each cached session costs about what Redis holds for it plus go-redis's
// per-entry bookkeeping (see BenchmarkRedisClientCacheBytesPerSession), and
// the cache is bounded by CacheConfig.MaxEntries and MaxMemoryBytes (10,000
// entries when neither is set), evicting the least recently used.

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
