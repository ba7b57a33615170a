package bench

import (
	"context"
	"net"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionauth/session"
)

// NewRedisClient connects to the Redis at url and counts its round trips:
// one per command and one per pipeline (or transaction) sent.
func NewRedisClient(url string) (*redis.Client, *Counter, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, nil, err
	}
	c := redis.NewClient(opt)
	n := new(Counter)
	c.AddHook(countingHook{n: n})
	if err := c.Ping(context.Background()).Err(); err != nil {
		c.Close()
		return nil, nil, err
	}
	return c, n, nil
}

// countingHook is a go-redis hook that counts round trips.
type countingHook struct{ n *Counter }

func (h countingHook) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		return next(ctx, network, addr)
	}
}

func (h countingHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Inc()
		return next(ctx, cmd)
	}
}

func (h countingHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.n.Inc()
		return next(ctx, cmds)
	}
}

// NewRedisCachedClient is NewRedisClient with go-redis's server-assisted
// client-side caching on (RESP3, CLIENT TRACKING) in a
// session.RedisClientCache of at most maxEntries entries, each served for at
// most a minute. A command the cache
// answers makes no round trip, so this client counts what reaches the
// network instead: one per write on its connections (one per command or
// pipeline, as go-redis flushes them). Writes that set a new connection up
// are counted too, when a connection is dialled.
func NewRedisCachedClient(url string, maxEntries int) (*redis.Client, *Counter, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, nil, err
	}
	opt.Protocol = 3
	opt.ClientSideCache = session.NewRedisClientCache(redis.CacheConfig{MaxEntries: maxEntries, MaxStaleness: time.Minute})
	c := redis.NewClient(opt)
	n := new(Counter)
	c.AddHook(writeCountingHook{n: n})
	if err := c.Ping(context.Background()).Err(); err != nil {
		c.Close()
		return nil, nil, err
	}
	return c, n, nil
}

// writeCountingHook counts the writes on a client's connections.
type writeCountingHook struct{ n *Counter }

func (h writeCountingHook) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := next(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return writeCountingConn{Conn: c, n: h.n}, nil
	}
}

func (h writeCountingHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }

func (h writeCountingHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// writeCountingConn counts its writes.
type writeCountingConn struct {
	net.Conn
	n *Counter
}

func (c writeCountingConn) Write(b []byte) (int, error) {
	c.n.Inc()
	return c.Conn.Write(b)
}
