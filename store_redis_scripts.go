package session

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"
)

// redisIdxAdd prunes expired entries from the index KEYS[1], raises the
// score of member ARGV[3] to ARGV[2] (adding it if absent) and sets the index
// to expire with its highest score. ARGV[1] is now in Unix milliseconds.
// It returns the number of entries: at least the user's live sessions.
var redisIdxAdd = redis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
redis.call('ZADD', KEYS[1], 'GT', ARGV[2], ARGV[3])
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], top[2])
return redis.call('ZCARD', KEYS[1])
`)

// redisIdxList prunes expired entries from the index KEYS[1] and returns the
// rest as member, score redisPairs. ARGV[1] is now in Unix milliseconds.
var redisIdxList = redis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
return redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
`)

// redisIdxRemove removes the member, score redisPairs in ARGV from the index
// KEYS[1] when the member's score is still the one given (so an entry that
// was re-added meanwhile stays), then lowers the index's expiry to its highest
// remaining score. It returns how many entries it removed.
var redisIdxRemove = redis.NewScript(`
local n = 0
for i = 1, #ARGV, 2 do
  local s = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if s and tonumber(s) == tonumber(ARGV[i + 1]) then
    n = n + redis.call('ZREM', KEYS[1], ARGV[i])
  end
end
if n > 0 then
  local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  if top[2] then redis.call('PEXPIREAT', KEYS[1], top[2]) end
end
return n
`)

// redisExtend updates the live record KEYS[1]: ARGV[1] now (ms), ARGV[2] new
// expiry (ms), ARGV[3] the same as 12 hex digits, ARGV[4] a new index horizon
// in hex that the caller has already extended the index to (or ""), ARGV[5]
// "t" to keep Data or "u" to replace it with ARGV[6].
//
// It returns 0 when there is no live record (nothing is written: a deleted
// session is never recreated), 1 when done, and {2, userID, created hex} when
// the new expiry would pass what the user index covers; then nothing is
// written and the caller extends the index and calls again with ARGV[4].
var redisExtend = redis.NewScript(`
local function hx(s)
  if string.find(s, '^[0-9a-f]+$') then return tonumber(s, 16) end
end
local v = redis.call('GET', KEYS[1])
if not v or #v < 41 or string.byte(v, 1) ~= 1 then return 0 end
local e, h, c, n = hx(string.sub(v, 2, 13)), string.sub(v, 14, 25), string.sub(v, 26, 37), hx(string.sub(v, 38, 41))
if not e or not hx(h) or not hx(c) or not n or #v < 41 + n or e <= tonumber(ARGV[1]) then return 0 end
local exp = tonumber(ARGV[2])
if n > 0 and exp > hx(h) then
  if ARGV[4] ~= '' and tonumber(ARGV[4], 16) >= exp then
    h = ARGV[4]
  else
    return {2, string.sub(v, 42, 41 + n), c}
  end
end
if ARGV[5] == 'u' then
  redis.call('SET', KEYS[1], string.sub(v, 1, 1) .. ARGV[3] .. h .. string.sub(v, 26, 41 + n) .. ARGV[6], 'PXAT', ARGV[2])
else
  redis.call('SETRANGE', KEYS[1], 1, ARGV[3] .. h)
  redis.call('PEXPIREAT', KEYS[1], ARGV[2])
end
return 1
`)

// redisDelOwned deletes the record KEYS[1] if it belongs to user ARGV[1]. It
// returns 1 when it deleted it, 0 when there was none, -1 when the record is
// someone else's (or undecodable) and was left alone.
var redisDelOwned = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
if #v >= 41 and string.byte(v, 1) == 1 then
  local l = string.sub(v, 38, 41)
  local n = string.find(l, '^[0-9a-f]+$') and tonumber(l, 16)
  if n and #v >= 41 + n and string.sub(v, 42, 41 + n) == ARGV[1] then
    redis.call('DEL', KEYS[1])
    return 1
  end
end
return -1
`)

// redisScriptCall is one script invocation in a pipeline.
type redisScriptCall struct {
	script *redis.Script
	keys   []string
	args   []any
	cmd    *redis.Cmd
}

// pipelineScripts runs calls in one pipeline with EVALSHA. Calls that fail
// with NOSCRIPT (the server restarted or its script cache was flushed) did not
// run, so they are sent again in a second pipeline with EVAL. It returns the
// first error other than redis.Nil.
func (s *RedisStore) pipelineScripts(ctx context.Context, calls []*redisScriptCall) error {
	pipe := s.client.Pipeline()
	for _, c := range calls {
		c.cmd = c.script.EvalSha(ctx, pipe, c.keys, c.args...)
	}
	pipe.Exec(ctx)
	var retry []*redisScriptCall
	for _, c := range calls {
		if redis.HasErrorPrefix(c.cmd.Err(), "NOSCRIPT") {
			retry = append(retry, c)
		}
	}
	if len(retry) > 0 {
		pipe = s.client.Pipeline()
		for _, c := range retry {
			c.cmd = c.script.Eval(ctx, pipe, c.keys, c.args...)
		}
		pipe.Exec(ctx)
	}
	for _, c := range calls {
		if err := c.cmd.Err(); err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
	}
	return nil
}
