package session

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionauth/session/internal/redistest"
)

// The index key is lost while its order set stays (it expired a moment
// before the order key, or was deleted from outside), then sessions come
// back into the index through an extension, which gives no order. The
// first entry of the new index starts a new order set, so the orders left
// from before (A's and B's) name nothing; the re-indexed entries, with no
// order, count as older than every login after, and a login past the cap
// ends the oldest of them. Without the new order set, the old orders of
// B (no longer indexed) and A made the two sets the same size, the walk
// went by the order set, counted B and ended A, and L stayed for ever.
func TestRedisReplaceCountsIndexEntriesWithoutAnOrder(t *testing.T) {
	srv := redistest.New(t)
	c := srv.Client(t)
	p := redistest.Prefix()
	s := NewRedisStore(c, RedisConfig{KeyPrefix: p})
	ctx := context.Background()
	now := time.Now()
	exp := now.Add(time.Hour)
	k := func(i int) string { return fmt.Sprintf("%064x", i) }
	ik := s.indexKeys("u")
	for _, i := range []int{2, 3} { // A=2, B=3: indexed and ordered
		if err := s.Create(ctx, k(i), Record{UserID: "u", Expires: exp}); err != nil {
			t.Fatal(err)
		}
	}
	c.Set(ctx, s.recordKey(k(1)), encodeRedisRecord(exp.UnixMilli(), exp.UnixMilli(), now.UnixMilli(), "u", nil), time.Hour) // L=1
	// The index is lost.
	if err := c.Del(ctx, ik[0]).Err(); err != nil {
		t.Fatal(err)
	}
	// L, then A, are extended past what the (lost) index covered: each
	// comes back into the index with no order, L with the lower horizon.
	for _, e := range []struct {
		i int
		h time.Duration
	}{{1, 2 * time.Hour}, {2, 3 * time.Hour}} {
		h := now.Add(e.h).UnixMilli()
		if err := redisIdxAdd.Run(ctx, c, ik, now.UnixMilli(), h, k(e.i), "0").Err(); err != nil {
			t.Fatal(err)
		}
	}
	if n := c.ZCard(ctx, ik[1]).Val(); n != 0 {
		t.Fatalf("the order set keeps %d orders from before the index was lost; want none", n)
	}
	if err := s.Replace(ctx, "", k(4), Record{UserID: "u", Expires: exp}, 2); err != nil {
		t.Fatal(err)
	}
	alive := func(i int) bool { return redisRecordExists(t, c, s, k(i)) }
	if alive(1) {
		t.Error("the oldest re-indexed entry (no order, lowest horizon) was kept past the limit")
	}
	if !alive(2) || !alive(4) {
		t.Errorf("A live %v, new session live %v: want both kept", alive(2), alive(4))
	}
	if !alive(3) {
		t.Error("B, no longer indexed, was deleted by a walk that should not see it")
	}
}

// redisRecordExists reports whether s holds a record under key.
func redisRecordExists(t *testing.T, c *redis.Client, s *RedisStore, key string) bool {
	t.Helper()
	n, err := c.Exists(context.Background(), s.recordKey(key)).Result()
	if err != nil {
		t.Fatal(err)
	}
	return n == 1
}

func redisZ(score int64, m string) redis.Z { return redis.Z{Score: float64(score), Member: m} }

