package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"github.com/sessionauth/session"
	"github.com/sessionauth/session/pgstore"
	"github.com/sessionauth/session/throttle"
)

// The Redis deployments the server can use, each from its own variable; at
// most one may be set. Parse errors never quote the URL: it may hold a
// password.
const (
	redisURLHelp        = "REDIS_URL does not parse: want redis://[user:password@]host:port[/db] or rediss://... (percent-encode special characters in the password)"
	redisClusterURLHelp = "REDIS_CLUSTER_URL does not parse: want redis://[user:password@]host1:port?addr=host2:port&addr=host3:port or rediss://... (percent-encode special characters in the password)"
	redisSentinelHelp   = "REDIS_SENTINEL_URL does not parse: want redis://[sentinel-user:sentinel-password@]host1:26379?addr=host2:26379&addr=host3:26379&master_name=NAME[&password=REDIS-PASSWORD] (percent-encode special characters in passwords)"
)

// Recommended go-redis client options, applied where the URL's query does
// not set them (dial_timeout=..., max_retries=... win):
//
//   - short dial, read and write timeouts, and the request's context
//     deadline honoured: a slow or refused Redis turns into a quick 503
//     instead of a request held for seconds;
//   - one dial attempt and one command retry (go-redis dials up to 5 times
//     with backoff and retries commands 3 times by default, which made a
//     refused Redis cost about 0.8 s per request);
//   - no CLIENT SETINFO on each new connection (Redis before 7.2 answers it
//     with an error, counted in its error stats and logged by go-redis).
//
// Raise the timeouts if Redis is further away than the same data centre.
const (
	redisDialTimeout = 500 * time.Millisecond
	redisIOTimeout   = 500 * time.Millisecond
)

// tuneRedis applies the recommended options to one of go-redis's option
// types' fields.
func tuneRedis(dial, read, write *time.Duration, retries, dialRetries *int, ctxTimeout, noIdentity *bool) {
	if *dial == 0 {
		*dial = redisDialTimeout
	}
	if *read == 0 {
		*read = redisIOTimeout
	}
	if *write == 0 {
		*write = redisIOTimeout
	}
	if *retries == 0 {
		*retries = 1
	}
	if *dialRetries == 0 {
		*dialRetries = 1
	}
	*ctxTimeout = true
	*noIdentity = true
}

// sessionStore is the store the server runs on.
type sessionStore struct {
	session.Store
	// attempts keeps the sign-in throttle's counts: in Redis on the same
	// client as the sessions, so every instance shares them and they
	// survive a restart; nil with the memory store (the guard then counts
	// in this process).
	attempts throttle.Limiter
	// kind and where describe it for the start-up log ("memory",
	// "Redis Cluster" at "127.0.0.1:7000, ..."); where holds no password.
	kind, where string
	// ping checks that the store can be reached, for /readyz.
	ping  func(context.Context) error
	close func()
}

