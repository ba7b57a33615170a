package session

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// defaultRedisKeyPrefix is the prefix of every key a RedisStore writes unless
// WithRedisKeyPrefix says otherwise.
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
//	session:u:{<user ID>}      sorted set: the user's store keys
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
// Round trips: Get 1; Create 1 (a pipeline of SET NX and the index update);
// Update 1; Touch 1; Delete 1. When Update or Touch extend a session past what
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
// plus about a second), its shard fails; with Redis's default
// cluster-require-full-coverage yes the whole cluster answers CLUSTERDOWN
// from the moment the master is marked failed until the promotion.
//
// Client-side caching (opt-in): on a *redis.Client built with
// Options.ClientSideCache set to a redis.NewLocalCache (go-redis's
// server-assisted caching over RESP3, experimental in go-redis), Get is
// served from process memory once a record has been read, with no round
// trip. Redis pushes an invalidation to every client that cached a record
// when it changes, is deleted or expires, so a Logout, LogoutAll, update or
// idle extension on one instance reaches the others after a delay of a few
// milliseconds (go-redis reads an idle connection's invalidations every
// 5 ms, or every DrainInterval of Options.ClientSideCacheConfig, which
// go-redis v9.23 reads from there even when ClientSideCache supplies the
// cache); CacheConfig.MaxStaleness is the only hard bound, for
// invalidations held back by a network partition.
// The store's own writes drop what they change from its cache at once, and
// expiry is checked from the record on every read, so a stale entry can
// end a session early but never extend one. go-redis caches only for a
// single server in DB 0 (not Cluster, Sentinel or Ring clients, which stay
// uncached); a client caching through Options.ClientSideCacheConfig alone,
// whose cache the store cannot reach, is read past with GETEX. Each cached
// session costs about 1 KB of heap; the cache is bounded by
// CacheConfig.MaxEntries (10,000 when unset) or MaxMemoryBytes (which
// counts go-redis's estimate, about 40% of the real heap).
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
	ordered bool // one server: the commands of one pipeline run in order
	now     func() time.Time

	cluster    *redis.ClusterClient // client, when it is one
	lastReload atomic.Int64         // when the cluster's slot map was last reloaded, Unix ns

	cache         redis.Cache // the client's client-side cache, if any
	cacheNS       string      // go-redis's namespace for cache's Redis keys
	readPastCache bool        // the client caches, but not in a cache the store can reach
}

// RedisOption configures a RedisStore.
type RedisOption func(*RedisStore)

// WithRedisKeyPrefix sets the prefix of every key the store writes (default
// "session:"), so that several apps or environments can share one Redis. A
// prefix containing "{...}" puts every key in that hash slot, which works but
// gives up spreading sessions over a cluster.
func WithRedisKeyPrefix(prefix string) RedisOption {
	return func(s *RedisStore) { s.prefix = prefix }
}

// NewRedisStore returns a Store that keeps sessions in Redis through client.
// It starts no goroutine and needs no Close; the caller owns the client.
//
// What it needs from the deployment: Redis 7.0 or newer; maxmemory-policy
// noeviction (an evicted record signs a user out, an evicted index hides
// sessions from LogoutAll); and a client that fails fast, so that a refused
// or stalled Redis costs a request milliseconds, not seconds:
// ContextTimeoutEnabled, DialTimeout, ReadTimeout and WriteTimeout of about
// 500 ms, MaxRetries 1, DialerRetries 1, and DisableIdentity (no CLIENT
// SETINFO on every new connection). The README's "Running Redis in
// production" shows these options in a program its tests build.
func NewRedisStore(client redis.UniversalClient, opts ...RedisOption) *RedisStore {
	s := &RedisStore{client: client, prefix: defaultRedisKeyPrefix, now: time.Now}
	_, s.ordered = client.(*redis.Client)
	s.cluster, _ = client.(*redis.ClusterClient)
	s.useClientCache(client)
	for _, o := range opts {
		o(s)
	}
	return s
}

func (s *RedisStore) recordKey(key string) string { return s.prefix + key }

func (s *RedisStore) indexKey(userID string) string { return s.prefix + "u:{" + userID + "}" }

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

