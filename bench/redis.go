package bench

import (
	"context"
	"net"

	"github.com/redis/go-redis/v9"
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
