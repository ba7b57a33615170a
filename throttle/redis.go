package throttle

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionauth/session/internal/redisring"
)

// RedisConfig configures NewRedis. Zero fields take the defaults shown.
type RedisConfig struct {
	// Prefix is put before every key; "" means "throttle:". Give each
	// application (or environment) sharing a Redis its own.
	Prefix string
}

// redisLimiter is the Limiter NewRedis returns.
type redisLimiter struct {
	client redis.UniversalClient
	prefix string
	now    func() time.Time
}

// NewRedis returns a Limiter that keeps its counts in Redis through client
// (go-redis v9), shared by every instance of an application that uses the
// same server and prefix. It works with a single server, Sentinel
// (redis.NewFailoverClient), Redis Cluster and Ring. It starts no goroutine
// and needs no Close; the caller owns the client. It panics on a nil
// client, and on a *redis.Ring with go-redis's default HeartbeatFn, which sends a down
// shard's keys to the others, where every count starts afresh and every
// lockout is lifted: give the ring a HeartbeatFn that always reports its
// shards up (func(context.Context, *redis.Client) bool { return true }), and
// a Take on a down shard fails, as the package promises for an outage.
//
// Each key is one Redis hash (the count, the window's start, the lockout's
// end, the number of lockouts, the last attempt) under Prefix+key, and every
// operation on a key is one Lua script on that key alone, so it is atomic
// and runs on Redis Cluster without CROSSSLOT errors. Every write sets the
// key to expire when the Rule would forget it (a window after its last
// attempt and lockout), so nothing accumulates and no sweep is needed.
//
// Round trips: Take, Refund and Reset each send all their keys in one
// pipeline, one round trip (on Cluster, one per node involved, in parallel).
// The first call after the server lost its script cache (a restart, a
// failover, SCRIPT FLUSH) takes one more, to load the script.
//
// Counts live as long as Redis keeps them: they survive restarts of the
// application, and with Redis persistence, of Redis. Run Redis with
// maxmemory-policy noeviction or a volatile-* policy with room to spare:
// an evicted key is a forgotten count. The scripts count with this
// process's clock: instances sharing a Redis need clocks within a few
// seconds of each other (NTP), or skew shifts windows and lockouts by as
// much.
//
// Errors from Redis are returned wrapped, as "throttle: redis: …".
func NewRedis(client redis.UniversalClient, cfg RedisConfig) Limiter {
	return newRedis(client, cfg, time.Now)
}

// newRedis is NewRedis on the clock now, which the package's tests set.
func newRedis(client redis.UniversalClient, cfg RedisConfig, now func() time.Time) *redisLimiter {
	if redisring.IsNil(client) {
		panic("throttle: NewRedis: the Redis client is nil")
	}
	if ring, ok := client.(*redis.Ring); ok && redisring.DropsShards(ring) {
		panic("throttle: NewRedis: a redis.Ring with the default HeartbeatFn moves a down shard's counts to the other shards, lifting their limits; " + redisring.Advice)
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "throttle:"
	}
	return &redisLimiter{client: client, prefix: cfg.Prefix, now: now}
}

// redisTake is Take for one key, the same state machine as memory's. KEYS[1]
// is the key; ARGV is now, then the rule's Limit, Window, Lockout and
// MaxLockout, times in milliseconds. It returns {allowed, retryAfter,
// remaining, windowStart}. The hash fields: n count, s window start, u
// locked until, l lockouts so far (at most 64), t last attempt counted.
var redisTake = redis.NewScript(`
local function str(x) return string.format('%.0f', x) end
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local lockout = tonumber(ARGV[4])
local maxlock = tonumber(ARGV[5])
local v = redis.call('HMGET', KEYS[1], 'n', 's', 'u', 'l', 't')
local n = tonumber(v[1]) or 0
local s = tonumber(v[2]) or 0
local u = tonumber(v[3]) or 0
local l = tonumber(v[4]) or 0
local t = tonumber(v[5]) or 0
if now < u then
	return {0, u - now, 0, 0}
end
if t > 0 or u > 0 then
	if now >= math.max(t, u) + window then
		n, s, u, l, t = 0, 0, 0, 0, 0
	end
end
if n == 0 or now >= s + window then
	n = 0
	s = now
end
if n >= limit then
	local d = lockout
	for i = 1, l do
		if d >= maxlock then break end
		d = d * 2
	end
	if d > maxlock then d = maxlock end
	u = now + d
	l = math.min(l + 1, 64)
	redis.call('HSET', KEYS[1], 'n', 0, 's', str(s), 'u', str(u), 'l', l, 't', str(t))
	redis.call('PEXPIRE', KEYS[1], str(u + window - now))
	return {0, d, 0, 0}
end
n = n + 1
redis.call('HSET', KEYS[1], 'n', n, 's', str(s), 'u', str(u), 'l', l, 't', str(now))
redis.call('PEXPIRE', KEYS[1], str(math.max(now, u) + window - now))
return {1, 0, limit - n, s}
`)

