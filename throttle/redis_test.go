package throttle_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionauth/session/internal/redistest"
	"github.com/sessionauth/session/throttle"
	"github.com/sessionauth/session/throttle/throttletest"
)

func TestRedisConformance(t *testing.T) {
	client := redistest.New(t).Client(t)
	throttletest.Run(t, func(t *testing.T, now func() time.Time) throttle.Limiter {
		return throttle.NewRedisAt(client, throttle.RedisConfig{Prefix: redistest.Prefix()}, now)
	})
}

func TestRedisClusterConformance(t *testing.T) {
	client := redistest.NewCluster(t).Client(t)
	throttletest.Run(t, func(t *testing.T, now func() time.Time) throttle.Limiter {
		return throttle.NewRedisAt(client, throttle.RedisConfig{Prefix: redistest.Prefix()}, now)
	})
}

// An application restart is a new limiter object (and a new client) on the
// same Redis: counts and lockouts carry over.
func TestRedisCountsAndLockoutsSurviveAppRestart(t *testing.T) {
	t.Parallel()
	srv := redistest.New(t)
	clk := throttletest.NewClock()
	prefix := redistest.Prefix()
	r := throttle.Rule{Limit: 3, Window: time.Hour, Lockout: 10 * time.Minute, MaxLockout: time.Hour}
	before := throttle.NewRedisAt(srv.Client(t), throttle.RedisConfig{Prefix: prefix}, clk.Now)
	take(t, before, r, "counted")
	take(t, before, r, "counted")
	lock(t, before, r, "locked")

	clk.Advance(time.Minute)
	after := throttle.NewRedisAt(srv.Client(t), throttle.RedisConfig{Prefix: prefix}, clk.Now)
	if res := take(t, after, r, "counted"); !res.Allowed || res.Remaining != 0 {
		t.Fatalf("after restart: %+v; want the third and last attempt", res)
	}
	if res := take(t, after, r, "counted"); res.Allowed {
		t.Fatal("after restart: the budget was renewed")
	}
	if res := take(t, after, r, "locked"); res.Allowed || res.RetryAfter != 9*time.Minute {
		t.Fatalf("after restart: %+v; want locked for 9 more minutes", res)
	}
}

// Every key is set to expire when the rule would forget it (a window after
// its last attempt, or after its lockout ends): nothing accumulates in
// Redis. Redis's own clock runs the expiry; the durations are long enough
// that the test never waits for it.
func TestRedisKeysExpireWhenTheRuleForgetsThem(t *testing.T) {
	t.Parallel()
	client := redistest.New(t).Client(t)
	prefix := redistest.Prefix()
	l := throttle.NewRedis(client, throttle.RedisConfig{Prefix: prefix})
	r := throttle.Rule{Limit: 1, Window: time.Hour, Lockout: 2 * time.Hour, MaxLockout: 2 * time.Hour}
	ctx := context.Background()
	take(t, l, r, "counted")
	lock(t, l, r, "locked")
	if ttl := client.PTTL(ctx, prefix+"counted").Val(); ttl <= r.Window-time.Minute || ttl > r.Window {
		t.Fatalf("counted key PTTL %v, want the window, %v", ttl, r.Window)
	}
	if ttl := client.PTTL(ctx, prefix+"locked").Val(); ttl <= r.Window+r.Lockout-time.Minute || ttl > r.Window+r.Lockout {
		t.Fatalf("locked key PTTL %v, want the lockout and a window, %v", ttl, r.Window+r.Lockout)
	}
}