// Get returns the live record under key with one GET, or none when the
// client's client-side cache holds it. Data is a fresh copy.
// A value that is not a record of this store reads as ErrNotFound.
func (s *RedisStore) Get(ctx context.Context, key string) (Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, wrapRedis("get", err)
	}
	if rec, hit := s.cachedRecord(ctx, key); hit {
		if !s.now().Before(rec.Expires) {
			return Record{}, ErrNotFound
		}
		return rec, nil
	}
	// The string, not Bytes: decoding copies only Data out of it.
	v, err := s.get(ctx, s.recordKey(key)).Result()
	if errors.Is(err, redis.Nil) {
		return Record{}, ErrNotFound
	}
	if err != nil {
		return Record{}, s.wrap("get", err)
	}
	rec, ok := decodeRedisRecord(v)
	if !ok || !s.now().Before(rec.Expires) {
		return Record{}, ErrNotFound
	}
	return rec, nil
}

// Create stores rec under key with SET NX PXAT, pipelined with the update of
// the user's index when rec.UserID is not "": one round trip. Expires is kept
// to the millisecond. A record that has already expired is not stored.
func (s *RedisStore) Create(ctx context.Context, key string, rec Record) error {
	_, err := s.create(ctx, "", key, rec)
	return err
}

// CreateCounting is Replace (Create when oldKey is "") that also returns
// the number of entries in the user's index after the create: at least the
// user's live sessions. It is the same one round trip (it implements
// CountingCreator).
func (s *RedisStore) CreateCounting(ctx context.Context, oldKey, key string, rec Record) (int, error) {
	return s.create(ctx, oldKey, key, rec)
}

// create deletes oldKey when it is not "" and creates rec under key, all in
// one round trip, and returns the size of the user's index (0 for an
// anonymous record).
func (s *RedisStore) create(ctx context.Context, oldKey, key string, rec Record) (n int, err error) {
	if err := ctx.Err(); err != nil {
		return 0, wrapRedis("create", err)
	}
	if len(rec.UserID) > redisMaxUserIDLen {
		return 0, errRedisUserIDTooLong
	}
	defer s.forget(oldKey, key)
	now := s.now().UnixMilli()
	exp := rec.Expires.UnixMilli()
	var set *redis.StatusCmd
	if exp > now { // a record that has already expired is not stored
		h := exp
		if rec.UserID != "" {
			h = redisHorizon(now, exp)
		}
		val := encodeRedisRecord(exp, h, now, rec.UserID, rec.Data)
		set = redis.NewStatusCmd(ctx, "set", s.recordKey(key), val, "pxat", exp, "nx")
	}
	switch {
	case set == nil && oldKey == "":
		return 0, nil
	case rec.UserID == "" && oldKey == "":
		_ = s.client.Process(ctx, set)
	case set == nil:
		if err := s.client.Del(ctx, s.recordKey(oldKey)).Err(); err != nil {
			return 0, s.wrap("create", err)
		}
		return 0, nil
	default:
		// The index update follows the SET in the same pipeline. On one
		// server they run in this order, so whoever sees the index entry
		// also sees the record. EVAL, not EVALSHA, keeps this one round trip
		// even right after a server restart.
		pipe := s.client.Pipeline()
		if oldKey != "" {
			pipe.Del(ctx, s.recordKey(oldKey))
		}
		pipe.Process(ctx, set)
		var idx *redis.Cmd
		if rec.UserID != "" {
			idx = redisIdxAdd.Eval(ctx, pipe, []string{s.indexKey(rec.UserID)}, now, redisHorizon(now, exp), key)
		}
		cmds, _ := pipe.Exec(ctx)
		if err := redisFirstErr(cmds); err != nil {
			return 0, s.wrap("create", err)
		}
		if idx != nil {
			c, _ := idx.Int64()
			n = int(c)
		}
	}
	switch err := set.Err(); {
	case errors.Is(err, redis.Nil):
		return n, ErrExists
	case err != nil:
		return n, s.wrap("create", err)
	}
	return n, nil
}

// Replace deletes the record under oldKey and creates rec under newKey, as
// Delete then Create would, in one pipelined round trip instead of two. It is
// the login and renew path: a Manager that finds this method on its store
// uses it instead of the two calls. If the create fails the old record is
// gone all the same. An empty oldKey only creates.
func (s *RedisStore) Replace(ctx context.Context, oldKey, newKey string, rec Record) error {
	_, err := s.create(ctx, oldKey, newKey, rec)
	return err
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
	now := s.now().UnixMilli()
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
			if err := redisIdxAdd.Run(ctx, s.client, []string{s.indexKey(userID)}, now, h, key).Err(); err != nil {
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
