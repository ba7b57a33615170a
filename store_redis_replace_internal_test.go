package session

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionauth/session/internal/redistest"
)

// Index and order diverged (the index key was evicted while the order key
// was not, then sessions re-entered the index through an extension, which
// adds no order): a legacy entry L (no order) is in the index, an orphan B
// is in the order set only, so the two sets have the same size. Replace
// must still walk every index entry: L, with no order, is the oldest and
// ends first.
func TestRedisReplaceCountsIndexEntriesWithoutAnOrder(t *testing.T) {
	srv := redistest.New(t)
	c := srv.Client(t)
	p := redistest.Prefix()
	s := NewRedisStore(c, RedisConfig{KeyPrefix: p})
	ctx := context.Background()
	now := time.Now().UnixMilli()
	exp := now + int64(time.Hour/time.Millisecond)
	k := func(i int) string { return fmt.Sprintf("%064x", i) }
	ik := s.indexKeys("u")
	for _, i := range []int{1, 2, 3} { // L=1, A=2, B=3
		c.Set(ctx, s.recordKey(k(i)), encodeRedisRecord(exp, exp, now, "u", nil), time.Hour)
	}
	c.ZAdd(ctx, ik[0], redisZ(exp, k(1)), redisZ(exp, k(2))) // index: L, A
	c.ZAdd(ctx, ik[1], redisZ(1, k(2)), redisZ(2, k(3)))     // order: A, B
	if err := s.Replace(ctx, "", k(4), Record{UserID: "u", Expires: time.UnixMilli(exp)}, 2); err != nil {
		t.Fatal(err)
	}
	alive := func(i int) bool {
		n, err := c.Exists(ctx, s.recordKey(k(i))).Result()
		if err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	// The index holds L, A and the new session; the newest two of them
	// stay. B, in the order set only, is no index entry: the walk cannot
	// count it (and a walk of the order set alone would have counted B and
	// ended A, keeping L for ever).
	if alive(1) {
		t.Error("the legacy entry (no order, so the oldest) was kept past the limit")
	}
	if !alive(2) || !alive(4) {
		t.Errorf("A live %v, new session live %v: want both kept", alive(2), alive(4))
	}
}

func redisZ(score int64, m string) redis.Z { return redis.Z{Score: float64(score), Member: m} }
