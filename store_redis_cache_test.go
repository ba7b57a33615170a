package session_test

import (
	"context"
	"errors"
	"log"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionauth/session"
	"github.com/sessionauth/session/internal/redistest"
	"github.com/sessionauth/session/storetest"
)

// writeCounter is a go-redis hook that counts the writes on the client's
// connections: the requests that reach the network. Unlike rtCounter it does
// not count a command the client-side cache answered.
type writeCounter struct{ n atomic.Int64 }

type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Write(b []byte) (int, error) {
	c.n.Add(1)
	return c.Conn.Write(b)
}

func (w *writeCounter) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := next(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return countingConn{c, &w.n}, nil
	}
}

func (w *writeCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }

func (w *writeCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// clientCache is a client-side cache the tests can count hits of.
type clientCache interface {
	redis.Cache
	Stats() redis.CSCStats
}

// cacheKind is a cache a RedisStore can read: go-redis's LocalCache, or
// this package's RedisClientCache in front of one.
type cacheKind struct {
	name string
	new  func(redis.CacheConfig) clientCache
}

var cacheKinds = []cacheKind{
	{"LocalCache", func(c redis.CacheConfig) clientCache { return redis.NewLocalCache(c) }},
	{"RedisClientCache", func(c redis.CacheConfig) clientCache { return session.NewRedisClientCache(c) }},
}

// forEachCache runs f as a subtest for each cache kind.
func forEachCache(t *testing.T, f func(t *testing.T, kind cacheKind)) {
	for _, kind := range cacheKinds {
		t.Run(kind.name, func(t *testing.T) {
			t.Parallel()
			f(t, kind)
		})
	}
}

// cachedClient returns a client of srv with client-side caching in a
// cache of kind, and the cache.
func cachedClient(t testing.TB, srv *redistest.Server, kind cacheKind) (*redis.Client, clientCache) {
	t.Helper()
	return cachedClientDraining(t, srv, kind, 0)
}

// cachedClientDraining is cachedClient with go-redis's drain interval (0:
// its default, 5 ms).
func cachedClientDraining(t testing.TB, srv *redistest.Server, kind cacheKind, drain time.Duration) (*redis.Client, clientCache) {
	t.Helper()
	lc := kind.new(redis.CacheConfig{MaxEntries: 100_000, MaxStaleness: time.Minute, DrainInterval: drain})
	opt := srv.Options()
	opt.Protocol = 3
	opt.ClientSideCache = lc
	if drain > 0 {
		// go-redis reads DrainInterval from ClientSideCacheConfig only, even
		// when ClientSideCache supplies the cache.
		opt.ClientSideCacheConfig = &redis.ClientSideCacheConfig{DrainInterval: drain}
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c, lc
}

func TestRedisClientCacheConformance(t *testing.T) {
	t.Parallel()
	srv := redistest.New(t)
	forEachCache(t, func(t *testing.T, kind cacheKind) {
		client, _ := cachedClient(t, srv, kind)
		storetest.Run(t, func(t *testing.T) session.Store {
			return session.NewRedisStore(client, session.RedisConfig{KeyPrefix: redistest.Prefix(), ClientSideCache: true})
		})
	})
}

func TestRedisClientCacheServesUnchangedReadsWithoutRoundTrip(t *testing.T) {
	t.Parallel()
	srv := redistest.New(t)
	// Also with ClientSideCacheConfig set next to ClientSideCache, for its
	// DrainInterval: the store still finds the cache.
	forEachCache(t, func(t *testing.T, kind cacheKind) {
		for _, drain := range []time.Duration{0, time.Millisecond} {
			t.Run("drain="+drain.String(), func(t *testing.T) {
				t.Parallel()
				testCachedReads(t, srv, kind, drain)
			})
		}
	})
}

func testCachedReads(t *testing.T, srv *redistest.Server, kind cacheKind, drain time.Duration) {
	client, lc := cachedClientDraining(t, srv, kind, drain)
	wc := &writeCounter{}
	client.AddHook(wc)
	s := session.NewRedisStore(client, session.RedisConfig{KeyPrefix: redistest.Prefix(), ClientSideCache: true})
	ctx := tctx(t)
	key := storetest.NewKey()
	rec := session.Record{UserID: "u", Expires: time.Now().Add(time.Hour), Data: []byte("data")}
	if err := s.Create(ctx, key, rec); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, key); err != nil { // the miss that fills the cache
		t.Fatal(err)
	}
	hits, writes := lc.Stats().Hits, wc.n.Load()
	for range 100 {
		got, err := s.Get(ctx, key)
		if err != nil || got.UserID != "u" || string(got.Data) != "data" {
			t.Fatalf("Get = %+v, %v", got, err)
		}
	}
	if n := wc.n.Load() - writes; n != 0 {
		t.Errorf("100 cached reads sent %d requests to Redis, want 0", n)
	}
	if n := lc.Stats().Hits - hits; n != 100 {
		t.Errorf("cache hits = %d, want 100", n)
	}
}

// TestRedisClientCacheReadsOwnWrites: every write of a store drops what it
// wrote from its client's cache, so a read right after it on the same
// instance never returns the record as it was. go-redis alone would apply
// the invalidation only when its drainer next reads the connection.
func TestRedisClientCacheReadsOwnWrites(t *testing.T) {
	t.Parallel()
	forEachCache(t, testReadsOwnWrites)
}

func testReadsOwnWrites(t *testing.T, kind cacheKind) {
	client, lc := cachedClient(t, redistest.New(t), kind)
	s := session.NewRedisStore(client, session.RedisConfig{KeyPrefix: redistest.Prefix(), ClientSideCache: true})
	ctx := tctx(t)
	exp := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	// warm reads key twice, so that it is in the cache.
	warm := func(key string) {
		t.Helper()
		h := lc.Stats().Hits
		s.Get(ctx, key)
		s.Get(ctx, key)
		if lc.Stats().Hits == h {
			t.Fatal("the record never came from the cache")
		}
	}
	for i := range 50 {
		key, other := storetest.NewKey(), storetest.NewKey()
		user := "own-" + storetest.NewKey()[:8]
		if err := s.Create(ctx, key, session.Record{UserID: user, Expires: exp, Data: []byte("v0")}); err != nil {
			t.Fatal(err)
		}
		warm(key)
		if err := s.Update(ctx, key, session.Record{Expires: exp, Data: []byte("v1")}); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Get(ctx, key); err != nil || string(got.Data) != "v1" {
			t.Fatalf("round %d: Get right after Update = %q, %v; want v1", i, got.Data, err)
		}
		warm(key)
		later := exp.Add(time.Minute)
		if err := s.Touch(ctx, key, later); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Get(ctx, key); err != nil || !got.Expires.Equal(later) {
			t.Fatalf("round %d: Get right after Touch: Expires %v, %v; want %v", i, got.Expires, err, later)
		}
		warm(key)
		if err := s.Delete(ctx, key); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, key); !errors.Is(err, session.ErrNotFound) {
			t.Fatalf("round %d: Get right after Delete = %v, want ErrNotFound", i, err)
		}
		// A read of a missing key is cached too (as "nil"): Create must
		// drop it.
		s.Get(ctx, other)
		s.Get(ctx, other)
		if err := s.Replace(ctx, "", other, session.Record{UserID: user, Expires: exp, Data: []byte("r")}, 0); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Get(ctx, other); err != nil || string(got.Data) != "r" {
			t.Fatalf("round %d: Get right after Replace = %q, %v", i, got.Data, err)
		}
		warm(other)
		if err := s.DeleteUser(ctx, user); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, other); !errors.Is(err, session.ErrNotFound) {
			t.Fatalf("round %d: Get right after DeleteUser = %v, want ErrNotFound", i, err)
		}
	}
}

