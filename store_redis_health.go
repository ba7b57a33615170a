package session

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// ping checks that Redis answers: the Manager's Ping and the store guard's
// half-open probe call it.
//
// On one server or Sentinel (*redis.Client) it first dials a connection of
// its own with the client's dialer (which, for Sentinel, asks the sentinels
// for the master) and sends PING; only when that is answered does it PING
// through the client's pool. go-redis's pool fails every dial at once,
// with the last dial error, once it has counted PoolSize failed dials, and
// retries in the background only once a second, so probing a down server
// through the pool would add up to a second to every recovery.
//
// On a Cluster, Redis answers when at least one master does, and on a Ring
// when at least one shard does (a dead shard is isolated by the guard's
// per-node breakers; every instance of the app sees the same nodes). A Ring's
// own Ping goes to a shard at random, so a readiness probe would flap.
func (s *RedisStore) ping(ctx context.Context) error {
	switch c := s.client.(type) {
	case *redis.ClusterClient:
		return pingAny(ctx, c.ForEachMaster, "cluster master")
	case *redis.Ring:
		return pingAny(ctx, c.ForEachShard, "ring shard")
	case *redis.Client:
		if err := dialPing(ctx, c.Options()); err != nil {
			return wrapRedis("ping", err)
		}
		if err := c.Ping(ctx).Err(); err != nil {
			return s.wrap("ping", err)
		}
		return nil
	}
	if err := s.client.Ping(ctx).Err(); err != nil {
		return wrapRedis("ping", err)
	}
	return nil
}

// dialPing dials Redis with o's dialer, sends PING and reads the first byte
// of the reply: any reply, an error included (NOAUTH), means Redis answers.
func dialPing(ctx context.Context, o *redis.Options) error {
	if o.Dialer == nil {
		return errors.New("client has no dialer")
	}
	conn, err := o.Dialer(ctx, o.Network, o.Addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if d, ok := ctx.Deadline(); ok {
		conn.SetDeadline(d)
	} else {
		conn.SetDeadline(time.Now().Add(time.Second))
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := conn.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return err
	}
	b, err := bufio.NewReaderSize(conn, 16).ReadByte()
	if err != nil {
		return err
	}
	if b != '+' && b != '-' {
		return fmt.Errorf("unexpected reply %q to PING", b)
	}
	return nil
}

// pingAny returns nil when at least one of the nodes each calls fn on (a
// cluster's masters, a ring's shards) answers PING, else the last error.
func pingAny(ctx context.Context, each func(context.Context, func(context.Context, *redis.Client) error) error, node string) error {
	var up atomic.Int32
	var last atomic.Pointer[error]
	err := each(ctx, func(ctx context.Context, m *redis.Client) error {
		if err := m.Ping(ctx).Err(); err != nil {
			last.Store(&err)
			return nil
		}
		up.Add(1)
		return nil
	})
	switch {
	case up.Load() > 0:
		return nil
	case err != nil:
		return wrapRedis("ping", err)
	case last.Load() != nil:
		return wrapRedis("ping", fmt.Errorf("no %s answers: %w", node, *last.Load()))
	}
	return wrapRedis("ping", fmt.Errorf("no %s", node))
}

// partitioner returns, on a Cluster, the function naming the master node
// that serves a record key (its address), and on a Ring the shard that
// holds it, so the store guard keeps one breaker per node: a dead node's
// keys fail at once while the others answer. It costs a lookup in the
// client's slot map or hash ring per call. On other clients it returns nil
// (one partition).
func (s *RedisStore) partitioner() func(ctx context.Context, key string) string {
	if s.ring != nil {
		return func(_ context.Context, key string) string {
			c, err := s.ring.GetShardClientForKey(s.recordKey(key))
			if err != nil {
				return ""
			}
			return c.Options().Addr
		}
	}
	if s.cluster == nil {
		return nil
	}
	return func(ctx context.Context, key string) string {
		m, err := s.cluster.MasterForKey(ctx, s.recordKey(key))
		if err != nil {
			return ""
		}
		return m.Options().Addr
	}
}
