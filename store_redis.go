package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionauth/session/internal/redisring"
)

// defaultRedisKeyPrefix is the prefix of every key a RedisStore writes unless
// RedisConfig.KeyPrefix says otherwise.
const defaultRedisKeyPrefix = "session:"

// redisMaxUserIDLen is the longest user ID a RedisStore accepts; the record header
// keeps its length in four hex digits.
const redisMaxUserIDLen = 0xffff

// errRedisUserIDTooLong is returned by Create for a user ID over redisMaxUserIDLen bytes.
var errRedisUserIDTooLong = errors.New("session: redis store: user ID longer than 65535 bytes")

// RedisStore is a Store on Redis through go-redis v9. It works unchanged with
// a single server (*redis.Client), Sentinel (redis.NewFailoverClient), Redis
// Cluster (*redis.ClusterClient) and client-side sharding (*redis.Ring).
//
// Key layout, with the default prefix "session:":
//
//	session:<store key>        string: one session record, PXAT its Expires
//	session:u:{<user ID>}      sorted set: the user's store keys by horizon
//	session:o:{<user ID>}      sorted set: the same keys by creation order
//
// A record is one string value (header, user ID, Data), so Get is one GET. The
// user index is a sorted set whose scores are an upper bound of each record's
// expiry and whose own PEXPIREAT is its highest score, so an index lives as
// long as the longest session in it (at most twice that session's age past
// its expiry) and entries of expired sessions are pruned whenever the index is
// written or read. The user ID is the index key's hash tag, so every command
// on one index stays in one cluster slot; no command ever spans two keys of
// different slots, and no command scans the keyspace (no KEYS, no SCAN).
//
// The order set is what Replace ends the oldest sessions by; an index
// written before it existed still lists and caps its sessions (they count
// as the oldest).
//
// Round trips: Get 1; Create 1 (a pipeline of SET NX and the index update);
// Replace (login) 1 on a single server or Sentinel, within the cap or past
// it, and 2 (5 past the cap) on Cluster and Ring; Update 1; Touch 1; Delete 1. When Update or Touch extend a session past what
// its user index covers, they take two more round trips to extend the index
// first; the covered span doubles each time, so this happens about
// log2(lifetime/idle timeout) times in a session's life. ListUser costs 2 round
// trips (3 when it prunes), DeleteUser 3 or more.
//
// Logout (Delete) removes only the record; its index entry is dropped when
// ListUser or DeleteUser next meet it. On a single server or Sentinel that is
// immediate; on Cluster and Ring, where a pipeline's commands to two nodes are
// not ordered, an entry whose record is missing may belong to a Create still in
// flight, so it is kept until its score passes and then pruned.
//
// Cluster failover: after a failed command on a *redis.ClusterClient the
// store asks the client to reload its slot map, at most once per
// redisClusterReloadInterval, so requests follow a promoted replica within
// about half a second instead of the client's one-minute reload interval.
// While a master is down and not yet replaced (the cluster's node timeout,
// plus about a second), its shard fails: under a Manager, after the first
// few failures its keys fail at once (the store names each key's master
// node, and the Manager keeps a circuit breaker per node) while the other
// shards answer. With Redis's default
// cluster-require-full-coverage yes the whole cluster answers CLUSTERDOWN
// from the moment the master is marked failed until the promotion.
//
// Client-side caching (opt-in, RedisConfig.ClientSideCache): on a
// *redis.Client built with Options.ClientSideCache set to a
// NewRedisClientCache (or go-redis's own redis.NewLocalCache; go-redis's
// server-assisted caching over RESP3, experimental in go-redis), Get is
// served from process memory once a record has been read, with no round
// trip; from a RedisClientCache at about the cost of a MemoryStore read.
// Redis pushes an invalidation to
// every client that cached a record when it changes, is deleted or expires,
// so a Logout, LogoutAll, update or idle extension on one instance reaches
// the others after a delay of a few milliseconds (go-redis reads an idle
// connection's invalidations every 5 ms, or every DrainInterval of
// Options.ClientSideCacheConfig); CacheConfig.MaxStaleness is the only hard
// bound, for invalidations held back by a network partition. The store's
// own writes drop what they change from its cache at once, and expiry is
// checked from the record on every read, so a stale entry can end a
// session early but never extend one. go-redis caches only for a single
// server in DB 0 (not Cluster, Sentinel or Ring clients). Without
// ClientSideCache the store reads past whatever cache the client has, with
// GETEX. Each cached session costs about 1 KB of heap (a RedisClientCache
// adds about 300 bytes for each of the up to 4,096 it keeps decoded); the
// cache is bounded by CacheConfig.MaxEntries (10,000 when unset) or
// MaxMemoryBytes (which counts go-redis's estimate, about 40% of the real
// heap).
//
// Deadlines: the store checks ctx before any I/O, and the Manager gives
// every call a deadline (Config.StoreTimeout). Whether go-redis abandons a
// command that is already waiting for a reply when ctx ends depends on the
// client's ContextTimeoutEnabled option; without it a stalled server holds a
// request for the client's ReadTimeout (3s by default) per retry. Set
// ContextTimeoutEnabled, and short ReadTimeout/WriteTimeout, for a server that
// may hang.
//
// Redis should run with maxmemory-policy noeviction (or a volatile-* policy
// with room to spare): evicting a user index would hide sessions from
// LogoutAll.
type RedisStore struct {
	client  redis.UniversalClient
	prefix  string
	ordered bool             // one server: the commands of one pipeline run in order
	now     func() time.Time // nil: time.Now (tests set a clock)

	cluster    *redis.ClusterClient // client, when it is one
	ring       *redis.Ring          // client, when it is one
	lastReload atomic.Int64         // when the cluster's slot map was last reloaded, Unix ns

	cache         redis.Cache       // the client's client-side cache, if any
	localCache    *redis.LocalCache // cache, when it is go-redis's own
	front         *RedisClientCache // cache, when it is one of this package's
	cacheNS       string            // go-redis's namespace for cache's Redis keys
	readPastCache bool              // the client caches, but not in a cache the store can reach
}

