package session

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"
)

// The user index is two sorted sets under one hash tag (so one cluster
// slot): KEYS[1] scores each store key by an upper bound of its record's
// expiry (the horizon), KEYS[2] by the order in which this store created it
// (a per-user sequence). Entries of the first without a score in the second
// (written before the order existed) count as older than every ordered one.
// redisIdxPrune is the Lua every index script below starts with: prune
// removes the entries whose horizon has passed from both sets. First, an
// index key that holds another type than a sorted set (written from
// outside: the keys under the prefix's u: and o: are the store's) is
// deleted, as a lost index would be (see add): its WRONGTYPE error failed
// every login and LogoutAll of the user, each counting against the store
// guard's breaker. Its sessions are then unlisted, as an evicted index's.
// The check is a write that removes nothing (no score is +inf) and fails
// on another type: a read would make the client that runs the script
// track the index keys, and its own writes to them then invalidate, on a
// client-side cache, the sessions it has just cached.
const redisIdxPrune = `
for i = 1, 2 do
  if type(redis.pcall('ZREMRANGEBYSCORE', KEYS[i], '+inf', '+inf')) == 'table' then redis.call('DEL', KEYS[i]) end
end
local function prune(now)
  local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
  for i = 1, #dead do redis.call('ZREM', KEYS[2], dead[i]) end
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
end
local function expireAt()
  local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  if top[2] then
    redis.call('PEXPIREAT', KEYS[1], top[2])
    if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('PEXPIREAT', KEYS[2], top[2]) end
  end
end
-- add raises member m's horizon in the index to h (adding m when absent)
-- and returns how many entries the index holds. When m is the index's
-- first entry (the user had none, or the index key was lost: evicted,
-- deleted from outside, or expired at a time set by an instance of v0.1,
-- which sets the index's expiry alone), the order set left from before is
-- deleted: it names no entry of this index (see redisReplace).
local function add(h, m)
  local added = redis.call('ZADD', KEYS[1], 'GT', h, m)
  local n = redis.call('ZCARD', KEYS[1])
  if added == 1 and n == 1 then redis.call('DEL', KEYS[2]) end
  return n
end
local function order(m)
  if ARGV[4] == '1' and not redis.call('ZSCORE', KEYS[2], m) then
    local top = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
    redis.call('ZADD', KEYS[2], (tonumber(top[2]) or 0) + 1, m)
  end
end
-- newest returns the index's members other than keep, newest first (by
-- creation order, then horizon), as {member, horizon} pairs.
local function newest(keep)
  local flat = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
  local list, members = {}, {}
  for i = 1, #flat, 2 do
    if flat[i] ~= keep then
      list[#list + 1] = {flat[i], tonumber(flat[i + 1])}
      members[#members + 1] = flat[i]
    end
  end
  if #members > 0 then
    local o = redis.call('ZMSCORE', KEYS[2], unpack(members))
    for i = 1, #list do list[i][3] = tonumber(o[i]) or 0 end
  end
  table.sort(list, function(a, b)
    if a[3] ~= b[3] then return a[3] > b[3] end
    if a[2] ~= b[2] then return a[2] > b[2] end
    return a[1] > b[1]
  end)
  return list
end
`

// redisIdxAdd prunes expired entries from the index, raises the horizon of
// member ARGV[3] to ARGV[2] (adding it if absent), gives it the next
// creation order when ARGV[4] is "1" and it has none, and sets the index to
// expire with its highest horizon. ARGV[1] is now in Unix milliseconds.
var redisIdxAdd = redis.NewScript(redisIdxPrune + `
prune(ARGV[1])
add(ARGV[2], ARGV[3])
order(ARGV[3])
expireAt()
return 1
`)

// redisIdxList prunes expired entries from the index and returns the rest
// as member, horizon pairs. ARGV[1] is now in Unix milliseconds.
var redisIdxList = redis.NewScript(redisIdxPrune + `
prune(ARGV[1])
return redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
`)

// redisIdxRemove removes the member, horizon pairs in ARGV from the index
// when the member's horizon is still the one given (so an entry that was
// re-added meanwhile stays), then lowers the index's expiry to its highest
// remaining horizon. It returns how many entries it removed.
var redisIdxRemove = redis.NewScript(redisIdxPrune + `
local n = 0
for i = 1, #ARGV, 2 do
  local s = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if s and tonumber(s) == tonumber(ARGV[i + 1]) then
    n = n + redis.call('ZREM', KEYS[1], ARGV[i])
    redis.call('ZREM', KEYS[2], ARGV[i])
  end
end
if n > 0 then expireAt() end
return n
`)

