package session

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisClusterReloadInterval bounds how often a RedisStore on a
// *redis.ClusterClient asks the client to reload its slot map after a failed
// command.
//
// The cluster client routes each command by a slot map it refreshes only
// every ClusterStateReloadInterval (one minute by default) or when a node
// answers MOVED. When a master dies, its replica is promoted after the
// cluster's node timeout, but a dead master never answers MOVED, so without
// help the client keeps sending that shard's commands to it until the map
// ages out: a minute of errors after the cluster has healed. A RedisStore
// therefore calls ClusterClient.ReloadState (a reload in the background, one
// CLUSTER SLOTS to a live node) after an error other than redis.Nil or a
// cancelled context, at most once per interval, so the client follows a
// promotion within about this interval plus one reload.
const redisClusterReloadInterval = 500 * time.Millisecond

// wrap reports err to the cluster recovery and wraps it for the caller.
func (s *RedisStore) wrap(op string, err error) error {
	s.noteErr(err)
	return wrapRedis(op, err)
}

// noteErr reloads the cluster client's slot map after a failed command, at
// most once per redisClusterReloadInterval.
func (s *RedisStore) noteErr(err error) {
	if s.cluster == nil || err == nil || errors.Is(err, redis.Nil) || errors.Is(err, context.Canceled) {
		return
	}
	now := time.Now().UnixNano()
	last := s.lastReload.Load()
	if now-last < int64(redisClusterReloadInterval) || !s.lastReload.CompareAndSwap(last, now) {
		return
	}
	s.cluster.ReloadState(context.Background())
}
