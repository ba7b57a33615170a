package bench

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/sessionauth/session/internal/redistest"
)

// redisEnv is the Redis the Redis subjects use: REDIS_URL when set (run.sh
// sets it to the throwaway server it started), otherwise a redis-server this
// test binary starts on a free loopback port and stops in TestMain.
var redisEnv struct {
	url     string
	owned   bool   // started here: safe to FLUSHDB
	skipMsg string // why Redis subjects are skipped, when they are
	stop    func()
}

func TestMain(m *testing.M) {
	setupRedis()
	code := m.Run()
	if redisEnv.stop != nil {
		redisEnv.stop()
	}
	os.Exit(code)
}

func setupRedis() {
	if u := os.Getenv("REDIS_URL"); u != "" {
		redisEnv.url = u
		redisEnv.owned = os.Getenv("BENCH_REDIS_FLUSH") == "1"
		return
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		redisEnv.skipMsg = "no redis-server binary and REDIS_URL unset: Redis subjects skipped (apt-get install redis-server, or run bench/run.sh)"
		return
	}
	dir, err := os.MkdirTemp("", "bench-redis-")
	if err == nil {
		var srv *redistest.Server
		if srv, err = redistest.Start(dir); err == nil {
			redisEnv.url, redisEnv.owned = "redis://"+srv.Addr+"/0", true
			redisEnv.stop = func() { srv.Stop(); os.RemoveAll(dir) }
			return
		}
		os.RemoveAll(dir)
	}
	redisEnv.skipMsg = "could not start redis-server: " + err.Error()
}

// needRedis skips (or, under CI=true, fails) a test or benchmark when no
// Redis is available, and returns the URL otherwise. When the server is the
// harness's own, it is flushed before each benchmark (benchmarks run one at a
// time), so each starts from an empty store; tests, which run in parallel,
// never flush.
func needRedis(tb testing.TB) string {
	tb.Helper()
	if redisEnv.url == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatal(redisEnv.skipMsg)
		}
		tb.Skip(redisEnv.skipMsg)
	}
	if _, bench := tb.(*testing.B); bench && redisEnv.owned {
		c, _, err := NewRedisClient(redisEnv.url)
		if err != nil {
			tb.Fatal(err)
		}
		defer c.Close()
		if err := c.FlushDB(context.Background()).Err(); err != nil {
			tb.Fatal(err)
		}
	}
	return redisEnv.url
}

// redisInfo returns one field of INFO, for checks in tests.
func redisInfo(tb testing.TB, c *redis.Client, section, field string) string {
	tb.Helper()
	s, err := c.Info(context.Background(), section).Result()
	if err != nil {
		tb.Fatal(err)
	}
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && k == field {
			return strings.TrimSpace(v)
		}
	}
	tb.Fatal(errors.New("no field " + field))
	return ""
}
