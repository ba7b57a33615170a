package session_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionauth/session"
	"github.com/sessionauth/session/internal/redistest"
	"github.com/sessionauth/session/storetest"
)

// processCounter is a go-redis hook that counts the commands go-redis
// processes, the ones its client-side cache answers included.
type processCounter struct{ n atomic.Int64 }

func (p *processCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (p *processCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		p.n.Add(1)
		return next(ctx, cmd)
	}
}

func (p *processCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// TestRedisClientCacheReadSkipsTheCommandPath: once a record is in the
// client's cache, Get reads it from the cache itself, under go-redis's own
// cache key, without a go-redis command; a record the cache does not hold
// still goes through go-redis. It fails if a go-redis upgrade changes the
// cache key.
func TestRedisClientCacheReadSkipsTheCommandPath(t *testing.T) {
	t.Parallel()
	srv := redistest.New(t)
	forEachCache(t, func(t *testing.T, kind cacheKind) { testReadSkipsTheCommandPath(t, srv, kind) })
}

func testReadSkipsTheCommandPath(t *testing.T, srv *redistest.Server, kind cacheKind) {
	client, lc := cachedClient(t, srv, kind)
	pc := &processCounter{}
	client.AddHook(pc)
	s := session.NewRedisStore(client, session.RedisConfig{KeyPrefix: redistest.Prefix(), ClientSideCache: true})
	ctx := tctx(t)
	key := storetest.NewKey()
	rec := session.Record{UserID: "u", Expires: time.Now().Add(time.Hour), Data: []byte("data")}
	if err := s.Create(ctx, key, rec); err != nil {
		t.Fatal(err)
	}
	before := pc.n.Load()
	if _, err := s.Get(ctx, key); err != nil { // the miss that fills the cache
		t.Fatal(err)
	}
	if pc.n.Load() == before {
		t.Fatal("a read of a record not yet cached made no go-redis command")
	}
	hits, cmds := lc.Stats().Hits, pc.n.Load()
	for range 10 {
		got, err := s.Get(ctx, key)
		if err != nil || got.UserID != "u" || string(got.Data) != "data" || got.Expires.UnixMilli() != rec.Expires.UnixMilli() {
			t.Fatalf("Get = %+v, %v", got, err)
		}
	}
	if n := pc.n.Load() - cmds; n != 0 {
		t.Errorf("10 cached reads made %d go-redis commands, want 0", n)
	}
	if n := lc.Stats().Hits - hits; n != 10 {
		t.Errorf("cache hits = %d, want 10", n)
	}
	// A write drops the entry: the next read goes to Redis again and sees it.
	rec.Data = []byte("new")
	if err := s.Update(ctx, key, rec); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, key); err != nil || string(got.Data) != "new" {
		t.Fatalf("Get after Update = %+v, %v", got, err)
	}
}