// Both stores of this package implement Replacer.
var (
	_ Replacer = (*RedisStore)(nil)
	_ Replacer = (*MemoryStore)(nil)
)

// RedisConfig holds a RedisStore's settings; the zero value is the
// default.
type RedisConfig struct {
	// KeyPrefix is the prefix of every key the store writes; "" means
	// "session:". Several apps or environments can share one Redis with
	// different prefixes. A prefix containing "{...}" puts every key in
	// that hash slot, which works but gives up spreading sessions over a
	// cluster.
	KeyPrefix string

	// ClientSideCache serves Get from the client's client-side cache (see
	// RedisStore). It needs a *redis.Client built with Protocol 3 (or 0,
	// go-redis's default, which is RESP3) and Options.ClientSideCache set to
	// a cache: NewRedisClientCache, the fastest for the store, or
	// redis.NewLocalCache; NewRedisStore panics, naming the
	// missing option, when the client has neither. When false, the store
	// reads past any cache the client has (GETEX), so reads are never
	// served from memory.
	ClientSideCache bool

	// Logger, when not nil, receives one Info line at construction saying
	// whether reads are served from the client-side cache.
	Logger *slog.Logger
}

// NewRedisStore returns a Store that keeps sessions in Redis through client,
// with the settings of cfg when one is given
// (NewRedisStore(rdb, session.RedisConfig{KeyPrefix: "myapp:"})).
// It starts no goroutine and needs no Close; the caller owns the client.
// It panics when client is nil, when given more than one RedisConfig,
// ClientSideCache with a
// client that cannot cache (see RedisConfig.ClientSideCache), or a
// *redis.Ring with go-redis's default HeartbeatFn: that ring takes a shard
// it finds down out of its hash and sends the shard's keys to the others,
// where a session reads as signed out (401, not 503) and a Logout deletes
// nothing, and the session is back when the shard is. Give the ring a
// HeartbeatFn that always reports its shards up
// (func(context.Context, *redis.Client) bool { return true }); a call on a
// down shard then fails, and the store guard answers it as an outage.
//
// What it needs from the deployment: Redis 7.0 or newer; maxmemory-policy
// noeviction (an evicted record signs a user out, an evicted index hides
// sessions from LogoutAll); and a client that fails fast, so that a refused
// or stalled Redis costs a request milliseconds, not seconds:
// ContextTimeoutEnabled, DialTimeout, ReadTimeout and WriteTimeout of about
// 500 ms, MaxRetries 1, DialerRetries 1, and DisableIdentity (no CLIENT
// SETINFO on every new connection). The README's "Running Redis in
// production" shows these options in a program its tests build.
func NewRedisStore(client redis.UniversalClient, cfg ...RedisConfig) *RedisStore {
	if len(cfg) > 1 {
		panic(fmt.Sprintf("session: NewRedisStore: %d RedisConfigs, want at most one", len(cfg)))
	}
	if redisring.IsNil(client) {
		panic("session: NewRedisStore: the Redis client is nil")
	}
	var c RedisConfig
	if len(cfg) == 1 {
		c = cfg[0]
	}
	s := &RedisStore{client: client, prefix: c.KeyPrefix}
	if s.prefix == "" {
		s.prefix = defaultRedisKeyPrefix
	}
	if ring, ok := client.(*redis.Ring); ok && redisring.DropsShards(ring) {
		panic("session: NewRedisStore: a redis.Ring with the default HeartbeatFn moves a down shard's sessions to the other shards, signing their users out; " + redisring.Advice)
	}
	_, s.ordered = client.(*redis.Client)
	s.cluster, _ = client.(*redis.ClusterClient)
	s.ring, _ = client.(*redis.Ring)
	if err := s.useClientCache(client, c.ClientSideCache); err != nil {
		panic(err.Error())
	}
	if c.Logger != nil {
		c.Logger.LogAttrs(context.Background(), slog.LevelInfo, "session: redis store",
			slog.String("key_prefix", s.prefix), slog.Bool("client_side_cache", s.cache != nil))
	}
	return s
}