// TestRedisClientCacheExpiryFromTheRecord: a cached record past the Expires
// it carries is refused on the read that finds it in the cache, whether or
// not Redis has expired the key and its invalidation has arrived.
func TestRedisClientCacheExpiryFromTheRecord(t *testing.T) {
	t.Parallel()
	forEachCache(t, testExpiryFromTheRecord)
}

func testExpiryFromTheRecord(t *testing.T, kind cacheKind) {
	srv := redistest.New(t)
	prefix := redistest.Prefix()
	writer := session.NewRedisStore(srv.Client(t), session.RedisConfig{KeyPrefix: prefix})
	client, lc := cachedClient(t, srv, kind)
	reader := session.NewRedisStore(client, session.RedisConfig{KeyPrefix: prefix, ClientSideCache: true})
	ctx := tctx(t)
	servedStale := 0
	for range 10 {
		key := storetest.NewKey()
		exp := time.Now().Add(200 * time.Millisecond)
		if err := writer.Create(ctx, key, session.Record{UserID: "e", Expires: exp}); err != nil {
			t.Fatal(err)
		}
		reader.Get(ctx, key)
		if _, err := reader.Get(ctx, key); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Until(exp))
		h := lc.Stats().Hits
		if _, err := reader.Get(ctx, key); !errors.Is(err, session.ErrNotFound) {
			t.Fatalf("Get at Expires = %v, want ErrNotFound", err)
		}
		if lc.Stats().Hits > h {
			servedStale++ // the cache still had it; the record's Expires refused it
		}
	}
	t.Logf("%d of 10 expired records were still in the cache and refused from their Expires", servedStale)
	if servedStale == 0 {
		t.Error("no read found the expired record in the cache: the check from the record went untested")
	}
}

