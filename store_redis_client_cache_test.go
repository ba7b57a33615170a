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
	key      string // the store key
	cacheKey string // go-redis's cache key of the GET of key
	redisKey string // the Redis key, with go-redis's namespace
}

func newFrontRig(cfg redis.CacheConfig) *frontRig {
	c := NewRedisClientCache(cfg)
	s := &RedisStore{prefix: "p:", cache: c, front: c, cacheNS: cscNamespace(0, "")}
	r := &frontRig{c: c, s: s, key: "k"}
	r.cacheKey = string(s.appendCacheKey(nil, r.key))
	r.redisKey = s.cacheNS + s.recordKey(r.key)
	return r
}

// publish caches the reply of a GET of the rig's key: a record whose Data
// is version, fetched on connection conn.
func (r *frontRig) publish(t testing.TB, version int, conn uint64) {
	tok, ok := r.c.Reserve(r.cacheKey, []string{r.redisKey})
	if !ok {
		t.Fatal("Reserve: another fetch holds the key")
	}
	exp := time.Now().Add(time.Hour).UnixMilli()
	v := encodeRedisRecord(exp, exp, exp, "u", []byte(strconv.Itoa(version)))
	reply := append([]byte("$"+strconv.Itoa(len(v))+"\r\n"), v...)
	if !r.c.FulfillOwned(r.cacheKey, tok, conn, append(reply, "\r\n"...)) {
		t.Fatal("FulfillOwned refused the reply")
	}
}

// read reads the rig's key as the store does, and returns the version read
// (-1 for none) and whether the front served it.
func (r *frontRig) read(t testing.TB, now time.Time) (version int, fromFront bool) {
	behind := r.c.inner.Stats()
	rec, hit := r.c.record(context.Background(), r.s, r.key, now)
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
	if v, _ := r.read(t, time.Time{}); v != -1 {
		t.Fatalf("empty cache: read version %d", v)
	}
	r.publish(t, 1, 7)
	if v, front := r.read(t, time.Time{}); v != 1 || front {
		t.Fatalf("first read = version %d, from the front %v; want 1 from the LocalCache", v, front)
	}
	for range 3 {
		if v, front := r.read(t, time.Time{}); v != 1 || !front {
			t.Fatalf("next read = version %d, from the front %v; want 1 from the front", v, front)
		}
	}
	st, inner := r.c.Stats(), r.c.inner.Stats()
	if st.Hits != inner.Hits+3 || st.Misses != inner.Misses || st.Entries != inner.Entries {
		t.Errorf("Stats = %+v, LocalCache's = %+v; want its hits plus the front's 3", st, inner)
	}
}

// TestRedisClientCacheDropsItsFrontWithEveryInvalidation: each way go-redis
// (or the store) drops an entry also makes the record in front unusable,
// including those that leave the LocalCache's own entry in place.
func TestRedisClientCacheDropsItsFrontWithEveryInvalidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		drop       func(r *frontRig)
		keptBehind bool // the LocalCache still holds the reply
	}{
		{"DeleteByRedisKey", func(r *frontRig) { r.c.DeleteByRedisKey(r.redisKey) }, false},
		{"EvictByConn of its connection", func(r *frontRig) { r.c.EvictByConn(7) }, false},
		{"EvictByConn of another connection", func(r *frontRig) { r.c.EvictByConn(8) }, true},
		{"DeleteByCacheKey of another key", func(r *frontRig) { r.c.DeleteByCacheKey("other") }, true},
		{"Flush", func(r *frontRig) { r.c.Flush() }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newFrontRig(redis.CacheConfig{MaxEntries: 100})
			r.publish(t, 1, 7)
			r.read(t, time.Time{})
			if _, front := r.read(t, time.Time{}); !front {
				t.Fatal("the record never reached the front")
			}
			tt.drop(r)
			v, front := r.read(t, time.Time{})
			if front {
				t.Fatal("the front still served the record")
			}
			if want := map[bool]int{true: 1, false: -1}[tt.keptBehind]; v != want {
				t.Fatalf("read version %d, want %d", v, want)
			}
		})
	}
}

// TestRedisClientCacheFrontLivesHalfOfMaxStaleness: with MaxStaleness set,
// a record stays in front for half of it (the LocalCache keeps its entry
// for the other half), so none is served later than MaxStaleness after it
// was read from Redis.
func TestRedisClientCacheFrontLivesHalfOfMaxStaleness(t *testing.T) {
	t.Parallel()
	r := newFrontRig(redis.CacheConfig{MaxEntries: 100, MaxStaleness: 2 * time.Hour})
	if r.c.ttl != time.Hour || r.c.inner == nil {
		t.Fatalf("front lifetime %v, want 1h", r.c.ttl)
	}
	r.publish(t, 1, 7)
	now := time.Now()
	r.read(t, now)
	for _, tt := range []struct {
		at        time.Duration
		fromFront bool
	}{{0, true}, {time.Hour - time.Millisecond, true}, {time.Hour, false}} {
		if v, front := r.read(t, now.Add(tt.at)); v != 1 || front != tt.fromFront {
			t.Errorf("read %v after it reached the front: version %d, from the front %v; want %v", tt.at, v, front, tt.fromFront)
		}
	}
}

func TestNewRedisClientCacheSizesItsFrontByMaxEntries(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ maxEntries, slots int }{
		{0, 4096}, {1, 1}, {2, 2}, {10, 16}, {64, 64}, {4096, 4096}, {100_000, 4096},
	} {
		if got := len(NewRedisClientCache(redis.CacheConfig{MaxEntries: tt.maxEntries}).slots); got != tt.slots {
			t.Errorf("MaxEntries %d: %d slots, want %d", tt.maxEntries, got, tt.slots)
		}
	}
}

// TestRedisClientCacheIgnoresARecordInvalidatedWhileItWasRead: an
// invalidation that lands between the LocalCache's answer and the record's
// arrival in front leaves it unusable there.
func TestRedisClientCacheIgnoresARecordInvalidatedWhileItWasRead(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		drop func(r *frontRig)
	}{
		{"DeleteByRedisKey", func(r *frontRig) { r.c.DeleteByRedisKey(r.redisKey) }},
		{"EvictByConn", func(r *frontRig) { r.c.EvictByConn(7) }},
		{"Flush", func(r *frontRig) { r.c.Flush() }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newFrontRig(redis.CacheConfig{MaxEntries: 100})
			r.publish(t, 1, 7)
			r.c.fillHook = func() {
				r.c.fillHook = nil
				tt.drop(r)
				r.publish(t, 2, 7) // go-redis's next GET
			}
			if v, _ := r.read(t, time.Time{}); v != 1 {
				t.Fatalf("the read that raced the invalidation = version %d, want 1", v)
			}
			if v, front := r.read(t, time.Time{}); v != 2 || front {
				t.Fatalf("the next read = version %d, from the front %v; want 2 from the LocalCache", v, front)
			}
			if v, front := r.read(t, time.Time{}); v != 2 || !front {
				t.Fatalf("then = version %d, from the front %v; want 2 from the front", v, front)
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
				v, front := r.read(t, time.Time{})
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