func (s *RedisStore) recordKey(key string) string { return s.prefix + key }

func (s *RedisStore) indexKey(userID string) string { return s.prefix + "u:{" + userID + "}" }

// indexKeys are the two sorted sets of userID's index: store keys by
// horizon, and by creation order. The user ID is their hash tag.
func (s *RedisStore) indexKeys(userID string) []string {
	return []string{s.indexKey(userID), s.prefix + "o:{" + userID + "}"}
}

func wrapRedis(op string, err error) error {
	return fmt.Errorf("session: redis %s: %w", op, err)
}

// redisFirstErr returns the first error among cmds other than redis.Nil.
func redisFirstErr(cmds []redis.Cmder) error {
	for _, c := range cmds {
		if err := c.Err(); err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
	}
	return nil
}

// redisReadErr is redisFirstErr for a pipeline of record reads: a key of
// another type than a string (WRONGTYPE) holds no record of this store's,
// so it reads as gone, like redis.Nil, not as a failing store.
func redisReadErr(cmds []redis.Cmder) error {
	for _, c := range cmds {
		if err := c.Err(); err != nil && !errors.Is(err, redis.Nil) && !redis.HasErrorPrefix(err, "WRONGTYPE") {
			return err
		}
	}
	return nil
}

// Get returns the live record under key with one GET, or none when the
// client's client-side cache holds it. Data is a fresh copy.
// A value that is not a record of this store, or a key of another type
// than a string, reads as ErrNotFound.
func (s *RedisStore) Get(ctx context.Context, key string) (Record, error) {
	return s.getAt(ctx, key, time.Time{}, nil)
}

// getAt is Get for the Manager's load (see loadGetter): now, a time.Now
// reading the Manager took just before, spares a cached read its own clock
// read, unless the store runs on a test's clock or now has no monotonic
// reading.
func (s *RedisStore) getAt(ctx context.Context, key string, now time.Time, _ *callContext) (Record, error) {
	if s.now != nil || now == now.Round(0) {
		now = time.Time{} // read the clock when it is needed
	}
	var err error
	if c, ok := ctx.(*callContext); ok && !now.IsZero() {
		err = c.errAt(now) // the guard's context as of the guard's reading: no clock read
	} else {
		err = ctx.Err()
	}
	if err != nil {
		return Record{}, wrapRedis("get", err)
	}
	if rec, hit := s.cachedRecord(ctx, key); hit {
		if now.IsZero() {
			now = s.clock()
		}
		if !now.Before(rec.Expires) {
			return Record{}, ErrNotFound
		}
		return rec, nil
	}
	// The string, not Bytes: decoding copies only Data out of it.
	v, err := s.get(ctx, s.recordKey(key)).Result()
	if errors.Is(err, redis.Nil) || redis.HasErrorPrefix(err, "WRONGTYPE") {
		// Nothing, or a key of another type (no record of this store's):
		// not found, not a failing store.
		return Record{}, ErrNotFound
	}
	if err != nil {
		return Record{}, s.wrap("get", err)
	}
	rec, ok := decodeRedisRecord(v)
	if !ok || !s.clock().Before(rec.Expires) {
		return Record{}, ErrNotFound
	}
	return rec, nil
}

// clock returns the store's time.
func (s *RedisStore) clock() time.Time {
	if s.now != nil {
		return s.now()
	}
	return time.Now()
}