// A login past the cap on one server keeps the user's newest live
// sessions, up to the limit with the new one, whatever the index says: an
// entry whose record is gone is not counted, a record of another user's is
// never deleted, and entries past the kept ones leave the index. When every
// entry within the limit has its record, the walk reads none of them (one
// EXISTS per 64): an entry holding another user's record there then counts
// as one of the user's sessions, so the user keeps one fewer. Only a store
// used against its contract gets there (a record's user never changes and
// keys are random), and the entry leaves the index once it is past the
// limit. A key of another type than a string there (no record at all)
// counts the same way; past the limit it is read as no record, never as an
// error.
func TestRedisReplaceAtTheCapEndsTheOldestLiveSessions(t *testing.T) {
	srv := redistest.New(t)
	c := srv.Client(t)
	ctx := context.Background()
	const newKey = 1000
	span := func(from, to int) []int {
		var s []int
		for i := from; i <= to; i++ {
			s = append(s, i)
		}
		return s
	}
	tests := []struct {
		name     string
		sessions int // the user's sessions 1..sessions, in creation order
		limit    int
		gone     []int       // entries whose record was deleted
		foreign  map[int]int // entry → it holds another user's record
		hash     []int       // entries whose key holds a hash, no record
		kept     []int       // the user's records that must stay (besides the new one)
		ended    []int       // the user's records that must be gone
		indexed  []int       // entries the index keeps besides kept and the new one
	}{
		{name: "every record there", sessions: 5, limit: 3, kept: []int{4, 5}, ended: []int{1, 2, 3}},
		{name: "a newest record gone", sessions: 5, limit: 3, gone: []int{5}, kept: []int{3, 4}, ended: []int{1, 2}},
		{name: "an old record gone", sessions: 5, limit: 3, gone: []int{2}, kept: []int{4, 5}, ended: []int{1, 3}},
		{name: "another user's record past the limit", sessions: 5, limit: 3, foreign: map[int]int{2: 1}, kept: []int{4, 5}, ended: []int{1, 3}},
		{name: "another user's record within the limit", sessions: 5, limit: 3, foreign: map[int]int{5: 1}, kept: []int{4}, ended: []int{1, 2, 3}, indexed: []int{5}},
		{name: "another user's record within the limit, a record gone", sessions: 5, limit: 3, gone: []int{4}, foreign: map[int]int{5: 1}, kept: []int{2, 3}, ended: []int{1}},
		{name: "a key of another type past the limit", sessions: 5, limit: 3, hash: []int{2}, kept: []int{4, 5}, ended: []int{1, 3}},
		{name: "a key of another type within the limit", sessions: 5, limit: 3, hash: []int{5}, kept: []int{4}, ended: []int{1, 2, 3}, indexed: []int{5}},
		{name: "a limit of one", sessions: 3, limit: 1, ended: []int{1, 2, 3}},
		{name: "more than 64 within the limit", sessions: 150, limit: 100, kept: span(52, 150), ended: span(1, 51)},
		{name: "more than 64 within the limit, a record gone", sessions: 150, limit: 100, gone: []int{140}, kept: append(span(51, 139), span(141, 150)...), ended: span(1, 50)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewRedisStore(c, RedisConfig{KeyPrefix: redistest.Prefix()})
			now := time.Now().UnixMilli()
			exp := now + int64(time.Hour/time.Millisecond)
			k := func(i int) string { return fmt.Sprintf("%064x", i) }
			ik := s.indexKeys("u")
			for i := 1; i <= tt.sessions; i++ {
				user := "u"
				if _, ok := tt.foreign[i]; ok {
					user = "someone-else"
				}
				c.Set(ctx, s.recordKey(k(i)), encodeRedisRecord(exp, exp, now, user, nil), time.Hour)
				c.ZAdd(ctx, ik[0], redisZ(exp, k(i)))
				c.ZAdd(ctx, ik[1], redisZ(int64(i), k(i)))
			}
			for _, i := range tt.gone {
				c.Del(ctx, s.recordKey(k(i)))
			}
			for _, i := range tt.hash {
				c.Del(ctx, s.recordKey(k(i)))
				c.HSet(ctx, s.recordKey(k(i)), "f", "v")
			}
			if err := s.Replace(ctx, "", k(newKey), Record{UserID: "u", Expires: time.UnixMilli(exp)}, tt.limit); err != nil {
				t.Fatal(err)
			}
			exists := func(i int) bool { return redisRecordExists(t, c, s, k(i)) }
			for _, i := range append(tt.kept, newKey) {
				if !exists(i) {
					t.Errorf("session %d ended; want it kept", i)
				}
			}
			for _, i := range tt.ended {
				if exists(i) {
					t.Errorf("session %d kept; want it ended (at most %d live)", i, tt.limit)
				}
			}
			for i := range tt.foreign {
				if !exists(i) {
					t.Errorf("another user's record under entry %d was deleted", i)
				}
			}
			members, err := c.ZRange(ctx, ik[0], 0, -1).Result()
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]bool{k(newKey): true}
			for _, i := range append(tt.kept, tt.indexed...) {
				want[k(i)] = true
			}
			if len(members) != len(want) {
				t.Errorf("index holds %d entries, want %d", len(members), len(want))
			}
			for _, m := range members {
				if !want[m] {
					t.Errorf("index keeps entry %s, which is no kept session", m[60:])
				}
			}
		})
	}
}