// redisRefund is Refund for one key: KEYS[1] loses one count if ARGV[1] is
// still its window's start. Its expiry is left as it is.
var redisRefund = redis.NewScript(`
local v = redis.call('HMGET', KEYS[1], 'n', 's')
local n = tonumber(v[1]) or 0
if n > 0 and tonumber(v[2]) == tonumber(ARGV[1]) then
	redis.call('HINCRBY', KEYS[1], 'n', -1)
	return 1
end
return 0
`)

// Take implements Limiter in one round trip.
func (r *redisLimiter) Take(ctx context.Context, reqs []Request) ([]Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, q := range reqs {
		if err := q.Rule.Validate(); err != nil {
			return nil, fmt.Errorf("%w (key %q)", err, q.Key)
		}
	}
	if len(reqs) == 0 {
		return []Result{}, nil
	}
	now := r.now().UnixMilli()
	keys := make([]string, len(reqs))
	args := make([][]any, len(reqs))
	for i, q := range reqs {
		keys[i] = r.prefix + q.Key
		args[i] = []any{now, q.Rule.Limit, q.Rule.Window.Milliseconds(),
			q.Rule.Lockout.Milliseconds(), q.Rule.MaxLockout.Milliseconds()}
	}
	cmds, err := r.run(ctx, redisTake, keys, args)
	if err != nil {
		return nil, err
	}
	res := make([]Result, len(reqs))
	for i, c := range cmds {
		v, err := c.Int64Slice()
		if err != nil || len(v) != 4 {
			return nil, fmt.Errorf("%w: %v", errRedisReply, err)
		}
		res[i] = Result{Key: reqs[i].Key, Allowed: v[0] == 1}
		if res[i].Allowed {
			res[i].Remaining = int(v[2])
			res[i].WindowStart = time.UnixMilli(v[3])
		} else {
			res[i].RetryAfter = max(time.Duration(v[1])*time.Millisecond, time.Millisecond)
		}
	}
	return res, nil
}

// Refund implements Limiter in one round trip.
func (r *redisLimiter) Refund(ctx context.Context, res []Result) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var keys []string
	var args [][]any
	for _, x := range res {
		if x.Allowed {
			keys = append(keys, r.prefix+x.Key)
			args = append(args, []any{x.WindowStart.UnixMilli()})
		}
	}
	if len(keys) == 0 {
		return nil
	}
	_, err := r.run(ctx, redisRefund, keys, args)
	return err
}

// Reset implements Limiter in one round trip: one DEL per key, pipelined,
// so keys of different cluster slots never meet in one command.
func (r *redisLimiter) Reset(ctx context.Context, keys ...string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(keys) == 0 {
		return nil
	}
	pipe := r.client.Pipeline()
	for _, k := range keys {
		pipe.Del(ctx, r.prefix+k)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("throttle: redis: %w", err)
	}
	return nil
}

// run runs script once per key, keys[i] with args[i], in one pipeline of
// EVALSHA. Keys whose server did not have the script (NOSCRIPT: it
// restarted, failed over or flushed its scripts) are run again with EVAL,
// which also caches the script; EVALSHA failed on them without running, so
// nothing is counted twice.
func (r *redisLimiter) run(ctx context.Context, script *redis.Script, keys []string, args [][]any) ([]*redis.Cmd, error) {
	cmds := make([]*redis.Cmd, len(keys))
	pipe := r.client.Pipeline()
	for i, k := range keys {
		cmds[i] = script.EvalSha(ctx, pipe, []string{k}, args[i]...)
	}
	pipe.Exec(ctx) // errors are read per command below
	var again []int
	for i, c := range cmds {
		if err := c.Err(); err != nil {
			if !redis.HasErrorPrefix(err, "NOSCRIPT") {
				return nil, fmt.Errorf("throttle: redis: %w", err)
			}
			again = append(again, i)
		}
	}
	if len(again) == 0 {
		return cmds, nil
	}
	pipe = r.client.Pipeline()
	for _, i := range again {
		cmds[i] = script.Eval(ctx, pipe, []string{keys[i]}, args[i]...)
	}
	pipe.Exec(ctx)
	for _, i := range again {
		if err := cmds[i].Err(); err != nil {
			return nil, fmt.Errorf("throttle: redis: %w", err)
		}
	}
	return cmds, nil
}
