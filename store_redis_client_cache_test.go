package session

import (
	"context"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// frontRig is a RedisClientCache and a RedisStore that reads it, with no
// Redis server: the test puts replies in the cache as go-redis would after
// a GET (Reserve, then FulfillOwned).
type frontRig struct {
	c        *RedisClientCache
	s        *RedisStore
	behind   *watchedCache // the LocalCache behind c
	key      string        // the store key
	cacheKey string        // go-redis's cache key of the GET of key
	redisKey string        // the Redis key, with go-redis's namespace
}

// watchedCache is a LocalCache that runs a test's function, once, as Get
// returns or before a drop (DeleteByRedisKey, DeleteByCacheKey,
// EvictByConn, Flush) starts.
type watchedCache struct {
	localCache
	afterGet, beforeDrop func()
}

func once(f *func()) {
	if g := *f; g != nil {
		*f = nil
		g()
	}
}

func (w *watchedCache) Get(ctx context.Context, cacheKey string) ([]byte, bool) {
	v, ok := w.localCache.Get(ctx, cacheKey)
	once(&w.afterGet)
	return v, ok
}

func (w *watchedCache) DeleteByRedisKey(redisKey string) int {
	once(&w.beforeDrop)
	return w.localCache.DeleteByRedisKey(redisKey)
}

func (w *watchedCache) DeleteByCacheKey(cacheKey string) bool {
	once(&w.beforeDrop)
	return w.localCache.DeleteByCacheKey(cacheKey)
}

func (w *watchedCache) EvictByConn(connID uint64) int {
	once(&w.beforeDrop)
	return w.localCache.EvictByConn(connID)
}

func (w *watchedCache) Flush() int {
	once(&w.beforeDrop)
	return w.localCache.Flush()
}

func newFrontRig(cfg redis.CacheConfig) *frontRig {
	c := NewRedisClientCache(cfg)
	behind := &watchedCache{localCache: c.inner}
	c.inner = behind
	s := &RedisStore{prefix: "p:", cache: c, front: c, cacheNS: cscNamespace(0, "")}
	r := &frontRig{c: c, s: s, behind: behind, key: "k"}
	r.cacheKey = string(s.appendCacheKey(nil, r.key))
	r.redisKey = s.cacheNS + s.recordKey(r.key)
	return r
}

// publish caches the reply of a GET of the rig's key: a record whose Data
// is version, fetched on connection conn.
func (r *frontRig) publish(t testing.TB, version int, conn uint64) {
	r.publishData(t, []byte(strconv.Itoa(version)), conn)
}

func (r *frontRig) publishData(t testing.TB, data []byte, conn uint64) {
	tok, ok := r.c.Reserve(r.cacheKey, []string{r.redisKey})
	if !ok {
		t.Fatal("Reserve: another fetch holds the key")
	}
	exp := time.Now().Add(time.Hour).UnixMilli()
	v := encodeRedisRecord(exp, exp, exp, "u", data)
	reply := append([]byte("$"+strconv.Itoa(len(v))+"\r\n"), v...)
	if !r.c.FulfillOwned(r.cacheKey, tok, conn, append(reply, "\r\n"...)) {
		t.Fatal("FulfillOwned refused the reply")
	}
}

// read reads the rig's key as the store does, and returns the version read
// (-1 for none) and whether the front served it.
func (r *frontRig) read(t testing.TB) (version int, fromFront bool) {
	behind := r.c.inner.Stats()
	rec, hit := r.c.record(context.Background(), r.s, r.key)
	after := r.c.inner.Stats()
	if !hit {
		return -1, false
	}
	v, err := strconv.Atoi(string(rec.Data))
	if err != nil || rec.UserID != "u" {
		t.Fatalf("read %q (user %q)", rec.Data, rec.UserID)
	}
	return v, after.Hits == behind.Hits && after.Misses == behind.Misses
}

func TestRedisClientCacheServesRepeatReadsFromItsFront(t *testing.T) {
	t.Parallel()
	r := newFrontRig(redis.CacheConfig{MaxEntries: 100})
	if v, _ := r.read(t); v != -1 {
		t.Fatalf("empty cache: read version %d", v)
	}
	r.publish(t, 1, 7)
	if v, front := r.read(t); v != 1 || front {
		t.Fatalf("first read = version %d, from the front %v; want 1 from the LocalCache", v, front)
	}
	for range 3 {
		if v, front := r.read(t); v != 1 || !front {
			t.Fatalf("next read = version %d, from the front %v; want 1 from the front", v, front)
		}
	}
	st, inner := r.c.Stats(), r.c.inner.Stats()
	if st.Hits != inner.Hits+3 || st.Misses != inner.Misses || st.Entries != inner.Entries {
		t.Errorf("Stats = %+v, LocalCache's = %+v; want its hits plus the front's 3", st, inner)
	}
}

// frontDrops are the ways go-redis (or the store) drops what a rig cached,
// the rig's record fetched on connection 7.
var frontDrops = []struct {
	name       string
	drop       func(r *frontRig)
	keptBehind bool // the LocalCache still holds the reply
	releases   bool // the front lets go of the record at once
}{
	{"DeleteByRedisKey", func(r *frontRig) { r.c.DeleteByRedisKey(r.redisKey) }, false, true},
	{"EvictByConn of its connection", func(r *frontRig) { r.c.EvictByConn(7) }, false, false},
	{"EvictByConn of another connection", func(r *frontRig) { r.c.EvictByConn(8) }, true, false},
	{"DeleteByCacheKey of another key", func(r *frontRig) { r.c.DeleteByCacheKey("other") }, true, false},
	{"Flush", func(r *frontRig) { r.c.Flush() }, false, true},
}

// TestRedisClientCacheDropsItsFrontWithEveryInvalidation: each way go-redis
// (or the store) drops an entry also makes the record in front unusable,
// including those that leave the LocalCache's own entry in place.
func TestRedisClientCacheDropsItsFrontWithEveryInvalidation(t *testing.T) {
	t.Parallel()
	for _, tt := range frontDrops {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newFrontRig(redis.CacheConfig{MaxEntries: 100})
			r.publish(t, 1, 7)
			r.read(t)
			if _, front := r.read(t); !front {
				t.Fatal("the record never reached the front")
			}
			tt.drop(r)
			v, front := r.read(t)
			if front {
				t.Fatal("the front still served the record")
			}
			if want := map[bool]int{true: 1, false: -1}[tt.keptBehind]; v != want {
				t.Fatalf("read version %d, want %d", v, want)
			}
		})
	}
}