// A key of another type than a string under a session's record key holds
// no record: on the way to the cap (one server, or records spread over a
// Cluster's slots) and in ListUser it reads as gone. Its WRONGTYPE error
// failed every later login of the user (with the new session already
// created and the cap not applied) and the devices list.
func TestRedisKeysOfAnotherTypeReadAsGone(t *testing.T) {
	srv := redistest.New(t)
	c := srv.Client(t)
	ctx := context.Background()
	for _, spread := range []bool{false, true} {
		t.Run(fmt.Sprintf("spread=%v", spread), func(t *testing.T) {
			s := NewRedisStore(c, RedisConfig{KeyPrefix: redistest.Prefix()})
			s.ordered = !spread
			exp := time.Now().Add(time.Hour)
			k := func(i int) string { return fmt.Sprintf("%064x", i) }
			const limit = 3
			for i := 1; i <= 5; i++ {
				if err := s.Replace(ctx, "", k(i), Record{UserID: "u", Expires: exp}, 0); err != nil {
					t.Fatal(err)
				}
			}
			c.Del(ctx, s.recordKey(k(3)))
			c.HSet(ctx, s.recordKey(k(3)), "f", "v")
			for i := 6; i <= 8; i++ {
				if err := s.Replace(ctx, "", k(i), Record{UserID: "u", Expires: exp}, limit); err != nil {
					t.Fatalf("login %d at the cap with a hash among the records: %v", i, err)
				}
			}
			list, err := s.ListUser(ctx, "u")
			if err != nil {
				t.Fatalf("ListUser with a hash among the records: %v", err)
			}
			if len(list) > limit {
				t.Errorf("%d live sessions listed after logins at a cap of %d", len(list), limit)
			}
			live := 0
			for i := 1; i <= 8; i++ {
				if i != 3 && redisRecordExists(t, c, s, k(i)) {
					live++
				}
			}
			if live > limit {
				t.Errorf("%d live sessions after logins at a cap of %d", live, limit)
			}
			if typ, _ := c.Type(ctx, s.recordKey(k(3))).Result(); typ != "hash" {
				t.Errorf("the hash under a record key is now %q; the store deletes only its own records", typ)
			}
		})
	}
}

// A user's index key holding another type than a sorted set (written from
// outside) is not an index: logins, the devices list and LogoutAll of that
// user work, as with a lost index, and none fails with WRONGTYPE (which
// would also count against the store guard's breaker).
func TestRedisIndexKeysOfAnotherTypeAreReplaced(t *testing.T) {
	srv := redistest.New(t)
	c := srv.Client(t)
	ctx := context.Background()
	for _, spread := range []bool{false, true} {
		for i, which := range []string{"index", "order"} {
			t.Run(fmt.Sprintf("%s,spread=%v", which, spread), func(t *testing.T) {
				s := NewRedisStore(c, RedisConfig{KeyPrefix: redistest.Prefix()})
				s.ordered = !spread
				exp := time.Now().Add(time.Hour)
				if err := c.Set(ctx, s.indexKeys("u")[i], "garbage", 0).Err(); err != nil {
					t.Fatal(err)
				}
				for n := 1; n <= 3; n++ {
					if err := s.Replace(ctx, "", fmt.Sprintf("%064x", n), Record{UserID: "u", Expires: exp}, 2); err != nil {
						t.Fatalf("login %d: %v", n, err)
					}
				}
				list, err := s.ListUser(ctx, "u")
				if err != nil || len(list) != 2 {
					t.Fatalf("ListUser: %d sessions, %v; want the 2 a cap of 2 keeps", len(list), err)
				}
				if err := s.DeleteUser(ctx, "u"); err != nil {
					t.Fatalf("DeleteUser: %v", err)
				}
				if list, err := s.ListUser(ctx, "u"); err != nil || len(list) != 0 {
					t.Fatalf("after DeleteUser: %d sessions, %v", len(list), err)
				}
			})
		}
	}
}

