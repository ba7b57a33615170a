package otelsession_test

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionauth/session"
	"github.com/sessionauth/session/internal/redistest"
)

// Through the Prometheus exporter, a Manager on Redis serves its store
// calls as a histogram in seconds, by operation; the test logs the lines
// README.md quotes.
func TestPrometheusServesStoreDurations(t *testing.T) {
	t.Parallel()
	rec, metrics, err := newMetrics()
	if err != nil {
		t.Fatal(err)
	}
	store := session.NewRedisStore(redistest.New(t).Client(t), session.RedisConfig{KeyPrefix: redistest.Prefix()})
	h := app(newManager(t, session.Config{Store: store, Observe: rec.Observe}))
	c := do(h, "/login", "").Result().Cookies()[0]
	for range 3 {
		do(h, "/whoami", c.Name+"="+c.Value)
	}
	w := httptest.NewRecorder()
	metrics.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(w.Body)
	var got []string
	for l := range strings.Lines(string(body)) {
		if strings.HasPrefix(l, "session_store_operation_duration_seconds_count") || strings.Contains(l, `le="0.001"`) {
			got = append(got, strings.TrimSpace(l))
		}
	}
	t.Logf("\n%s", strings.Join(got, "\n"))
	for _, want := range []string{
		`session_store_operation_duration_seconds_count{db_operation_name="get",`,
		`session_store_operation_duration_seconds_bucket{db_operation_name="get",`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics has no %s…", want)
		}
	}
	if !strings.Contains(string(body), `db_operation_name="get",otel_scope_name="github.com/sessionauth/session",otel_scope_schema_url="",otel_scope_version=""} 3`) {
		t.Errorf("/metrics does not count 3 gets:\n%s", strings.Join(got, "\n"))
	}
}

// With a client-side cache, the reads it answers are counted as hits: with
// go-redis's LocalCache, and with session.RedisClientCache, whose front
// answers all but the first of them.
func TestRecorderCountsClientCacheHits(t *testing.T) {
	t.Parallel()
	srv := redistest.New(t)
	for name, cache := range map[string]redis.Cache{
		"LocalCache":       redis.NewLocalCache(redis.CacheConfig{MaxEntries: 1000, MaxStaleness: time.Minute}),
		"RedisClientCache": session.NewRedisClientCache(redis.CacheConfig{MaxEntries: 1000, MaxStaleness: time.Minute}),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testRecorderCountsClientCacheHits(t, srv, cache)
		})
	}
}

func testRecorderCountsClientCacheHits(t *testing.T, srv *redistest.Server, cache redis.Cache) {
	opt := srv.Options()
	opt.Protocol = 3
	opt.ClientSideCache = cache
	client := redis.NewClient(opt)
	t.Cleanup(func() { client.Close() })
	rec, reader := newRecorder(t)
	if err := rec.ObserveCache(client); err != nil {
		t.Fatal(err)
	}
	h := app(newManager(t, session.Config{Store: session.NewRedisStore(client, session.RedisConfig{KeyPrefix: redistest.Prefix(), ClientSideCache: true}), Observe: rec.Observe}))
	c := do(h, "/login", "").Result().Cookies()[0]
	for range 5 {
		if got := do(h, "/whoami", c.Name+"="+c.Value).Body.String(); got != "alice" {
			t.Fatalf("whoami = %q", got)
		}
	}
	got := collect(t, reader)
	// The first read misses and fills the cache; the other four hit. The
	// miss counts twice: RedisStore looks in the cache first, then
	// go-redis does for the GET it sends.
	want(t, got, map[string]float64{"session.store.cache.hits{}": 4, "session.store.cache.misses{}": 2})
}