// After the server lost its script cache (a restart or a failover), the
// next call loads the script again and counts once.
func TestRedisReloadsScriptsAfterFlush(t *testing.T) {
	t.Parallel()
	client := redistest.New(t).Client(t)
	l := throttle.NewRedis(client, throttle.RedisConfig{Prefix: redistest.Prefix()})
	r := throttle.Rule{Limit: 3, Window: time.Hour, Lockout: time.Hour, MaxLockout: time.Hour}
	res := take(t, l, r, "k")
	if err := client.ScriptFlush(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	if got := take(t, l, r, "k"); !got.Allowed || got.Remaining != 1 {
		t.Fatalf("after SCRIPT FLUSH: %+v; want allowed with 1 remaining", got)
	}
	client.ScriptFlush(context.Background())
	if err := l.Refund(context.Background(), []throttle.Result{res}); err != nil {
		t.Fatal(err)
	}
	if got := take(t, l, r, "k"); !got.Allowed || got.Remaining != 1 {
		t.Fatalf("after a refund across SCRIPT FLUSH: %+v; want allowed with 1 remaining, as before it", got)
	}
}

// roundTrips counts what a go-redis client sends: one per command outside a
// pipeline, one per pipeline.
type roundTrips struct{ n atomic.Int64 }

func (h *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { h.n.Add(1); return next(ctx, cmd) }
}
func (h *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { h.n.Add(1); return next(ctx, cmds) }
}

func TestRedisEachCallIsOneRoundTrip(t *testing.T) {
	t.Parallel()
	client := redistest.New(t).Client(t)
	rt := &roundTrips{}
	client.AddHook(rt)
	l := throttle.NewRedis(client, throttle.RedisConfig{Prefix: redistest.Prefix()})
	r := throttle.Rule{Limit: 5, Window: time.Hour, Lockout: time.Hour, MaxLockout: time.Hour}
	ctx := context.Background()
	reqs := []throttle.Request{{Key: "a", Rule: r}, {Key: "b", Rule: r}, {Key: "c", Rule: r}}
	// The first call of each script loads it: one more round trip, once.
	warm, err := l.Take(ctx, reqs)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Refund(ctx, warm); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		call func() error
	}{
		{"Take of 3 keys", func() error { _, err := l.Take(ctx, reqs); return err }},
		{"Refund of 3 keys", func() error {
			res, err := l.Take(ctx, reqs)
			if err != nil {
				return err
			}
			rt.n.Store(0)
			return l.Refund(ctx, res)
		}},
		{"Reset of 3 keys", func() error { return l.Reset(ctx, "a", "b", "c") }},
	}
	for _, tc := range tests {
		rt.n.Store(0)
		if err := tc.call(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if n := rt.n.Load(); n != 1 {
			t.Errorf("%s: %d round trips, want 1", tc.name, n)
		}
	}
}

func TestRedisUnreachableIsAnError(t *testing.T) {
	t.Parallel()
	client := redis.NewClient(&redis.Options{
		Addr: redistest.Unresponsive(t), MaxRetries: -1,
		ReadTimeout: 100 * time.Millisecond, WriteTimeout: 100 * time.Millisecond, ContextTimeoutEnabled: true,
	})
	t.Cleanup(func() { client.Close() })
	l := throttle.NewRedis(client, throttle.RedisConfig{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	if _, err := l.Take(ctx, []throttle.Request{{Key: "k", Rule: oneStrike}}); err == nil {
		t.Fatal("Take against a server that never answers: no error")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("Take took %v: the client's 100ms read timeout did not bound it", d)
	}
}

// A key of ours overwritten with something else is an error, never a panic
// or a silent allow; a hash with garbled fields counts from zero.
func TestRedisForeignValues(t *testing.T) {
	t.Parallel()
	client := redistest.New(t).Client(t)
	prefix := redistest.Prefix()
	l := throttle.NewRedis(client, throttle.RedisConfig{Prefix: prefix})
	ctx := context.Background()
	client.Set(ctx, prefix+"string", "x", time.Minute)
	if _, err := l.Take(ctx, []throttle.Request{{Key: "string", Rule: oneStrike}}); err == nil || !strings.Contains(err.Error(), "WRONGTYPE") {
		t.Fatalf("Take on a string key: err = %v, want WRONGTYPE", err)
	}
	client.HSet(ctx, prefix+"garbled", "n", "many", "s", "yesterday", "u", "-", "l", "x")
	if res := take(t, l, oneStrike, "garbled"); !res.Allowed {
		t.Fatalf("garbled hash: %+v; want a fresh count", res)
	}
	if res := take(t, l, oneStrike, "garbled"); res.Allowed {
		t.Fatal("garbled hash: the count did not stick")
	}
}

// Two processes sharing one Redis share one count: together they get
// exactly the limit, however their attempts interleave.
func TestRedisTwoProcessesShareCounts(t *testing.T) {
	if addr := os.Getenv("THROTTLE_CHILD_REDIS"); addr != "" {
		childTakes(t, addr, os.Getenv("THROTTLE_CHILD_PREFIX"))
		return
	}
	t.Parallel()
	srv := redistest.New(t)
	prefix := redistest.Prefix()
	const procs = 2
	outs := make([]string, procs)
	var wg sync.WaitGroup
	for i := range procs {
		cmd := exec.Command(os.Args[0], "-test.run=^TestRedisTwoProcessesShareCounts$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), "THROTTLE_CHILD_REDIS="+srv.Addr, "THROTTLE_CHILD_PREFIX="+prefix)
		wg.Go(func() {
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Errorf("child %d: %v\n%s", i, err, out)
			}
			outs[i] = string(out)
		})
	}
	wg.Wait()
	total := 0
	for i, out := range outs {
		_, rest, ok := strings.Cut(out, "allowed=")
		n, err := strconv.Atoi(strings.Fields(rest + " x")[0])
		if !ok || err != nil {
			t.Fatalf("child %d printed no count:\n%s", i, out)
		}
		total += n
	}
	if total != childLimit {
		t.Fatalf("two processes were allowed %d attempts in all, want exactly %d", total, childLimit)
	}
}

const childLimit, childTries = 40, 30

func childTakes(t *testing.T, addr, prefix string) {
	client := redis.NewClient(&redis.Options{Addr: addr})
	defer client.Close()
	l := throttle.NewRedis(client, throttle.RedisConfig{Prefix: prefix})
	r := throttle.Rule{Limit: childLimit, Window: time.Hour, Lockout: time.Hour, MaxLockout: time.Hour}
	allowed := 0
	for range childTries {
		res, err := l.Take(context.Background(), []throttle.Request{{Key: "shared", Rule: r}})
		if err != nil {
			t.Fatal(err)
		}
		if res[0].Allowed {
			allowed++
		}
	}
	fmt.Printf("allowed=%d\n", allowed)
}

// A Ring with go-redis's default heartbeat sends a down shard's keys to
// the other shards, where every count starts afresh; NewRedis refuses it,
// naming the option that fixes it.
func TestNewRedisRefusesARingThatMovesKeysOffADownShard(t *testing.T) {
	t.Parallel()
	ring := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:1", "b": "127.0.0.1:2"}})
	defer ring.Close()
	defer func() {
		if got := fmt.Sprint(recover()); !strings.Contains(got, "HeartbeatFn") {
			t.Fatalf("NewRedis on a default Ring: panic %q, want one naming HeartbeatFn", got)
		}
	}()
	throttle.NewRedis(ring, throttle.RedisConfig{})
}

// A nil client is refused at once, by name.
func TestNewRedisRefusesANilClient(t *testing.T) {
	t.Parallel()
	defer func() {
		if got := fmt.Sprint(recover()); !strings.Contains(got, "client is nil") {
			t.Fatalf("panic %q, want one saying the client is nil", got)
		}
	}()
	throttle.NewRedis((*redis.Client)(nil), throttle.RedisConfig{})
}

// On a Ring that keeps its shards, a shard going down fails the Takes of
// its keys: a key locked for an hour is never allowed while its shard is
// away (an outage never lifts the limits).
func TestRedisRingShardOutageKeepsALockout(t *testing.T) {
	t.Parallel()
	ring, s1, _ := redistest.NewRing(t)
	prefix := redistest.Prefix()
	l := throttle.NewRedis(ring, throttle.RedisConfig{Prefix: prefix})
	ctx := context.Background()
	rule := throttle.Rule{Limit: 3, Window: time.Hour, Lockout: time.Hour, MaxLockout: time.Hour}
	take := func(k string) (throttle.Result, error) {
		r, err := l.Take(ctx, []throttle.Request{{Key: k, Rule: rule}})
		if err != nil {
			return throttle.Result{}, err
		}
		return r[0], nil
	}
	onS1, key := s1.Client(t), ""
	for i := 0; key == ""; i++ { // a key that lives on s1
		k := fmt.Sprint("u:", i)
		if _, err := take(k); err != nil {
			t.Fatal(err)
		}
		if n, _ := onS1.Exists(ctx, prefix+k).Result(); n == 1 {
			key = k
		}
	}
	for range 3 {
		take(key)
	}
	if r, err := take(key); err != nil || r.Allowed {
		t.Fatalf("want locked for an hour: %+v %v", r, err)
	}
	s1.Kill(t)
	for i := range 20 {
		if r, err := take(key); err == nil && r.Allowed {
			t.Fatalf("attempt %d while the key's shard is down: allowed", i)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