// TestRedisClientCacheServesNothingPastMaxStaleness: with MaxStaleness set,
// a record stays in front for half of it and the LocalCache keeps its entry
// for the other half, so neither serves it later than MaxStaleness after it
// was read from Redis.
func TestRedisClientCacheServesNothingPastMaxStaleness(t *testing.T) {
	t.Parallel()
	const maxStaleness = 2 * time.Second
	r := newFrontRig(redis.CacheConfig{MaxEntries: 100, MaxStaleness: maxStaleness})
	r.publish(t, 1, 7)
	r.read(t)
	filled := time.Now() // the front's half runs from before this
	if v, front := r.read(t); v != 1 || !front {
		t.Fatalf("read right away: version %d, from the front %v; want 1 from the front", v, front)
	}
	// Both halves have passed: a cache that served the record now would
	// serve it for longer than MaxStaleness once the two are added.
	time.Sleep(time.Until(filled.Add(maxStaleness/2 + 100*time.Millisecond)))
	start := filled
	if v, front := r.read(t); v != -1 {
		t.Fatalf("read %v after the fetch: version %d (from the front %v); want none", time.Since(start), v, front)
	}
}

// TestRedisClientCacheFrontKeepsOnlySmallRecords: a record of more than
// 1 KiB is read from the LocalCache every time, so the front stays within
// about 1.2 KB per slot.
func TestRedisClientCacheFrontKeepsOnlySmallRecords(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		dataLen   int
		fromFront bool
	}{{100, true}, {frontMaxRecord - 42, true}, {frontMaxRecord - 41, false}} {
		r := newFrontRig(redis.CacheConfig{MaxEntries: 100})
		r.publishData(t, make([]byte, tt.dataLen), 7)
		for range 2 {
			if rec, hit := r.c.record(context.Background(), r.s, r.key); !hit || len(rec.Data) != tt.dataLen {
				t.Fatalf("%d bytes of Data: read %d, hit %v", tt.dataLen, len(rec.Data), hit)
			}
		}
		if fromFront := r.c.Stats().Hits > r.c.inner.Stats().Hits; fromFront != tt.fromFront {
			t.Errorf("%d bytes of Data: the second read came from the front: %v, want %v", tt.dataLen, fromFront, tt.fromFront)
		}
	}
}

