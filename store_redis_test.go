package session_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionauth/session"
	"github.com/sessionauth/session/internal/redistest"
	"github.com/sessionauth/session/storetest"
)

// rtCounter is a go-redis hook that counts round trips: one per command sent
// on its own and one per pipeline.
type rtCounter struct{ n atomic.Int64 }

func (c *rtCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *rtCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmd)
	}
}

func (c *rtCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmds)
	}
}

// count returns how many round trips fn made.
func (c *rtCounter) count(fn func()) int64 {
	before := c.n.Load()
	fn()
	return c.n.Load() - before
}

func tctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestRedisStoreConformance(t *testing.T) {
	t.Parallel()
	srv := redistest.New(t)
	client := srv.Client(t)
	storetest.Run(t, func(t *testing.T) session.Store {
		return session.NewRedisStore(client, session.WithRedisKeyPrefix(redistest.Prefix()))
	})
}

func TestRedisStoreConformanceCluster(t *testing.T) {
	t.Parallel()
	client := redistest.NewCluster(t).Client(t)
	storetest.Run(t, func(t *testing.T) session.Store {
		return session.NewRedisStore(client, session.WithRedisKeyPrefix(redistest.Prefix()))
	})
}

func TestRedisStoreConformanceRing(t *testing.T) {
	t.Parallel()
	a, b := redistest.New(t), redistest.New(t)
	if a.Addr == b.Addr {
		t.Skip("REDIS_URL set: a ring needs two servers")
	}
	ring := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": a.Addr, "b": b.Addr}})
	t.Cleanup(func() { ring.Close() })
	storetest.Run(t, func(t *testing.T) session.Store {
		return session.NewRedisStore(ring, session.WithRedisKeyPrefix(redistest.Prefix()))
	})
}

// TestS40_RedisRoundTrips counts the round trips of each Store operation.
func TestS40_RedisRoundTrips(t *testing.T) {
	t.Parallel()
	client := redistest.New(t).Client(t)
	hook := &rtCounter{}
	client.AddHook(hook)
	s := session.NewRedisStore(client, session.WithRedisKeyPrefix(redistest.Prefix()))
	ctx := tctx(t)
	key, anon := storetest.NewKey(), storetest.NewKey()
	exp := time.Now().Add(time.Hour)
	rec := session.Record{UserID: "rt-user", Expires: exp, Data: []byte("d")}

	// Warm the script cache: EVALSHA falls back to EVAL once per server.
	warm := storetest.NewKey()
	if err := s.Create(ctx, warm, rec); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, warm, rec); err != nil {
		t.Fatal(err)
	}

	ops := []struct {
		name string
		max  int64
		fn   func() error
	}{
		{"Create", 1, func() error { return s.Create(ctx, key, rec) }},
		{"CreateAnonymous", 1, func() error { return s.Create(ctx, anon, session.Record{Expires: exp}) }},
		{"Get", 1, func() error { _, err := s.Get(ctx, key); return err }},
		{"GetMissing", 1, func() error {
			if _, err := s.Get(ctx, storetest.NewKey()); !errors.Is(err, session.ErrNotFound) {
				return err
			}
			return nil
		}},
		{"Update", 1, func() error {
			return s.Update(ctx, key, session.Record{UserID: "rt-user", Expires: exp.Add(time.Minute), Data: []byte("e")})
		}},
		{"Touch", 1, func() error { return s.Touch(ctx, key, exp.Add(2*time.Minute)) }},
		{"TouchAnonymous", 1, func() error { return s.Touch(ctx, anon, exp.Add(100*time.Hour)) }},
		{"Delete", 1, func() error { return s.Delete(ctx, key) }},
		{"ListUser", 2, func() error { _, err := s.ListUser(ctx, "rt-nobody"); return err }},
	}
	for _, op := range ops {
		var err error
		n := hook.count(func() { err = op.fn() })
		if err != nil {
			t.Fatalf("%s: %v", op.name, err)
		}
		if n > op.max || n < 1 {
			t.Errorf("%s took %d round trips, want 1..%d", op.name, n, op.max)
		}
		t.Logf("%s: %d round trip(s)", op.name, n)
	}
}

