package session

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// ListUser returns the live records of userID: one round trip to read (and
// prune) the index, one pipelined GET of its records, and one more to drop
// entries whose records are gone, when there are any.
func (s *RedisStore) ListUser(ctx context.Context, userID string) ([]Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, wrapRedis("list user", err)
	}
	if userID == "" {
		return nil, nil
	}
	now := s.clock()
	entries, err := s.listIndex(ctx, userID, now.UnixMilli())
	if err != nil {
		return nil, s.wrap("list user", err)
	}
	if len(entries) == 0 {
		return nil, nil
	}
	pipe := s.client.Pipeline()
	gets := make([]*redis.StringCmd, len(entries))
	for i, e := range entries {
		gets[i] = pipe.Get(ctx, s.recordKey(e.key))
	}
	cmds, _ := pipe.Exec(ctx)
	if err := redisReadErr(cmds); err != nil {
		return nil, s.wrap("list user", err)
	}
	out := make([]Entry, 0, len(entries))
	var stale []redisIndexEntry
	for i, e := range entries {
		v, err := gets[i].Bytes()
		if err != nil { // redis.Nil (deleted or expired in Redis) or WRONGTYPE
			if s.ordered {
				stale = append(stale, e)
			}
			continue
		}
		rec, ok := decodeRedisRecord(v)
		if !ok || rec.UserID != userID || !now.Before(rec.Expires) {
			stale = append(stale, e) // not this user's, or dead for good
			continue
		}
		out = append(out, Entry{Key: e.key, Record: rec})
	}
	if len(stale) > 0 {
		if err := redisIdxRemove.Run(ctx, s.client, s.indexKeys(userID), redisRemoveArgs(stale)...).Err(); err != nil {
			return nil, s.wrap("list user", err)
		}
	}
	return out, nil
}

// DeleteUser deletes every record of userID. Each pass reads the index,
// deletes the records still owned by the user (a script per record, all
// pipelined) and removes their entries; passes repeat until one finds nothing
// new, so records created while it runs are deleted too. A typical call costs
// three round trips.
func (s *RedisStore) DeleteUser(ctx context.Context, userID string) error {
	if err := ctx.Err(); err != nil {
		return wrapRedis("delete user", err)
	}
	if userID == "" {
		return nil
	}
	ik := s.indexKeys(userID)
	entries, err := s.listIndex(ctx, userID, s.clock().UnixMilli())
	if err != nil {
		return s.wrap("delete user", err)
	}
	// kept holds entries whose record was missing but that must stay in the
	// index (Cluster, Ring: the record may be a Create still in flight).
	kept := make(map[redisIndexEntry]bool)
	for {
		todo := entries[:0:0]
		for _, e := range entries {
			if !kept[e] {
				todo = append(todo, e)
			}
		}
		if len(todo) == 0 {
			return nil
		}
		calls := make([]*redisScriptCall, len(todo))
		for i, e := range todo {
			calls[i] = &redisScriptCall{script: redisDelOwned, keys: []string{s.recordKey(e.key)}, args: []any{userID}}
		}
		err := s.pipelineScripts(ctx, calls)
		for _, e := range todo {
			s.forget(e.key)
		}
		if err != nil {
			return s.wrap("delete user", err)
		}
		var drop []redisIndexEntry
		for i, e := range todo {
			r, _ := calls[i].cmd.Int64()
			if r == 0 && !s.ordered {
				kept[e] = true
				continue
			}
			drop = append(drop, e)
		}
		calls = calls[:0]
		if len(drop) > 0 {
			calls = append(calls, &redisScriptCall{script: redisIdxRemove, keys: ik, args: redisRemoveArgs(drop)})
		}
		list := &redisScriptCall{script: redisIdxList, keys: ik, args: []any{s.clock().UnixMilli()}}
		if err := s.pipelineScripts(ctx, append(calls, list)); err != nil {
			return s.wrap("delete user", err)
		}
		flat, err := list.cmd.StringSlice()
		if err != nil {
			return s.wrap("delete user", err)
		}
		entries = redisPairs(flat)
	}
}

type redisIndexEntry struct {
	key   string
	score string
}

// listIndex prunes expired entries from userID's index and returns the rest.
func (s *RedisStore) listIndex(ctx context.Context, userID string, now int64) ([]redisIndexEntry, error) {
	res, err := redisIdxList.Run(ctx, s.client, s.indexKeys(userID), now).StringSlice()
	if err != nil {
		return nil, err
	}
	return redisPairs(res), nil
}

func redisPairs(flat []string) []redisIndexEntry {
	out := make([]redisIndexEntry, 0, len(flat)/2)
	for i := 0; i+1 < len(flat); i += 2 {
		out = append(out, redisIndexEntry{flat[i], flat[i+1]})
	}
	return out
}

// redisRemoveArgs turns entries into redisIdxRemove arguments.
func redisRemoveArgs(entries []redisIndexEntry) []any {
	args := make([]any, 0, 2*len(entries))
	for _, e := range entries {
		args = append(args, e.key, e.score)
	}
	return args
}