// instances returns two apps, A without caching and B with it, acting as
// two instances of one deployment (same keys, same prefix, same Redis,
// separate clients), and B's cache.
func instances(t testing.TB, kind cacheKind, cfg session.Config) (a, b *redisApp, lc clientCache) {
	t.Helper()
	return instancesDraining(t, kind, cfg, 0)
}

// instancesDraining is instances with B's drain interval given.
func instancesDraining(t testing.TB, kind cacheKind, cfg session.Config, drain time.Duration) (a, b *redisApp, lc clientCache) {
	t.Helper()
	srv := redistest.New(t)
	keys, err := session.NewKeyRing(session.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Keys = keys
	prefix := redistest.Prefix()
	a = newRedisAppWith(t, srv.Client(t), cfg, prefix)
	bc, lc := cachedClientDraining(t, srv, kind, drain)
	b = newRedisAppWith(t, bc, cfg, prefix)
	return a, b, lc
}

// readCached makes B read cookie twice and checks that the second read came
// from its cache, and returns the body.
func readCached(t testing.TB, b *redisApp, lc clientCache, cookie string) string {
	t.Helper()
	b.do("GET", "/me", cookie)
	h := lc.Stats().Hits
	w, _ := b.do("GET", "/me", cookie)
	if w.Code != 200 {
		t.Fatalf("B: GET /me = %d", w.Code)
	}
	if lc.Stats().Hits == h {
		t.Fatal("B's second read did not come from its cache")
	}
	return w.Body.String()
}

// eventually polls B with cookie until ok accepts the response, for at most
// two seconds, and returns how long it took.
func eventually(t *testing.T, b *redisApp, cookie, what string, ok func(code int, body string) bool) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		w, _ := b.do("GET", "/me", cookie)
		if ok(w.Code, w.Body.String()) {
			return time.Since(start)
		}
		if time.Since(start) > 2*time.Second {
			t.Fatalf("%s: B still answers %d %q after 2s", what, w.Code, w.Body)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

func refused(code int, _ string) bool { return code == 401 }

// TestRedisClientCacheInvalidatesOtherInstances: what instance A does to a
// session reaches instance B, which has read it into its client-side cache.
func TestRedisClientCacheInvalidatesOtherInstances(t *testing.T) {
	t.Parallel()
	forEachCache(t, testInvalidatesOtherInstances)
}

func testInvalidatesOtherInstances(t *testing.T, kind cacheKind) {
	t.Run("Logout", func(t *testing.T) {
		t.Parallel()
		a, b, lc := instances(t, kind, session.Config{})
		_, c := a.do("POST", "/login?user=lo", "")
		readCached(t, b, lc, c)
		if w, _ := a.do("POST", "/logout", c); w.Code != 200 {
			t.Fatalf("logout: %d", w.Code)
		}
		d := eventually(t, b, c, "after Logout on A", refused)
		t.Logf("B refused the cookie %v after A's Logout", d)
		for range 5 {
			if w, _ := b.do("GET", "/me", c); w.Code != 401 {
				t.Fatalf("B accepts the cookie again: %d", w.Code)
			}
		}
	})
	t.Run("LogoutAll", func(t *testing.T) {
		t.Parallel()
		a, b, lc := instances(t, kind, session.Config{})
		_, c1 := a.do("POST", "/login?user=la", "")
		_, c2 := a.do("POST", "/login?user=la", "")
		readCached(t, b, lc, c1)
		readCached(t, b, lc, c2)
		if w, _ := a.do("POST", "/logoutall", c1); w.Code != 200 {
			t.Fatalf("logoutall: %d", w.Code)
		}
		for _, c := range []string{c1, c2} {
			d := eventually(t, b, c, "after LogoutAll on A", refused)
			t.Logf("B refused a cookie %v after A's LogoutAll", d)
		}
	})
	t.Run("ValueChange", func(t *testing.T) {
		t.Parallel()
		a, b, lc := instances(t, kind, session.Config{})
		_, c := a.do("POST", "/login?user=vc", "")
		if body := readCached(t, b, lc, c); strings.HasSuffix(body, " vc") {
			t.Fatalf("value set before the write: %q", body)
		}
		if w, _ := a.do("POST", "/write?n=1", c); w.Code != 200 {
			t.Fatalf("write: %d", w.Code)
		}
		d := eventually(t, b, c, "after a value change on A", func(code int, body string) bool {
			return code == 200 && strings.HasSuffix(body, " vc")
		})
		t.Logf("B saw the new value %v after A's write", d)
	})
	t.Run("IdleExtension", func(t *testing.T) {
		t.Parallel()
		// Idle timeout 2s. The session was created before the login
		// returned (at l), so it first runs to l+2s at the latest; A's read
		// at l+1.2s is past half the window, so it extends the session to
		// at least l+3.2s. B, which cached it while it ran to l+2s at the
		// most, must accept it at l+2.4s, which it can only do if the
		// extension reached its cache. Times are computed from l, not
		// from a start before the login.
		a, b, lc := instances(t, kind, session.Config{IdleTimeout: 2 * time.Second, Lifetime: time.Hour})
		_, c := a.do("POST", "/login?user=ie", "")
		l := time.Now()
		readCached(t, b, lc, c)
		time.Sleep(time.Until(l.Add(1200 * time.Millisecond)))
		if w, _ := a.do("GET", "/me", c); w.Code != 200 {
			t.Fatalf("A's read: %d", w.Code)
		}
		time.Sleep(time.Until(l.Add(2400 * time.Millisecond)))
		if w, _ := b.do("GET", "/me", c); w.Code != 200 {
			t.Fatalf("B after the original idle expiry: %d; A's extension did not reach B's cache", w.Code)
		}
	})
	t.Run("Expiry", func(t *testing.T) {
		t.Parallel()
		// The last request that could have moved the idle deadline (B's
		// cached reads) returned at r, so the session has ended by r+1s:
		// no margin on the clock.
		a, b, lc := instances(t, kind, session.Config{IdleTimeout: time.Second, Lifetime: time.Hour})
		_, c := a.do("POST", "/login?user=ex", "")
		readCached(t, b, lc, c)
		r := time.Now()
		time.Sleep(time.Until(r.Add(time.Second)))
		if w, _ := b.do("GET", "/me", c); w.Code != 401 {
			t.Fatalf("B after the idle timeout: %d, want 401", w.Code)
		}
	})
}

// TestRedisClientCacheNotReachableReadsPastIt: a client whose cache the
// store cannot reach (ClientSideCacheConfig alone) would serve the store its
// own stale writes, so the store reads past it.
func TestRedisClientCacheNotReachableReadsPastIt(t *testing.T) {
	t.Parallel()
	opt := redistest.New(t).Options()
	opt.Protocol = 3
	opt.ClientSideCacheConfig = &redis.ClientSideCacheConfig{MaxEntries: 100}
	client := redis.NewClient(opt)
	t.Cleanup(func() { client.Close() })
	s := session.NewRedisStore(client, session.RedisConfig{KeyPrefix: redistest.Prefix()})
	ctx := tctx(t)
	key := storetest.NewKey()
	exp := time.Now().Add(time.Hour)
	if err := s.Create(ctx, key, session.Record{UserID: "n", Expires: exp, Data: []byte("0")}); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		s.Get(ctx, key)
		v := []byte{byte('a' + i%26)}
		if err := s.Update(ctx, key, session.Record{Expires: exp, Data: v}); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Get(ctx, key); err != nil || !slices.Equal(got.Data, v) {
			t.Fatalf("Get right after Update = %q, %v; want %q", got.Data, err, v)
		}
	}
	if st := client.CSCStats(); st.Hits != 0 {
		t.Fatalf("the store's reads were served from the cache %d times", st.Hits)
	}
}

// Serve unchanged session reads from process memory: go-redis's
// server-assisted client-side cache, in a RedisClientCache the store can
// see (so its own writes drop what they change, and it reads decoded
// records at about the cost of a MemoryStore). MaxEntries bounds the cache
// (about 1 KB of heap per session); MaxStaleness bounds how long any cached
// session is trusted without hearing from Redis. A Logout on another
// instance reaches this one within milliseconds, through Redis's
// invalidation push (see the README for measured delays).
func ExampleNewRedisStore_clientSideCache() {
	client := redis.NewClient(&redis.Options{
		Addr:     "localhost:6379",
		Protocol: 3, // RESP3: the invalidations arrive as push messages
		ClientSideCache: session.NewRedisClientCache(redis.CacheConfig{
			MaxEntries:   100_000,
			MaxStaleness: 10 * time.Second,
		}),
		// Optional: read idle connections' invalidations every millisecond
		// (go-redis's default is 5 ms; go-redis reads it from here only).
		ClientSideCacheConfig: &redis.ClientSideCacheConfig{DrainInterval: time.Millisecond},
	})
	defer client.Close()
	keys, err := session.NewKeyRing(session.GenerateKey())
	if err != nil {
		log.Fatal(err)
	}
	m, err := session.New(session.Config{Store: session.NewRedisStore(client, session.RedisConfig{ClientSideCache: true}), Keys: keys})
	if err != nil {
		log.Fatal(err)
	}
	_ = m.Middleware(http.NotFoundHandler())
}

// BenchmarkRedisClientCacheRevocation measures the revocation delay on one
// Redis server: instance A logs a session out, and instance B, which has
// the session in its client-side cache, is asked for the cookie every 50 µs
// until it refuses it. One op is one such trial (run it with -benchtime
// 200x); the metrics are the delay's median, 99th percentile and maximum in
// milliseconds, counted from the end of A's Logout response. With B=idle, B
// serves nothing else, so only go-redis's drainer (every 5 ms) reads the
// invalidation; with B=busy, two goroutines keep B's connections in use with
// requests that reach Redis. drain is B's DrainInterval (default: go-redis's
// 5 ms). Each runs with both caches a store can read (cacheKinds).
func BenchmarkRedisClientCacheRevocation(b *testing.B) {
	for _, bench := range []struct {
		mode  string
		drain time.Duration
	}{{"idle", 0}, {"busy", 0}, {"idle", time.Millisecond}, {"busy", time.Millisecond}} {
		for _, kind := range cacheKinds {
			benchmarkRevocation(b, kind, bench.mode, bench.drain)
		}
	}
}

func benchmarkRevocation(b *testing.B, kind cacheKind, mode string, drainEvery time.Duration) {
	drain := "default"
	if drainEvery > 0 {
		drain = drainEvery.String()
	}
	b.Run("cache="+kind.name+"/B="+mode+"/drain="+drain, func(b *testing.B) {
		a, inst, lc := instancesDraining(b, kind, session.Config{}, drainEvery)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		if mode == "busy" {
			for range 2 {
				_, own := inst.do("POST", "/login?user=busy", "")
				wg.Go(func() {
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						// An update, then a read that misses the
						// cache: two requests to Redis.
						inst.do("POST", "/write?n="+strconv.Itoa(i), own)
						inst.do("GET", "/me", own)
					}
				})
			}
		}
		var delays []time.Duration
		for b.Loop() {
			_, c := a.do("POST", "/login?user=rev", "")
			readCached(b, inst, lc, c)
			if w, _ := a.do("POST", "/logout", c); w.Code != 200 {
				b.Fatalf("logout: %d", w.Code)
			}
			start := time.Now()
			for {
				if w, _ := inst.do("GET", "/me", c); w.Code == 401 {
					break
				}
				if time.Since(start) > 10*time.Second {
					b.Fatal("B still accepts the cookie 10s after the Logout")
				}
				time.Sleep(50 * time.Microsecond)
			}
			delays = append(delays, time.Since(start))
		}
		close(stop)
		wg.Wait()
		slices.Sort(delays)
		ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
		b.ReportMetric(ms(delays[len(delays)/2]), "p50-ms")
		b.ReportMetric(ms(delays[len(delays)*99/100]), "p99-ms")
		b.ReportMetric(ms(delays[len(delays)-1]), "max-ms")
	})
}

