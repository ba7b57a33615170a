package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
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
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		redisEnv.skipMsg = "no redis-server binary and REDIS_URL unset: Redis subjects skipped (apt-get install redis-server, or run bench/run.sh)"
		return
	}
	url, stop, err := startRedis(bin)
	if err != nil {
		redisEnv.skipMsg = "could not start redis-server: " + err.Error()
		return
	}
	redisEnv.url, redisEnv.owned, redisEnv.stop = url, true, stop
}

// startRedis starts a throwaway redis-server on a free loopback port with no
// persistence and waits until it answers.
func startRedis(bin string) (string, func(), error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning")
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
	url := fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	c := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port)})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return url, stop, nil
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, fmt.Errorf("redis-server on port %d did not answer: %w", port, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
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