// TestRedisClientCacheFrontNeverServesAnotherKeysRecord: keys that share a
// slot (here, the only one) never get each other's record.
func TestRedisClientCacheFrontNeverServesAnotherKeysRecord(t *testing.T) {
	t.Parallel()
	r := newFrontRig(redis.CacheConfig{MaxEntries: 1})
	if len(r.c.slots) != 1 {
		t.Fatalf("%d slots, want 1", len(r.c.slots))
	}
	r.publish(t, 1, 7)
	r.read(t)
	if _, front := r.read(t); !front {
		t.Fatal("the record never reached the front")
	}
	for _, other := range []string{"other", "k2", "", "K"} {
		if rec, hit := r.c.record(context.Background(), r.s, other); hit {
			t.Fatalf("read of %q served %q's record %+v", other, r.key, rec)
		}
	}
}

// TestRedisClientCacheLetsGoOfWhatItDrops: a record whose key was
// invalidated, or flushed, does not stay in memory until its slot is reused.
func TestRedisClientCacheLetsGoOfWhatItDrops(t *testing.T) {
	t.Parallel()
	for _, tt := range frontDrops {
		if !tt.releases {
			continue // the epoch makes the record unusable; its slot's next fill lets it go
		}
		r := newFrontRig(redis.CacheConfig{MaxEntries: 1})
		r.publish(t, 1, 7)
		r.read(t)
		if r.c.slots[0].e.Load() == nil {
			t.Fatal("the record never reached the front")
		}
		tt.drop(r)
		if e := r.c.slots[0].e.Load(); e != nil {
			t.Errorf("%s: the front still holds the record %+v", tt.name, e.rec)
		}
	}
}

func TestNewRedisClientCacheSizesItsFrontByItsBounds(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		maxEntries int
		maxBytes   int64
		slots      int
	}{
		{0, 0, 4096}, {1, 0, 1}, {2, 0, 2}, {10, 0, 16}, {64, 0, 64}, {4096, 0, 4096}, {100_000, 0, 4096},
		{0, 100, 1}, {0, 1 << 20, 1024}, {0, 1<<20 - 1, 512}, {0, 1 << 30, 4096}, {10, 1 << 30, 16}, {100_000, 64 << 10, 64},
	} {
		if got := len(NewRedisClientCache(redis.CacheConfig{MaxEntries: tt.maxEntries, MaxMemoryBytes: tt.maxBytes}).slots); got != tt.slots {
			t.Errorf("MaxEntries %d, MaxMemoryBytes %d: %d slots, want %d", tt.maxEntries, tt.maxBytes, got, tt.slots)
		}
	}
}

// TestRedisClientCacheIgnoresARecordInvalidatedWhileItWasRead: an
// invalidation that lands between the LocalCache's answer and the record's
// arrival in front leaves it unusable there.
func TestRedisClientCacheIgnoresARecordInvalidatedWhileItWasRead(t *testing.T) {
	t.Parallel()
	for _, tt := range frontDrops {
		if tt.keptBehind {
			continue // the LocalCache still has version 1: nothing new to read
		}
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newFrontRig(redis.CacheConfig{MaxEntries: 100})
			r.publish(t, 1, 7)
			r.behind.afterGet = func() {
				tt.drop(r)
				r.publish(t, 2, 7) // go-redis's next GET
			}
			if v, _ := r.read(t); v != 1 {
				t.Fatalf("the read that raced the invalidation = version %d, want 1", v)
			}
			if v, front := r.read(t); v != 2 || front {
				t.Fatalf("the next read = version %d, from the front %v; want 2 from the LocalCache", v, front)
			}
			if v, front := r.read(t); v != 2 || !front {
				t.Fatalf("then = version %d, from the front %v; want 2 from the front", v, front)
			}
		})
	}
}