// BenchmarkRedisClientCacheBytesPerSession reports the heap that 10,000
// sessions cost in a client's cache once each was read twice (the
// "bytes/session" metric, with a RedisClientCache's front full;
// "estimate-bytes/session" is go-redis's own estimate of its LocalCache,
// which the cache's MaxMemoryBytes bound counts), for records of
// "record-bytes" bytes in Redis.
func BenchmarkRedisClientCacheBytesPerSession(b *testing.B) {
	const n = 10000
	srv := redistest.New(b)
	prefix := redistest.Prefix()
	writer := session.NewRedisStore(srv.Client(b), session.RedisConfig{KeyPrefix: prefix})
	ctx := context.Background()
	data := []byte(strings.Repeat("d", 48)) // about what a session with two small values encodes to
	keys := make([]string, n)
	exp := time.Now().Add(time.Hour)
	for i := range keys {
		keys[i] = storetest.NewKey()
		if err := writer.Create(ctx, keys[i], session.Record{UserID: "user-" + keys[i][:8], Expires: exp, Data: data}); err != nil {
			b.Fatal(err)
		}
	}
	raw, err := srv.Client(b).Get(ctx, prefix+keys[0]).Bytes()
	if err != nil {
		b.Fatal(err)
	}
	for _, kind := range cacheKinds {
		b.Run("cache="+kind.name, func(b *testing.B) {
			for b.Loop() {
				bytesPerSession(b, srv, kind, prefix, keys, len(raw))
			}
		})
	}
}