// Create stores rec under key with SET NX PXAT, pipelined with the update of
// the user's index when rec.UserID is not "": one round trip. Expires is kept
// to the millisecond. A record that has already expired is not stored.
func (s *RedisStore) Create(ctx context.Context, key string, rec Record) error {
	if err := ctx.Err(); err != nil {
		return wrapRedis("create", err)
	}
	if len(rec.UserID) > redisMaxUserIDLen {
		return errRedisUserIDTooLong
	}
	defer s.forget(key)
	now := s.clock().UnixMilli()
	exp := rec.Expires.UnixMilli()
	if exp <= now { // a record that has already expired is not stored
		return nil
	}
	set := s.setCmd(ctx, key, rec, now, exp)
	if rec.UserID == "" {
		_ = s.client.Process(ctx, set)
	} else {
		// The index update follows the SET in the same pipeline. On one
		// server they run in this order, so whoever sees the index entry
		// also sees the record. EVAL, not EVALSHA, keeps this one round trip
		// even right after a server restart.
		pipe := s.client.Pipeline()
		pipe.Process(ctx, set)
		redisIdxAdd.Eval(ctx, pipe, s.indexKeys(rec.UserID), now, redisHorizon(now, exp), key, "1")
		cmds, _ := pipe.Exec(ctx)
		if err := redisFirstErr(cmds); err != nil {
			return s.wrap("create", err)
		}
	}
	switch err := set.Err(); {
	case errors.Is(err, redis.Nil):
		return ErrExists
	case err != nil:
		return s.wrap("create", err)
	}
	return nil
}

// setCmd is the SET NX PXAT that creates rec under key.
func (s *RedisStore) setCmd(ctx context.Context, key string, rec Record, now, exp int64) *redis.StatusCmd {
	h := exp
	if rec.UserID != "" {
		h = redisHorizon(now, exp)
	}
	val := encodeRedisRecord(exp, h, now, rec.UserID, rec.Data)
	return redis.NewStatusCmd(ctx, "set", s.recordKey(key), val, "pxat", exp, "nx")
}

// Update replaces Expires and Data of the live record under key in one
// round trip (a script: read, check, SET PXAT); it never recreates a deleted
// or expired record. The stored UserID is kept whatever rec.UserID says.
func (s *RedisStore) Update(ctx context.Context, key string, rec Record) error {
	return s.extend(ctx, "update", key, rec.Expires, "u", rec.Data)
}

// Touch moves the expiry of the live record under key in one round trip (a
// script: read, check, patch the stored Expires, PEXPIREAT).
func (s *RedisStore) Touch(ctx context.Context, key string, expires time.Time) error {
	return s.extend(ctx, "touch", key, expires, "t", nil)
}

func (s *RedisStore) extend(ctx context.Context, op, key string, expires time.Time, mode string, data []byte) error {
	if err := ctx.Err(); err != nil {
		return wrapRedis(op, err)
	}
	defer s.forget(key)
	rk := s.recordKey(key)
	exp := expires.UnixMilli()
	now := s.clock().UnixMilli()
	if data == nil {
		data = []byte{}
	}
	allowed := ""
	for attempt := 0; ; attempt++ {
		res, err := redisExtend.Run(ctx, s.client, []string{rk}, now, exp, redisHex12(exp), allowed, mode, data).Result()
		if err != nil {
			return s.wrap(op, err)
		}
		switch r := res.(type) {
		case int64:
			if r == 1 {
				return nil
			}
			return ErrNotFound
		case []any:
			if len(r) != 3 || attempt > 0 {
				return wrapRedis(op, errors.New("unexpected script reply"))
			}
			userID, _ := r[1].(string)
			createdHex, _ := r[2].(string)
			created, ok := redisParseHex(createdHex)
			if !ok || userID == "" {
				return wrapRedis(op, errors.New("unexpected script reply"))
			}
			// Extend the index first, so that the record never outlives
			// its index entry, then retry with the new horizon.
			h := redisHorizon(created, exp)
			if err := redisIdxAdd.Run(ctx, s.client, s.indexKeys(userID), now, h, key, "0").Err(); err != nil {
				return s.wrap(op, err)
			}
			allowed = redisHex12(h)
		default:
			return wrapRedis(op, fmt.Errorf("unexpected script reply %T", res))
		}
	}
}

// Delete removes the record under key with one DEL. Its user index entry is
// pruned later, when ListUser or DeleteUser meet it or its score passes.
func (s *RedisStore) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return wrapRedis("delete", err)
	}
	err := s.client.Del(ctx, s.recordKey(key)).Err()
	s.forget(key)
	if err != nil {
		return s.wrap("delete", err)
	}
	return nil
}