// TestS40_RedisTouchPastIndexHorizon checks that extending a session beyond
// what its user index covers extends the index first (three round trips,
// rarely) and that the index then covers the record.
func TestS40_RedisTouchPastIndexHorizon(t *testing.T) {
	t.Parallel()
	client := redistest.New(t).Client(t)
	hook := &rtCounter{}
	client.AddHook(hook)
	prefix := redistest.Prefix()
	s := session.NewRedisStore(client, session.WithRedisKeyPrefix(prefix))
	ctx := tctx(t)
	user, key := "horizon-user", storetest.NewKey()
	if err := s.Create(ctx, key, session.Record{UserID: user, Expires: time.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	idx := prefix + "u:{" + user + "}"
	for _, d := range []time.Duration{90 * time.Second, 10 * time.Minute, 10 * time.Hour, 1000 * time.Hour} {
		exp := time.Now().Add(d)
		var err error
		n := hook.count(func() { err = s.Touch(ctx, key, exp) })
		if err != nil {
			t.Fatal(err)
		}
		if n != 1 && n != 3 && n != 4 { // 4: EVALSHA falling back to EVAL once
			t.Errorf("Touch to +%v took %d round trips", d, n)
		}
		recExp := client.PExpireTime(ctx, prefix+key).Val()
		idxExp := client.PExpireTime(ctx, idx).Val()
		score := client.ZScore(ctx, idx, key).Val()
		if recExp != time.Duration(exp.UnixMilli())*time.Millisecond {
			t.Errorf("record PEXPIRETIME %v, want %v", recExp, exp.UnixMilli())
		}
		if idxExp < recExp || time.Duration(score)*time.Millisecond < recExp {
			t.Errorf("index (expires %v, score %v) does not cover the record (expires %v)", idxExp, score, recExp)
		}
		got, err := s.Get(ctx, key)
		if err != nil || got.Expires.UnixMilli() != exp.UnixMilli() {
			t.Errorf("Get after Touch = %v, %v; want Expires %v", got.Expires, err, exp)
		}
	}
}

// TestS40_RedisTTLFollowsExpires checks the record's Redis TTL against its
// Expires through Create, Update and Touch.
func TestS40_RedisTTLFollowsExpires(t *testing.T) {
	t.Parallel()
	client := redistest.New(t).Client(t)
	prefix := redistest.Prefix()
	s := session.NewRedisStore(client, session.WithRedisKeyPrefix(prefix))
	ctx := tctx(t)
	key := storetest.NewKey()
	base := time.Now()
	steps := []struct {
		name string
		exp  time.Time
		fn   func(exp time.Time) error
	}{
		{"Create", base.Add(30 * time.Minute), func(exp time.Time) error {
			return s.Create(ctx, key, session.Record{UserID: "ttl", Expires: exp, Data: []byte("x")})
		}},
		{"Update", base.Add(45 * time.Minute), func(exp time.Time) error {
			return s.Update(ctx, key, session.Record{UserID: "ttl", Expires: exp, Data: []byte("y")})
		}},
		{"TouchShorter", base.Add(10 * time.Minute), func(exp time.Time) error { return s.Touch(ctx, key, exp) }},
		{"TouchLonger", base.Add(5 * time.Hour), func(exp time.Time) error { return s.Touch(ctx, key, exp) }},
	}
	for _, st := range steps {
		if err := st.fn(st.exp); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		at, err := client.PExpireTime(ctx, prefix+key).Result()
		if err != nil {
			t.Fatal(err)
		}
		if want := st.exp.UnixMilli(); at.Milliseconds() != want {
			t.Errorf("%s: PEXPIRETIME = %d, want %d", st.name, at.Milliseconds(), want)
		}
		pttl := client.PTTL(ctx, prefix+key).Val()
		if left := time.Until(st.exp); pttl <= 0 || pttl > left+time.Second {
			t.Errorf("%s: PTTL = %v, want about %v", st.name, pttl, left)
		}
	}
}

// TestS22_RedisIndexExpiresAndIsPruned checks that the user index has a TTL
// that covers its longest session, that entries of expired sessions are
// pruned when the index is next written, and that it disappears with them.
func TestS22_RedisIndexExpiresAndIsPruned(t *testing.T) {
	t.Parallel()
	client := redistest.New(t).Client(t)
	prefix := redistest.Prefix()
	s := session.NewRedisStore(client, session.WithRedisKeyPrefix(prefix))
	ctx := tctx(t)
	user := "prune-user"
	idx := prefix + "u:{" + user + "}"

	short, long := storetest.NewKey(), storetest.NewKey()
	if err := s.Create(ctx, short, session.Record{UserID: user, Expires: time.Now().Add(200 * time.Millisecond)}); err != nil {
		t.Fatal(err)
	}
	longExp := time.Now().Add(time.Hour)
	if err := s.Create(ctx, long, session.Record{UserID: user, Expires: longExp}); err != nil {
		t.Fatal(err)
	}
	pttl := client.PTTL(ctx, idx).Val()
	if pttl < time.Until(longExp) || pttl > 2*time.Hour+time.Second {
		t.Fatalf("index PTTL = %v, want between the longest session's TTL (%v) and twice it", pttl, time.Until(longExp))
	}
	if n := client.ZCard(ctx, idx).Val(); n != 2 {
		t.Fatalf("index has %d entries, want 2", n)
	}
	// After the short session's index horizon passes (at most twice its
	// lifetime), the next write prunes it.
	time.Sleep(600 * time.Millisecond)
	third := storetest.NewKey()
	if err := s.Create(ctx, third, session.Record{UserID: user, Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	members := client.ZRange(ctx, idx, 0, -1).Val()
	if len(members) != 2 || contains(members, short) {
		t.Fatalf("index after prune = %v, want only the two live keys", members)
	}
	// A deleted session's entry goes when the index is next read.
	if err := s.Delete(ctx, third); err != nil {
		t.Fatal(err)
	}
	if list, err := s.ListUser(ctx, user); err != nil || len(list) != 1 || list[0].Key != long {
		t.Fatalf("ListUser = %v, %v", list, err)
	}
	if members := client.ZRange(ctx, idx, 0, -1).Val(); len(members) != 1 || members[0] != long {
		t.Fatalf("index after ListUser = %v, want [%s]", members, long)
	}
	// The index expires with its sessions.
	tiny := "tiny-user"
	if err := s.Create(ctx, storetest.NewKey(), session.Record{UserID: tiny, Expires: time.Now().Add(100 * time.Millisecond)}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	if n := client.Exists(ctx, prefix+"u:{"+tiny+"}").Val(); n != 0 {
		t.Fatalf("index of a user whose sessions all expired still exists")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestS40_RedisKeyLayout checks the prefix, that store keys are stored as
// given (never the token), and that the index key carries the user's hash tag.
func TestS40_RedisKeyLayout(t *testing.T) {
	t.Parallel()
	client := redistest.New(t).Client(t)
	ctx := tctx(t)
	tests := []struct {
		name, prefix, want string
	}{
		{"default", "", "session:"},
		{"custom", "myapp:sess:", "myapp:sess:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var opts []session.RedisOption
			if tc.prefix != "" {
				opts = append(opts, session.WithRedisKeyPrefix(tc.prefix))
			}
			s := session.NewRedisStore(client, opts...)
			key := storetest.NewKey()
			user := "layout-" + key[:8]
			if err := s.Create(ctx, key, session.Record{UserID: user, Expires: time.Now().Add(time.Minute)}); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.DeleteUser(context.Background(), user) })
			if n := client.Exists(ctx, tc.want+key, tc.want+"u:{"+user+"}").Val(); n != 2 {
				t.Fatalf("expected keys %q and the index under prefix %q", tc.want+key, tc.want)
			}
		})
	}
}

// TestS37_RedisForeignValueIsNotFound checks that a value under our prefix
// that is not one of our records reads as not found and is never extended.
func TestS37_RedisForeignValueIsNotFound(t *testing.T) {
	t.Parallel()
	client := redistest.New(t).Client(t)
	prefix := redistest.Prefix()
	s := session.NewRedisStore(client, session.WithRedisKeyPrefix(prefix))
	ctx := tctx(t)
	for _, v := range []string{"", "garbage", "\x01zzzzzzzzzzzz", strings.Repeat("\x01", 60), "\x01" + strings.Repeat("0", 36) + "ffff"} {
		key := storetest.NewKey()
		client.Set(ctx, prefix+key, v, time.Minute)
		if _, err := s.Get(ctx, key); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("Get(%q) = %v, want ErrNotFound", v, err)
		}
		if err := s.Touch(ctx, key, time.Now().Add(time.Hour)); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("Touch(%q) = %v, want ErrNotFound", v, err)
		}
		if err := s.Update(ctx, key, session.Record{Expires: time.Now().Add(time.Hour)}); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("Update(%q) = %v, want ErrNotFound", v, err)
		}
	}
}

// TestS36_RedisStoreDownAndBack kills the server under a live client: every
// operation fails with an error that is not ErrNotFound; after a restart on
// the same port the same client works again, and with persistence on the
// session written before the crash is readable.
func TestS36_RedisStoreDownAndBack(t *testing.T) {
	t.Parallel()
	srv := redistest.New(t, "--appendonly", "yes", "--appendfsync", "always")
	if !srv.Owned() {
		t.Skip("REDIS_URL set: cannot kill that server")
	}
	opts := srv.Options()
	opts.MaxRetries = 1
	client := redis.NewClient(opts)
	t.Cleanup(func() { client.Close() })
	s := session.NewRedisStore(client, session.WithRedisKeyPrefix(redistest.Prefix()))
	ctx := tctx(t)
	key, user := storetest.NewKey(), "down-user"
	rec := session.Record{UserID: user, Expires: time.Now().Add(time.Hour), Data: []byte("kept")}
	if err := s.Create(ctx, key, rec); err != nil {
		t.Fatal(err)
	}

	srv.Kill(t)
	ops := map[string]func() error{
		"Get":        func() error { _, err := s.Get(ctx, key); return err },
		"Create":     func() error { return s.Create(ctx, storetest.NewKey(), rec) },
		"Update":     func() error { return s.Update(ctx, key, rec) },
		"Touch":      func() error { return s.Touch(ctx, key, time.Now().Add(time.Hour)) },
		"Delete":     func() error { return s.Delete(ctx, storetest.NewKey()) },
		"ListUser":   func() error { _, err := s.ListUser(ctx, user); return err },
		"DeleteUser": func() error { return s.DeleteUser(ctx, "nobody") },
	}
	for name, op := range ops {
		err := op()
		if err == nil || errors.Is(err, session.ErrNotFound) || errors.Is(err, session.ErrExists) {
			t.Errorf("%s with the server down = %v, want a connection error", name, err)
		}
		var nerr net.Error
		if !errors.As(err, &nerr) && !strings.Contains(err.Error(), "connect") {
			t.Logf("%s error: %v", name, err)
		}
	}

	srv.Restart(t)
	got, err := s.Get(ctx, key)
	if err != nil || !bytes.Equal(got.Data, rec.Data) {
		t.Fatalf("Get after restart = %+v, %v; want the persisted record", got, err)
	}
	if err := s.Touch(ctx, key, time.Now().Add(2*time.Hour)); err != nil {
		t.Fatalf("Touch after restart: %v", err)
	}
	if list, err := s.ListUser(ctx, user); err != nil || len(list) != 1 {
		t.Fatalf("ListUser after restart = %v, %v", list, err)
	}
}

// TestS36_RedisStoreUnresponsive points a client at a server that accepts and
// never answers: every operation returns the context's deadline error (not
// ErrNotFound) instead of hanging.
func TestS36_RedisStoreUnresponsive(t *testing.T) {
	t.Parallel()
	addr := redistest.Unresponsive(t)
	tests := []struct {
		name string
		opts redis.Options
	}{
		// The context's deadline cuts the wait.
		{"ContextTimeout", redis.Options{ContextTimeoutEnabled: true, ReadTimeout: time.Minute, WriteTimeout: time.Minute, DialTimeout: time.Minute}},
		// Without ContextTimeoutEnabled the client's ReadTimeout does.
		{"ReadTimeout", redis.Options{ReadTimeout: 100 * time.Millisecond, MaxRetries: -1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts := tc.opts
			opts.Addr = addr
			opts.Protocol = 2
			client := redis.NewClient(&opts)
			t.Cleanup(func() { client.Close() })
			s := session.NewRedisStore(client)
			ops := map[string]func(ctx context.Context) error{
				"Get": func(ctx context.Context) error { _, err := s.Get(ctx, storetest.NewKey()); return err },
				"Create": func(ctx context.Context) error {
					return s.Create(ctx, storetest.NewKey(), session.Record{UserID: "u", Expires: time.Now().Add(time.Hour)})
				},
				"Touch":    func(ctx context.Context) error { return s.Touch(ctx, storetest.NewKey(), time.Now().Add(time.Hour)) },
				"Delete":   func(ctx context.Context) error { return s.Delete(ctx, storetest.NewKey()) },
				"ListUser": func(ctx context.Context) error { _, err := s.ListUser(ctx, "u"); return err },
			}
			for name, op := range ops {
				ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
				err := op(ctx)
				cancel()
				if err == nil || errors.Is(err, session.ErrNotFound) {
					t.Errorf("%s = %v, want a timeout error", name, err)
					continue
				}
				var nerr net.Error
				timeout := errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &nerr) && nerr.Timeout())
				if !timeout {
					t.Errorf("%s = %v, want a deadline or timeout error", name, err)
				}
			}
		})
	}
}

// TestS35_RedisUpdateKeepsOwner checks that Update keeps the stored user ID
// even when the caller passes another one.
func TestS35_RedisUpdateKeepsOwner(t *testing.T) {
	t.Parallel()
	client := redistest.New(t).Client(t)
	s := session.NewRedisStore(client, session.WithRedisKeyPrefix(redistest.Prefix()))
	ctx := tctx(t)
	key := storetest.NewKey()
	if err := s.Create(ctx, key, session.Record{UserID: "owner", Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	for _, uid := range []string{"", "mallory"} {
		if err := s.Update(ctx, key, session.Record{UserID: uid, Expires: time.Now().Add(time.Hour), Data: []byte(uid)}); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Get(ctx, key); err != nil || got.UserID != "owner" || string(got.Data) != uid {
			t.Fatalf("after Update with UserID %q: %+v, %v", uid, got, err)
		}
	}
	if err := s.DeleteUser(ctx, "mallory"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, key); err != nil {
		t.Fatalf("DeleteUser of another user removed the record: %v", err)
	}
}