func bytesPerSession(b *testing.B, srv *redistest.Server, kind cacheKind, prefix string, keys []string, recordBytes int) {
	ctx := context.Background()
	n := len(keys)
	heap := func() uint64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	{
		client, lc := cachedClient(b, srv, kind)
		reader := session.NewRedisStore(client, session.RedisConfig{KeyPrefix: prefix, ClientSideCache: true})
		reader.Get(ctx, keys[0]) // connections and buffers before the baseline
		before := heap()
		for range 2 { // the second read fills a RedisClientCache's front
			for _, k := range keys {
				if _, err := reader.Get(ctx, k); err != nil {
					b.Fatal(err)
				}
			}
		}
		after := heap()
		st := lc.Stats()
		if st.Entries != n {
			b.Fatalf("%d entries cached, want %d", st.Entries, n)
		}
		b.ReportMetric(float64(after-before)/float64(n), "bytes/session")
		b.ReportMetric(float64(st.MemoryUsageBytes)/float64(n), "estimate-bytes/session")
		b.ReportMetric(float64(recordBytes), "record-bytes")
		client.Close()
	}
}

// BenchmarkRedisClientCacheGet is RedisStore.Get of an unchanged record on a
// client with client-side caching: a cache hit, no round trip.
func BenchmarkRedisClientCacheGet(b *testing.B) {
	srv := redistest.New(b)
	for _, kind := range cacheKinds {
		b.Run("cache="+kind.name, func(b *testing.B) { benchmarkCachedGet(b, srv, kind) })
	}
}

