package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionauth/session"
)

// openStore returns the session store: Redis when REDIS_URL is set, else
// memory (one process; a restart signs everyone out). It fails when Redis
// cannot be reached at start-up, rather than serving with no sessions.
func openStore(ctx context.Context, c config) (session.Store, func(), error) {
	if c.RedisURL == "" {
		return session.NewMemoryStore(), func() {}, nil
	}
	opts, err := redis.ParseURL(c.RedisURL)
	if err != nil {
		// Parse errors quote parts of the URL, which may be parts of the
		// password: say what is expected, never what was given.
		return nil, nil, errors.New("REDIS_URL does not parse: want redis://[user:password@]host:port[/db] or rediss://... (percent-encode special characters in the password)")
	}
	// Give up on a slow Redis quickly: RequireAuth then answers 503 instead
	// of holding the request.
	opts.ContextTimeoutEnabled = true
	opts.DialTimeout = 2 * time.Second
	opts.ReadTimeout = time.Second
	opts.WriteTimeout = time.Second
	client := redis.NewClient(opts)
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := client.Ping(pingCtx).Err(); err != nil {
		client.Close()
		return nil, nil, fmt.Errorf("REDIS_URL: cannot reach Redis at %s: %w", opts.Addr, err)
	}
	return session.NewRedisStore(client), func() { client.Close() }, nil
}