// v01IdxAdd and v01IdxRemove are the user-index scripts of v0.1, which
// knew no order set: they change the index only.
var v01IdxAdd = redis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
redis.call('ZADD', KEYS[1], 'GT', ARGV[2], ARGV[3])
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], top[2])
return redis.call('ZCARD', KEYS[1])
`)

var v01IdxRemove = redis.NewScript(`
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

// During a rolling upgrade an instance of v0.1 shares the Redis: it drops
// a logged-out session's entry from the index only, and indexes its own
// logins with no order. The order set then names an entry the index lacks
// (a) and holds as many entries as the index, one of which (d) it does not
// name. A login past the cap must still end d, the oldest (no order), and
// keep the limit.
func TestRedisReplaceAtTheCapBesideAnInstanceOfV01(t *testing.T) {
	srv := redistest.New(t)
	c := srv.Client(t)
	s := NewRedisStore(c, RedisConfig{KeyPrefix: redistest.Prefix()})
	ctx := context.Background()
	now := time.Now()
	exp := now.Add(time.Hour)
	k := func(i int) string { return fmt.Sprintf("%064x", i) }
	ik := s.indexKeys("u")
	for _, i := range []int{1, 2, 3} { // a, b, c, through this version
		if err := s.Create(ctx, k(i), Record{UserID: "u", Expires: exp}); err != nil {
			t.Fatal(err)
		}
	}
	// a logs out; v0.1's ListUser then finds its record gone and drops its
	// index entry (not its order).
	if err := s.Delete(ctx, k(1)); err != nil {
		t.Fatal(err)
	}
	if err := v01IdxRemove.Run(ctx, c, ik[:1], k(1), c.ZScore(ctx, ik[0], k(1)).Val()).Err(); err != nil {
		t.Fatal(err)
	}
	// d logs in through v0.1: its record, then its index entry.
	nm, em := now.UnixMilli(), exp.UnixMilli()
	c.Set(ctx, s.recordKey(k(4)), encodeRedisRecord(em, redisHorizon(nm, em), nm, "u", nil), time.Hour)
	if err := v01IdxAdd.Run(ctx, c, ik[:1], nm, redisHorizon(nm, em), k(4)).Err(); err != nil {
		t.Fatal(err)
	}
	if ni, no := c.ZCard(ctx, ik[0]).Val(), c.ZCard(ctx, ik[1]).Val(); ni != 3 || no != 3 {
		t.Fatalf("index %d entries, order set %d; the case needs 3 and 3", ni, no)
	}
	// e logs in through this version, with a limit of 3.
	if err := s.Replace(ctx, "", k(5), Record{UserID: "u", Expires: exp}, 3); err != nil {
		t.Fatal(err)
	}
	for i, want := range map[int]bool{2: true, 3: true, 4: false, 5: true} {
		if got := redisRecordExists(t, c, s, k(i)); got != want {
			t.Errorf("session %d live %v, want %v (b, c and e kept; d, with no order, ended)", i, got, want)
		}
	}
	if n := c.ZCard(ctx, ik[0]).Val(); n != 3 {
		t.Errorf("the index holds %d entries after the login, want 3", n)
	}
}