func benchmarkCachedGet(b *testing.B, srv *redistest.Server, kind cacheKind) {
	client, _ := cachedClient(b, srv, kind)
	s := session.NewRedisStore(client, session.RedisConfig{KeyPrefix: redistest.Prefix(), ClientSideCache: true})
	ctx := context.Background()
	key := storetest.NewKey()
	if err := s.Create(ctx, key, session.Record{UserID: "user-1234", Expires: time.Now().Add(time.Hour), Data: []byte(strings.Repeat("d", 48))}); err != nil {
		b.Fatal(err)
	}
	s.Get(ctx, key)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Get(ctx, key); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRedisClientCacheDroppedWhenRedisGoesAway: when the server dies, the
// connections that carried the invalidations are gone, and go-redis drops
// what they cached: the store stops answering from the cache and reports
// the outage, as the uncached store does.
func TestRedisClientCacheDroppedWhenRedisGoesAway(t *testing.T) {
	t.Parallel()
	forEachCache(t, testDroppedWhenRedisGoesAway)
}

func testDroppedWhenRedisGoesAway(t *testing.T, kind cacheKind) {
	srv := redistest.New(t)
	if !srv.Owned() {
		t.Skip("REDIS_URL set: cannot kill that server")
	}
	client, lc := cachedClient(t, srv, kind)
	s := session.NewRedisStore(client, session.RedisConfig{KeyPrefix: redistest.Prefix(), ClientSideCache: true})
	ctx := tctx(t)
	key := storetest.NewKey()
	if err := s.Create(ctx, key, session.Record{UserID: "g", Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	s.Get(ctx, key)
	if _, err := s.Get(ctx, key); err != nil || lc.Stats().Entries == 0 {
		t.Fatalf("not cached: %v, %d entries", err, lc.Stats().Entries)
	}
	srv.Kill(t)
	start := time.Now()
	var served int
	var last time.Duration
	for {
		_, err := s.Get(ctx, key)
		if err == nil {
			served, last = served+1, time.Since(start)
		}
		if err != nil && !errors.Is(err, session.ErrNotFound) {
			t.Logf("after the kill the cache served the record %d times, the last %v after; the outage was reported %v after: %v", served, last, time.Since(start), err)
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("5s after the server died the store still answers %v from its cache", err)
		}
		time.Sleep(100 * time.Microsecond)
	}
	if last > 500*time.Millisecond {
		t.Errorf("the cache served the record %v after the server died", last)
	}
}