// openStore returns the session store: Redis (one server, a Cluster, or a
// master found through Sentinel) when one of REDIS_URL, REDIS_CLUSTER_URL,
// REDIS_SENTINEL_URL is set, else memory (one process; a restart signs
// everyone out). With Redis, the throttle's counts go to the same client,
// under keys of their own ("throttle:...", beside the sessions'
// "session:..."). It does not wait for Redis: the server starts while Redis is
// down and answers 503 where the store is needed until it is back. go-redis's
// own log lines go to log.
//
// With pool (DATABASE_URL) and no REDIS_* variable, sessions go to
// PostgreSQL (pgstore, its table created here) next to the accounts, and
// the throttle counts in memory.
func openStore(ctx context.Context, c config, log *slog.Logger, pool *pgxpool.Pool) (*sessionStore, error) {
	var client redis.UniversalClient
	s := &sessionStore{}
	switch {
	case c.RedisURL != "":
		o, err := redis.ParseURL(c.RedisURL)
		if err != nil {
			return nil, errors.New(redisURLHelp)
		}
		tuneRedis(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.MaxRetries, &o.DialerRetries, &o.ContextTimeoutEnabled, &o.DisableIdentity)
		client, s.kind, s.where = redis.NewClient(o), "Redis", o.Addr
	case c.RedisClusterURL != "":
		o, err := redis.ParseClusterURL(c.RedisClusterURL)
		if err != nil {
			return nil, errors.New(redisClusterURLHelp)
		}
		tuneRedis(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.MaxRetries, &o.DialerRetries, &o.ContextTimeoutEnabled, &o.DisableIdentity)
		client, s.kind, s.where = redis.NewClusterClient(o), "Redis Cluster", strings.Join(o.Addrs, ", ")
	case c.RedisSentinelURL != "":
		o, err := redis.ParseFailoverURL(c.RedisSentinelURL)
		if err != nil {
			return nil, errors.New(redisSentinelHelp)
		}
		if o.MasterName == "" {
			return nil, errors.New("REDIS_SENTINEL_URL has no master_name=NAME: the name the sentinels know the master by")
		}
		tuneRedis(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.MaxRetries, &o.DialerRetries, &o.ContextTimeoutEnabled, &o.DisableIdentity)
		client, s.kind = redis.NewFailoverClient(o), "Redis Sentinel"
		s.where = fmt.Sprintf("master %q via %s", o.MasterName, strings.Join(o.SentinelAddrs, ", "))
	case pool != nil:
		st, err := pgstore.New(pool, pgstore.Config{Logger: log})
		if err != nil {
			return nil, err
		}
		if err := st.Setup(ctx); err != nil {
			st.Close()
			return nil, fmt.Errorf("DATABASE_URL: creating the sessions table: %w", err)
		}
		cc := pool.Config().ConnConfig
		return &sessionStore{Store: st, kind: "PostgreSQL", where: fmt.Sprintf("%s:%d/%s", cc.Host, cc.Port, cc.Database),
			ping: pool.Ping, close: st.Close}, nil
	default:
		return &sessionStore{Store: session.NewMemoryStore(), kind: "memory",
			ping: func(context.Context) error { return nil }, close: func() {}}, nil
	}
	redis.SetLogger(newRedisLog(log))
	s.Store = session.NewRedisStore(client)
	s.attempts = throttle.NewRedis(client, throttle.RedisConfig{})
	s.ping = func(ctx context.Context) error { return pingRedis(ctx, client) }
	s.close = func() { client.Close() }
	return s, nil
}

// pingRedis checks that Redis answers. A cluster counts as reachable while
// at least one master answers: with a shard down, most sessions still work,
// and every instance of the server sees the same cluster, so reporting
// not-ready would take them all out of the load balancer at once.
func pingRedis(ctx context.Context, client redis.UniversalClient) error {
	cc, ok := client.(*redis.ClusterClient)
	if !ok {
		return client.Ping(ctx).Err()
	}
	var up, down atomic.Int32
	var lastErr atomic.Pointer[error]
	err := cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		if err := m.Ping(ctx).Err(); err != nil {
			down.Add(1)
			lastErr.Store(&err)
			return nil
		}
		up.Add(1)
		return nil
	})
	switch {
	case err != nil:
		return err
	case up.Load() == 0 && down.Load() > 0:
		return fmt.Errorf("no cluster master answers: %w", *lastErr.Load())
	case up.Load() == 0:
		return errors.New("the cluster has no master")
	}
	return nil
}

// openDatabase connects to DATABASE_URL and checks it answers: the schema
// is created at start-up, so the server does not start without it. Errors
// never quote the URL (it may hold a password).
func openDatabase(ctx context.Context, databaseURL string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, errors.New("DATABASE_URL does not parse: want postgres://user[:password]@host:port/database[?sslmode=...] (percent-encode special characters in the password)")
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("DATABASE_URL: PostgreSQL at %s:%d does not answer: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, err)
	}
	return pool, nil
}
