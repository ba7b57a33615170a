package session

import (
	"context"
	"hash/maphash"
	"sync/atomic"
	"unsafe"

	"github.com/redis/go-redis/v9"
)

// RedisClientCache is a client-side cache for go-redis (a redis.Cache, for
// redis.Options.ClientSideCache) that a RedisStore with
// RedisConfig.ClientSideCache reads at about the cost of a MemoryStore read.
//
// It is go-redis's LocalCache, built from the same CacheConfig, in front
// of which it keeps up to 4,096 session records the store has already
// decoded, one per slot of a table indexed by the Redis key; with
// MaxEntries set, the power of two at or above it when that is fewer, and
// with MaxMemoryBytes set, no more than one slot per KiB of it. A record of
// more than 1 KiB (as stored in Redis) is never put in front. A store's
// read looks there first: one hash of the key, three atomic loads, an
// atomic add to the count of hits, and with MaxStaleness set a monotonic
// clock reading; no lock, no copy, no allocation. Every invalidation
// go-redis applies passes through the cache's methods, so the records in
// front are dropped with the ones behind it:
//   - DeleteByRedisKey (an invalidation Redis pushed, or the store's own
//     write) makes the records in that key's slot unusable;
//   - EvictByConn, Flush and DeleteByCacheKey make every record in front
//     unusable.
//
// A record is only put in front with the slot's state as it was before
// it was read from the LocalCache, so an invalidation that lands during
// that read leaves it unusable too. With CacheConfig.MaxStaleness set,
// the LocalCache keeps an entry for half of it (from when go-redis stored
// the reply) and the record in front lives for the other half (from the
// read that put it there, on the monotonic clock), so nothing is served
// later than MaxStaleness after it was read from Redis, as with LocalCache
// alone.
//
// What go-redis does differently with a cache that is not its own
// LocalCache: its GET of a cached key returns a copy of the value (one
// allocation the store's reads do not make), and the options that need
// the built-in cache (ClientSideCacheCoalesceMisses,
// ClientSideCacheRefreshOnInvalidate,
// ClientSideCacheInvalidationBatchWindow) are ignored: every invalidation
// is applied as it arrives.
//
// Memory: the LocalCache's, bounded as its CacheConfig says, plus the
// records in front, which share nothing with it: about 300 bytes each for
// a 100-byte record, so about 1.2 MB when all 4,096 slots are full, and at
// most about 1.4 KB per slot (a 1 KiB record and its key). Stats counts the hits served from the front
// with the LocalCache's, so client.CSCStats, and otelsession's cache
// counters, see every hit; its Entries and MemoryUsageBytes are the
// LocalCache's alone.
//
// Share one RedisClientCache only between clients of the same Redis
// server, as go-redis's own cache.
type RedisClientCache struct {
	inner   localCache
	limited bool  // CacheConfig.MaxStaleness was set: a record in front lives for ttl
	ttl     int64 // how long a record stays in front when limited, in ns
	seed    maphash.Seed
	mask    uint64
	slots   []frontSlot
	epoch   atomic.Uint64 // bumped when every record in front must go
	_       [64]byte      // keeps the hit counts off the line of epoch
	hits    [frontHitStripes]frontCounter
}

// localCache is the go-redis LocalCache behind a RedisClientCache (an
// interface so that tests can watch the calls to it).
type localCache interface {
	redis.Cache
	Stats() redis.CSCStats
}

// frontSlotsMax is the most slots a RedisClientCache's front has, and
// frontMaxRecord the size of the largest record (as stored in Redis) it
// keeps; MaxMemoryBytes gives it one slot per frontMaxRecord bytes.
const (
	frontSlotsMax  = 4096
	frontMaxRecord = 1024
)

// frontHitStripes spreads the count of front hits over several cache lines,
// by key, so that reads of different sessions on different cores rarely
// write the same one (reads of one session all write one).
const frontHitStripes = 8

type frontCounter struct {
	n atomic.Uint64
	_ [56]byte
}

// frontSlot holds at most one record. gen counts the invalidations of the
// Redis keys that map to the slot: a record is served only while gen and
// the cache's epoch are what they were before it was read.
type frontSlot struct {
	gen atomic.Uint64
	e   atomic.Pointer[frontEntry]
}

// frontEntry is a decoded record in front, immutable once stored.
type frontEntry struct {
	key   string // the Redis key, with go-redis's namespace
	gen   uint64 // the slot's gen before the record was read
	epoch uint64 // the cache's epoch before the record was read
	until int64  // monoNow past which it is not served, when limited
	rec   Record
}

var _ redis.Cache = (*RedisClientCache)(nil)

