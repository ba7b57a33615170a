package session

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"
)

// Replace deletes the record under oldKey (unless oldKey is ""), creates
// rec under key as Create does, and, when rec.UserID is not "" and limit >
// 0, ends the user's oldest live sessions, in the order this store created
// them, until at most limit remain, the new one included (it implements
// Replacer). Sessions indexed before the store kept a creation order count
// as the oldest.
//
// On a single server or Sentinel it is one script: one round trip, within
// the cap or past it, atomic. On Cluster and Ring, where a record and its
// user's index live on different servers, it is one pipelined round trip
// to delete and create the record, then one script on the index that adds
// the new entry and, only when the index holds more than limit entries,
// returns the others: then one pipelined GET of those records, one
// pipelined delete of the live ones past the cap, and one script removing
// their entries: 2 round trips within the cap, 5 past it. Concurrent
// Replace calls still never leave more than limit live sessions (each
// record exists before its entry does, and the last index update sees
// every entry), but in between two of them may.
func (s *RedisStore) Replace(ctx context.Context, oldKey, key string, rec Record, limit int) error {
	if err := ctx.Err(); err != nil {
		return wrapRedis("replace", err)
	}
	if len(rec.UserID) > redisMaxUserIDLen {
		return errRedisUserIDTooLong
	}
	defer s.forget(oldKey, key)
	now := s.clock().UnixMilli()
	exp := rec.Expires.UnixMilli()
	if exp <= now { // a record that has already expired is not stored
		if oldKey == "" {
			return nil
		}
		return s.Delete(ctx, oldKey)
	}
	if s.ordered {
		return s.replaceOneServer(ctx, oldKey, key, rec, limit, now, exp)
	}
	return s.replaceSpread(ctx, oldKey, key, rec, limit, now, exp)
}

func (s *RedisStore) replaceOneServer(ctx context.Context, oldKey, key string, rec Record, limit int, now, exp int64) error {
	userID := rec.UserID
	if userID == "" {
		limit = 0
	}
	keys := append(s.indexKeys(userID), s.recordKey(key))
	if oldKey != "" {
		keys = append(keys, s.recordKey(oldKey))
	}
	val := encodeRedisRecord(exp, redisHorizon(now, exp), now, userID, rec.Data)
	if userID == "" {
		val = encodeRedisRecord(exp, exp, now, userID, rec.Data)
	}
	// EVAL, not EVALSHA: one round trip even right after a server restart.
	res, err := redisReplace.Eval(ctx, s.client, keys, now, redisHorizon(now, exp), key, "1", exp, val, oldKey, limit, userID, s.prefix).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return s.wrap("replace", err)
	}
	switch r := res.(type) {
	case int64:
		return ErrExists
	case []any:
		for _, k := range r {
			if k, ok := k.(string); ok {
				s.forget(k)
			}
		}
	}
	return nil
}

func (s *RedisStore) replaceSpread(ctx context.Context, oldKey, key string, rec Record, limit int, now, exp int64) error {
	set := s.setCmd(ctx, key, rec, now, exp)
	if oldKey == "" {
		_ = s.client.Process(ctx, set)
	} else {
		pipe := s.client.Pipeline()
		pipe.Del(ctx, s.recordKey(oldKey))
		pipe.Process(ctx, set)
		cmds, _ := pipe.Exec(ctx)
		if err := redisFirstErr(cmds); err != nil {
			return s.wrap("replace", err)
		}
	}
	switch err := set.Err(); {
	case errors.Is(err, redis.Nil):
		return ErrExists
	case err != nil:
		return s.wrap("replace", err)
	}
	if rec.UserID == "" {
		return nil
	}
	// The record exists before its index entry, so a concurrent Replace
	// that sees the entry also sees the record.
	userID := rec.UserID
	flat, err := redisIdxReplace.Run(ctx, s.client, s.indexKeys(userID), now, redisHorizon(now, exp), key, "1", oldKey, max(limit, 0)).StringSlice()
	if err != nil {
		return s.wrap("replace", err)
	}
	others := redisPairs(flat) // newest first
	if len(others) == 0 {
		return nil
	}
	pipe := s.client.Pipeline()
	gets := make([]*redis.StringCmd, len(others))
	for i, e := range others {
		gets[i] = pipe.Get(ctx, s.recordKey(e.key))
	}
	cmds, _ := pipe.Exec(ctx)
	if err := redisReadErr(cmds); err != nil {
		return s.wrap("replace", err)
	}
	var end []*redisScriptCall
	var ended []redisIndexEntry
	live := 1 // the new session
	for i, e := range others {
		v, err := gets[i].Bytes()
		if err != nil {
			continue // gone: its entry is pruned by ListUser and DeleteUser
		}
		r, ok := decodeRedisRecord(v)
		if !ok || r.UserID != userID {
			continue
		}
		if live < limit {
			live++
			continue
		}
		end = append(end, &redisScriptCall{script: redisDelOwned, keys: []string{s.recordKey(e.key)}, args: []any{userID}})
		ended = append(ended, e)
	}
	if len(end) == 0 {
		return nil
	}
	err = s.pipelineScripts(ctx, end)
	for _, e := range ended {
		s.forget(e.key)
	}
	if err != nil {
		return s.wrap("replace", err)
	}
	// Only now drop the entries: a session whose delete failed stays listed.
	if err := redisIdxRemove.Run(ctx, s.client, s.indexKeys(userID), redisRemoveArgs(ended)...).Err(); err != nil {
		return s.wrap("replace", err)
	}
	return nil
}