// TestRedisClientCacheDropsBehindBeforeInFront: each drop empties the
// LocalCache before it makes the front unusable: a read just before the
// LocalCache's drop puts the record in front with the state the front's
// drop then changes (the other order would let that read put it in front
// for good).
func TestRedisClientCacheDropsBehindBeforeInFront(t *testing.T) {
	t.Parallel()
	for _, tt := range frontDrops {
		if tt.keptBehind {
			continue
		}
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newFrontRig(redis.CacheConfig{MaxEntries: 100})
			r.publish(t, 1, 7)
			r.behind.beforeDrop = func() {
				if v, _ := r.read(t); v != 1 {
					t.Errorf("a read just before the LocalCache's drop = version %d, want 1", v)
				}
			}
			tt.drop(r)
			if v, front := r.read(t); v != -1 {
				t.Fatalf("after the drop: version %d (from the front %v), want none", v, front)
			}
		})
	}
}

// TestRedisClientCacheNeverServesARecordPastItsInvalidation races readers
// against a writer that publishes version after version of one record, as
// go-redis does after each invalidation. Once DeleteByRedisKey has returned
// for a version, no read that starts afterwards may return it: a record
// read from the LocalCache just before the delete and put in front just
// after it must not be served.
func TestRedisClientCacheNeverServesARecordPastItsInvalidation(t *testing.T) {
	t.Parallel()
	r := newFrontRig(redis.CacheConfig{MaxEntries: 100})
	var dropped atomic.Int64 // every version up to this one has been invalidated
	var stop atomic.Bool
	var wg sync.WaitGroup
	var reads, fromFront atomic.Int64
	for range runtime.GOMAXPROCS(0) - 1 { // the writer must not wait for a core
		wg.Go(func() {
			for !stop.Load() {
				d := dropped.Load()
				v, front := r.read(t)
				reads.Add(1)
				if front {
					fromFront.Add(1)
				}
				if v != -1 && int64(v) <= d {
					t.Errorf("read version %d after version %d was invalidated (from the front: %v)", v, d, front)
					stop.Store(true)
				}
			}
		})
	}
	deadline := time.Now().Add(2 * time.Second)
	for v := 1; v <= 20000 && time.Now().Before(deadline) && !stop.Load(); v++ {
		r.publish(t, v, 7)
		for range v % 4 {
			runtime.Gosched() // give the readers time to find it, some of the time
		}
		r.c.DeleteByRedisKey(r.redisKey)
		dropped.Store(int64(v))
	}
	stop.Store(true)
	wg.Wait()
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("one core: no reader ran beside the writer")
	}
	t.Logf("%d reads, %d from the front, up to version %d", reads.Load(), fromFront.Load(), dropped.Load())
	if fromFront.Load() == 0 {
		t.Error("no read came from the front: the race went untested")
	}
}

// FuzzRedisClientCacheRecord puts arbitrary bytes in the cache where
// go-redis would put the reply of a GET, and reads them as the store does,
// twice (the second time from the front when the first took them): never a
// panic, and a hit only for a whole blob string that decodes as a record,
// the same record both times.
func FuzzRedisClientCacheRecord(f *testing.F) {
	exp := time.Now().Add(time.Hour).UnixMilli()
	v := encodeRedisRecord(exp, exp, exp, "alice", []byte("data"))
	f.Add(append(append([]byte("$"+strconv.Itoa(len(v))+"\r\n"), v...), "\r\n"...))
	f.Add([]byte("$-1\r\n"))
	f.Add([]byte("_\r\n"))
	f.Add([]byte("$3\r\nabc\r\n"))
	f.Fuzz(func(t *testing.T, reply []byte) {
		r := newFrontRig(redis.CacheConfig{MaxEntries: 4})
		tok, ok := r.c.Reserve(r.cacheKey, []string{r.redisKey})
		if !ok || !r.c.FulfillOwned(r.cacheKey, tok, 7, reply) {
			t.Skip("the LocalCache refused the reply")
		}
		first, hit := r.c.record(context.Background(), r.s, r.key)
		blob, isBlob := respBlob(reply)
		want, isRecord := decodeRedisRecord(blob)
		if hit != (isBlob && isRecord) {
			t.Fatalf("hit %v for a reply that is a blob %v holding a record %v", hit, isBlob, isRecord)
		}
		if !hit {
			return
		}
		second, hit := r.c.record(context.Background(), r.s, r.key)
		for _, got := range []Record{first, second} {
			if got.UserID != want.UserID || !got.Expires.Equal(want.Expires) || string(got.Data) != string(want.Data) {
				t.Fatalf("read %+v, want %+v", got, want)
			}
		}
		if !hit {
			t.Fatal("the second read missed")
		}
	})
}