// NewRedisClientCache returns a RedisClientCache over a go-redis LocalCache
// built from cfg (see redis.NewLocalCache for its fields and defaults).
// It starts no goroutine; its front costs 16 bytes per slot before anything
// is cached (64 KB for 4,096).
func NewRedisClientCache(cfg redis.CacheConfig) *RedisClientCache {
	c := &RedisClientCache{seed: maphash.MakeSeed()}
	if cfg.MaxStaleness > 0 {
		ttl := cfg.MaxStaleness / 2
		c.limited, c.ttl = true, int64(ttl)
		cfg.MaxStaleness -= ttl
	}
	n := frontSlotsMax
	for n > 1 && (cfg.MaxEntries > 0 && n/2 >= cfg.MaxEntries || cfg.MaxMemoryBytes > 0 && int64(n)*frontMaxRecord > cfg.MaxMemoryBytes) {
		n /= 2
	}
	c.slots = make([]frontSlot, n)
	c.mask = uint64(n - 1)
	c.inner = redis.NewLocalCache(cfg)
	return c
}

func (c *RedisClientCache) slot(redisKey string) (*frontSlot, uint64) {
	h := maphash.String(c.seed, redisKey)
	return &c.slots[h&c.mask], h
}

// record returns the record of the store key key from the front, or reads
// it from the LocalCache and puts it in front; hit is false when neither
// holds it.
func (c *RedisClientCache) record(ctx context.Context, s *RedisStore, key string) (rec Record, hit bool) {
	var buf [256]byte
	nk := append(append(append(buf[:0], s.cacheNS...), s.prefix...), key...)
	name := unsafe.String(unsafe.SliceData(nk), len(nk))
	slot, h := c.slot(name)
	gen, epoch := slot.gen.Load(), c.epoch.Load()
	var now int64
	if c.limited {
		now = monoNow() // before the LocalCache's read, for the fill below
	}
	if e := slot.e.Load(); e != nil && e.key == name && e.gen == gen && e.epoch == epoch && (!c.limited || now < e.until) {
		c.hits[h%frontHitStripes].n.Add(1)
		return e.rec, true
	}
	// Read the LocalCache after taking gen and epoch: an invalidation
	// from here on leaves the entry below unusable.
	var kb [256]byte
	ck := s.appendCacheKey(kb[:0], key)
	raw, ok := c.inner.Get(ctx, unsafe.String(unsafe.SliceData(ck), len(ck)))
	if !ok {
		return Record{}, false
	}
	v, ok := respBlob(raw)
	if !ok {
		return Record{}, false
	}
	rec, ok = decodeRedisRecordOwned(v) // raw is Get's own copy
	if !ok {
		return Record{}, false
	}
	if len(v) > frontMaxRecord {
		return rec, true
	}
	e := &frontEntry{key: string(nk), gen: gen, epoch: epoch, rec: rec}
	if c.limited {
		e.until = now + c.ttl
	}
	slot.e.Store(e)
	return rec, true
}

// Get returns a copy of the reply cached under cacheKey, as
// redis.LocalCache.Get does.
func (c *RedisClientCache) Get(ctx context.Context, cacheKey string) ([]byte, bool) {
	return c.inner.Get(ctx, cacheKey)
}

// Reserve claims a missing cache key for fetching, as
// redis.LocalCache.Reserve does.
func (c *RedisClientCache) Reserve(cacheKey string, redisKeys []string) (token uint64, shouldFetch bool) {
	return c.inner.Reserve(cacheKey, redisKeys)
}

// FulfillOwned publishes a reserved reply, as redis.LocalCache.FulfillOwned
// does.
func (c *RedisClientCache) FulfillOwned(cacheKey string, token, ownerConnID uint64, value []byte) bool {
	return c.inner.FulfillOwned(cacheKey, token, ownerConnID, value)
}

// Cancel gives up a reservation, as redis.LocalCache.Cancel does.
func (c *RedisClientCache) Cancel(cacheKey string, token uint64) bool {
	return c.inner.Cancel(cacheKey, token)
}

// DeleteByRedisKey drops what is cached for redisKey, in front and behind.
func (c *RedisClientCache) DeleteByRedisKey(redisKey string) int {
	n := c.inner.DeleteByRedisKey(redisKey)
	// After the LocalCache's delete: a record read from it before the
	// delete carries an older gen.
	slot, _ := c.slot(redisKey)
	g := slot.gen.Add(1)
	if e := slot.e.Load(); e != nil && e.gen < g {
		slot.e.CompareAndSwap(e, nil) // unusable already; let it go
	}
	return n
}

// DeleteByCacheKey drops one cached reply, and everything in front.
func (c *RedisClientCache) DeleteByCacheKey(cacheKey string) bool {
	ok := c.inner.DeleteByCacheKey(cacheKey)
	c.epoch.Add(1)
	return ok
}

// EvictByConn drops the replies fetched on connection connID, and
// everything in front (which does not record the connection).
func (c *RedisClientCache) EvictByConn(connID uint64) int {
	n := c.inner.EvictByConn(connID)
	c.epoch.Add(1)
	return n
}

// Flush drops everything.
func (c *RedisClientCache) Flush() int {
	n := c.inner.Flush()
	c.epoch.Add(1)
	for i := range c.slots {
		c.slots[i].e.Store(nil)
	}
	return n
}

// Stats reports the LocalCache's counts, with the hits served from the
// front added to its hits.
func (c *RedisClientCache) Stats() redis.CSCStats {
	st := c.inner.Stats()
	for i := range c.hits {
		st.Hits += c.hits[i].n.Load()
	}
	return st
}