// redisReplace is Replace on one server (or Sentinel), in one script.
// KEYS[1] index, KEYS[2] order, KEYS[3] new record, KEYS[4] old record (if
// any). ARGV[1] now (ms), ARGV[2] horizon, ARGV[3] new store key, ARGV[4]
// "1", ARGV[5] expiry (ms), ARGV[6] record value, ARGV[7] old store key or
// "", ARGV[8] limit, ARGV[9] user ID or "", ARGV[10] the key prefix.
//
// It deletes the old record (and its index entry), creates the new one
// unless a record is there (then it returns -1), indexes it with the next
// creation order, and with a limit walks the user's other entries newest
// first: a live record of the user's is kept while fewer than limit are,
// and deleted past that; an entry without a live record of the user's is
// dropped. It walks the creation-order set itself, newest first, when it
// holds as many entries as the index; otherwise newest, which sorts the
// index (an entry with no order counts as older than every ordered one).
// The scripts here keep the order set within the index (an order is given
// only to an entry just indexed, every removal from the index removes the
// order too, and an index that starts again from its first entry starts a
// new order set: add), so there equal sizes mean the same entries. An
// instance of v0.1, which knew no order set, removes entries from the
// index only and adds entries with no order, so while one shares the
// Redis (a rolling upgrade) the order set may name entries the index lacks
// and equal sizes may hide entries with no order. A walk of the order set
// misses those; when the index still holds more than limit entries after
// it (one ZCARD), the sorted index is walked as well. (ZINTERCARD would
// compare the two sets before the walk, but does it member by member:
// about 18 µs of Redis time per login at the cap, in the bench.)
// When the newest limit - 1 entries all have their records (one EXISTS per
// 64), those are kept unread and only the records past them are read, one
// GET each (one, as a rule, at the cap); otherwise it reads every record
// with MGET, 64 per call. The records it reads are not in KEYS: this runs
// only where every key is on one server. It returns the store keys of the
// sessions it ended.
var redisReplace = redis.NewScript(redisIdxPrune + `
if KEYS[4] then redis.call('DEL', KEYS[4]) end
if ARGV[9] ~= '' and ARGV[7] ~= '' then
  redis.call('ZREM', KEYS[1], ARGV[7])
  redis.call('ZREM', KEYS[2], ARGV[7])
end
if not redis.call('SET', KEYS[3], ARGV[6], 'PXAT', ARGV[5], 'NX') then return -1 end
if ARGV[9] == '' then return {} end
prune(ARGV[1])
local n = add(ARGV[2], ARGV[3])
order(ARGV[3])
local ended = {}
local limit = tonumber(ARGV[8])
if limit > 0 and n > limit then
  -- A record of the user's ends its 41-byte header with the user ID's
  -- length in 4 hex digits, then has the user ID.
  local user, prefix = ARGV[9], ARGV[10]
  local tail = string.format('%04x', #user) .. user
  local function mine(v)
    return type(v) == 'string' and string.byte(v, 1) == 1 and string.sub(v, 38, 41 + #user) == tail
  end
  -- drop ends entry m: its record (under rk, holding v) is deleted when it
  -- is the user's, and the entry leaves the index either way.
  local function drop(m, rk, v)
    if mine(v) then
      redis.call('DEL', rk)
      ended[#ended + 1] = m
    end
    redis.call('ZREM', KEYS[1], m)
    redis.call('ZREM', KEYS[2], m)
  end
  -- walk keeps the user's newest live sessions of list (store keys,
  -- newest first) and ends the rest.
  local function walk(list)
    local others, rks = {}, {}
    for _, m in ipairs(list) do
      if m ~= ARGV[3] then
        others[#others + 1] = m
        rks[#rks + 1] = prefix .. m
      end
    end
    -- At the cap, as a rule, every entry's record is there: then the
    -- newest limit - 1 others are the ones kept, and one EXISTS per 64 of
    -- them says so without reading them; only the records past them are
    -- read, each deleted when it is the user's. Otherwise (a record is
    -- gone) the walk reads every record, 64 per MGET, and keeps the
    -- user's newest live ones.
    local keep, found = limit - 1, 0
    for first = 1, keep, 64 do
      found = found + redis.call('EXISTS', unpack(rks, first, math.min(first + 63, keep)))
    end
    if found == keep then
      -- pcall: a key of another type (no record) answers GET with an error.
      for i = keep + 1, #others do drop(others[i], rks[i], redis.pcall('GET', rks[i])) end
    else
      local live = 1
      for first = 1, #others, 64 do
        local last = math.min(first + 63, #others)
        local vals = redis.call('MGET', unpack(rks, first, last))
        for i = first, last do
          local v = vals[i - first + 1]
          if mine(v) and live < limit then
            live = live + 1
          else
            drop(others[i], rks[i], v)
          end
        end
      end
    end
  end
  local function sorted()
    local list = {}
    for _, e in ipairs(newest(ARGV[3])) do list[#list + 1] = e[1] end
    return list
  end
  if redis.call('ZCARD', KEYS[2]) == n then
    walk(redis.call('ZRANGE', KEYS[2], 0, -1, 'REV'))
    -- Index entries the order set missed are still there (see above):
    -- walk the whole index, sorted.
    if redis.call('ZCARD', KEYS[1]) > limit then walk(sorted()) end
  else
    walk(sorted())
  end
end
expireAt()
return ended
`)

// redisIdxReplace is the index half of Replace where records and index may
// be on different servers (Cluster, Ring); the caller has already created
// the record. KEYS[1] index, KEYS[2] order; ARGV[1] now (ms), ARGV[2]
// horizon, ARGV[3] new store key, ARGV[4] "1", ARGV[5] old store key or "",
// ARGV[6] limit. It indexes the new key with the next creation order and
// drops the old key's entry; when the index then holds more than limit
// entries it returns the others, newest first, as member, horizon pairs,
// for the caller to check and end. Otherwise it returns an empty list.
var redisIdxReplace = redis.NewScript(redisIdxPrune + `
if ARGV[5] ~= '' then
  redis.call('ZREM', KEYS[1], ARGV[5])
  redis.call('ZREM', KEYS[2], ARGV[5])
end
prune(ARGV[1])
local n = add(ARGV[2], ARGV[3])
order(ARGV[3])
expireAt()
local limit = tonumber(ARGV[6])
local out = {}
if limit > 0 and n > limit then
  for _, e in ipairs(newest(ARGV[3])) do
    out[#out + 1] = e[1]
    out[#out + 1] = string.format('%d', e[2])
  end
end
return out
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
local v = redis.pcall('GET', KEYS[1]) -- a key of another type answers an error: no record
if type(v) ~= 'string' or #v < 41 or string.byte(v, 1) ~= 1 then return 0 end
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
local v = redis.pcall('GET', KEYS[1])
if not v then return 0 end
if type(v) ~= 'string' then return -1 end -- a key of another type
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
