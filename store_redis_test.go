package session_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionauth/session"
	"github.com/sessionauth/session/internal/redistest"
	"github.com/sessionauth/session/storetest"
)

// rtCounter is a go-redis hook that counts round trips: one per command sent
// on its own and one per pipeline. The handshake go-redis runs on each new
// connection (HELLO, CLIENT SETINFO, AUTH, SELECT) belongs to the connection,
// not to an operation, and is not counted.
type rtCounter struct{ n atomic.Int64 }

func connSetup(cmd redis.Cmder) bool {
	switch cmd.Name() {
	case "hello", "client", "auth", "select":
		return true
	}
	return false
}

func (c *rtCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *rtCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if !connSetup(cmd) {
			c.n.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (c *rtCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, cmd := range cmds {
			if !connSetup(cmd) {
				c.n.Add(1)
				break
			}
		}
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
		return session.NewRedisStore(client, session.RedisConfig{KeyPrefix: redistest.Prefix()})
	})
}

func TestRedisStoreConformanceCluster(t *testing.T) {
	t.Parallel()
	client := redistest.NewCluster(t).Client(t)
	storetest.Run(t, func(t *testing.T) session.Store {
		return session.NewRedisStore(client, session.RedisConfig{KeyPrefix: redistest.Prefix()})
	})
}

func TestRedisStoreConformanceRing(t *testing.T) {
	t.Parallel()
	ring, _, _ := redistest.NewRing(t)
	storetest.Run(t, func(t *testing.T) session.Store {
		return session.NewRedisStore(ring, session.RedisConfig{KeyPrefix: redistest.Prefix()})
	})
}

// A Ring with go-redis's default heartbeat sends a down shard's keys to the
// other shards; NewRedisStore refuses it, naming the option that fixes it.
func TestNewRedisStoreRefusesARingThatMovesKeysOffADownShard(t *testing.T) {
	t.Parallel()
	ring := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:1", "b": "127.0.0.1:2"}})
	defer ring.Close()
	defer func() {
		if got := fmt.Sprint(recover()); !strings.Contains(got, "HeartbeatFn") {
			t.Fatalf("NewRedisStore on a default Ring: panic %q, want one naming HeartbeatFn", got)
		}
	}()
	session.NewRedisStore(ring)
}

// A nil client is refused at once, by name, rather than at the first
// request with a nil pointer dereference.
func TestNewRedisStoreRefusesANilClient(t *testing.T) {
	t.Parallel()
	defer func() {
		if got := fmt.Sprint(recover()); !strings.Contains(got, "client is nil") {
			t.Fatalf("panic %q, want one saying the client is nil", got)
		}
	}()
	session.NewRedisStore((*redis.Client)(nil))
}

// On a Ring that keeps its shards (the HeartbeatFn NewRedisStore asks
// for), a shard going down is an outage for its sessions only: a signed-in
// user of that shard gets 503, never 401 and an expired cookie, while the
// other shard's users are served (the store guard keeps a breaker per
// shard), and a Logout of such a session reports the store unavailable
// rather than succeeding on another shard and leaving the session to come
// back. Manager.Ping (a readiness probe) answers as long as a shard does,
// every time, not by the shard a PING happens to reach.
func TestRedisRingShardOutageIsAnOutageNotASignOut(t *testing.T) {
	t.Parallel()
	ring, _, b := redistest.NewRing(t)
	keys, err := session.NewKeyRing(session.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	m, err := session.New(session.Config{Store: session.NewRedisStore(ring, session.RedisConfig{KeyPrefix: redistest.Prefix()}),
		Keys: keys, Cookie: session.CookieOptions{Name: "sid", DisableSecure: true}})
	if err != nil {
		t.Fatal(err)
	}
	var logoutErrs sync.Map // user → Logout's error
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if err := m.Login(w, r, r.URL.Query().Get("u")); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
		}
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		logoutErrs.Store(r.URL.Query().Get("u"), m.Logout(w, r))
	})
	mux.Handle("GET /me", m.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(session.FromContext(r.Context()).UserID()))
	})))
	h := m.Middleware(mux)
	do := func(method, path, cookie string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, path, nil)
		if cookie != "" {
			r.AddCookie(&http.Cookie{Name: "sid", Value: cookie})
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	cookies := map[string]string{}
	for i := range 16 {
		u := fmt.Sprint("u", i)
		w := do("POST", "/login?u="+u, "")
		if w.Code != http.StatusOK || len(w.Result().Cookies()) == 0 {
			t.Fatalf("login %s: %d %s", u, w.Code, w.Body)
		}
		cookies[u] = w.Result().Cookies()[0].Value
	}
	b.Kill(t)
	time.Sleep(time.Second) // twenty heartbeats: the default one would have moved b's keys by now
	for i := range 20 {
		if err := m.Ping(tctx(t)); err != nil {
			t.Fatalf("Ping %d with one shard of two down: %v", i, err)
		}
	}
	served, outage := 0, 0
	for u, c := range cookies {
		w := do("GET", "/me", c)
		switch {
		case w.Code == http.StatusServiceUnavailable: // on the down shard
			outage++
			do("POST", "/logout?u="+u, c)
			v, _ := logoutErrs.Load(u)
			if err, _ := v.(error); !errors.Is(err, session.ErrStoreUnavailable) {
				t.Errorf("Logout of %s, on the down shard: %v, want ErrStoreUnavailable", u, err)
			}
		case w.Code == http.StatusOK && w.Body.String() == u:
			served++
		default:
			t.Errorf("%s during b's outage: %d %q, want 200 %s or 503", u, w.Code, w.Body, u)
		}
		for _, sc := range w.Result().Cookies() {
			if sc.Name == "sid" && sc.MaxAge < 0 {
				t.Errorf("%s during b's outage: its cookie was expired", u)
			}
		}
	}
	if outage == 0 || served == 0 {
		t.Fatalf("%d sessions served, %d answered as an outage: want some of each (one shard of two is down)", served, outage)
	}
}

// TestS40_RedisRoundTrips counts the round trips of each Store operation.
func TestS40_RedisRoundTrips(t *testing.T) {
	t.Parallel()
	client := redistest.New(t).Client(t)
	hook := &rtCounter{}
	client.AddHook(hook)
	s := session.NewRedisStore(client, session.RedisConfig{KeyPrefix: redistest.Prefix()})
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
	s := session.NewRedisStore(client, session.RedisConfig{KeyPrefix: prefix})
	ctx := tctx(t)
	user, key, warm := "horizon-user", storetest.NewKey(), storetest.NewKey()
	for _, k := range []string{key, warm} {
		if err := s.Create(ctx, k, session.Record{UserID: user, Expires: time.Now().Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	// Load both scripts of the extension path into the server's cache.
	if err := s.Touch(ctx, warm, time.Now().Add(time.Hour)); err != nil {
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
		if n != 1 && n != 3 {
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
	s := session.NewRedisStore(client, session.RedisConfig{KeyPrefix: prefix})
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
	s := session.NewRedisStore(client, session.RedisConfig{KeyPrefix: prefix})
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
	// After the short session's index horizon passes (twice its lifetime
	// from its creation, so before 400 ms from now), the next write prunes
	// it. The sleep is computed, not a margin: any delay only adds to it.
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
	if n := client.Exists(ctx, prefix+"u:{"+tiny+"}", prefix+"o:{"+tiny+"}").Val(); n != 0 {
		t.Fatalf("index of a user whose sessions all expired still exists (%d of its 2 keys)", n)
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
			s := session.NewRedisStore(client, session.RedisConfig{KeyPrefix: tc.prefix})
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
	s := session.NewRedisStore(client, session.RedisConfig{KeyPrefix: prefix})
	ctx := tctx(t)
	// Strings that are no record of this store, and keys of another type,
	// which answer GET with a WRONGTYPE error: that is no record either,
	// not a failing store (which would answer 503 and count towards the
	// breaker that suspends every user's store calls).
	values := map[string]func(key string) error{
		"hash": func(k string) error { return client.HSet(ctx, k, "f", "v").Err() },
		"list": func(k string) error { return client.RPush(ctx, k, "v").Err() },
		"set":  func(k string) error { return client.SAdd(ctx, k, "v").Err() },
	}
	for _, v := range []string{"", "garbage", "\x01zzzzzzzzzzzz", strings.Repeat("\x01", 60), "\x01" + strings.Repeat("0", 36) + "ffff"} {
		values[fmt.Sprintf("string %q", v)] = func(k string) error { return client.Set(ctx, k, v, 0).Err() }
	}
	for what, write := range values {
		key := storetest.NewKey()
		if err := write(prefix + key); err != nil {
			t.Fatal(err)
		}
		client.Expire(ctx, prefix+key, time.Minute)
		if _, err := s.Get(ctx, key); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("Get of a %s = %v, want ErrNotFound", what, err)
		}
		if err := s.Touch(ctx, key, time.Now().Add(time.Hour)); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("Touch of a %s = %v, want ErrNotFound", what, err)
		}
		if err := s.Update(ctx, key, session.Record{Expires: time.Now().Add(time.Hour)}); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("Update of a %s = %v, want ErrNotFound", what, err)
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
	s := session.NewRedisStore(client, session.RedisConfig{KeyPrefix: redistest.Prefix()})
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
	s := session.NewRedisStore(client, session.RedisConfig{KeyPrefix: redistest.Prefix()})
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

// TestS13_RedisReplaceOneRoundTrip checks the login fast path on one
// server: the old record is deleted and the new one created and indexed in
// one round trip, and past the cap the oldest sessions end in that same
// round trip.
func TestS13_RedisReplaceOneRoundTrip(t *testing.T) {
	t.Parallel()
	client := redistest.New(t).Client(t)
	hook := &rtCounter{}
	client.AddHook(hook)
	s := session.NewRedisStore(client, session.RedisConfig{KeyPrefix: redistest.Prefix()})
	ctx := tctx(t)
	old, next, user := storetest.NewKey(), storetest.NewKey(), "replace-user"
	if err := s.Create(ctx, old, session.Record{Expires: time.Now().Add(time.Hour), Data: []byte("anon")}); err != nil {
		t.Fatal(err)
	}
	var err error
	n := hook.count(func() {
		err = s.Replace(ctx, old, next, session.Record{UserID: user, Expires: time.Now().Add(time.Hour), Data: []byte("in")}, 2)
	})
	if err != nil || n != 1 {
		t.Fatalf("Replace = %v in %d round trips, want nil in 1", err, n)
	}
	if _, err := s.Get(ctx, old); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("old record still there: %v", err)
	}
	if list, err := s.ListUser(ctx, user); err != nil || len(list) != 1 || list[0].Key != next || string(list[0].Data) != "in" {
		t.Fatalf("ListUser after Replace = %+v, %v", list, err)
	}
	keys := []string{next}
	for i := range 3 {
		k := storetest.NewKey()
		n := hook.count(func() {
			err = s.Replace(ctx, "", k, session.Record{UserID: user, Expires: time.Now().Add(time.Hour)}, 2)
		})
		if err != nil || n != 1 {
			t.Fatalf("Replace %d with limit 2 = %v in %d round trips, want nil in 1", i, err, n)
		}
		keys = append(keys, k)
	}
	list, err := s.ListUser(ctx, user)
	if err != nil || len(list) != 2 {
		t.Fatalf("ListUser after 4 logins with limit 2 = %d entries, %v; want 2", len(list), err)
	}
	for _, k := range keys[:2] {
		if _, err := s.Get(ctx, k); !errors.Is(err, session.ErrNotFound) {
			t.Fatalf("a session past the cap is still live: %v", err)
		}
	}
	if err := s.Replace(ctx, "", keys[3], session.Record{Expires: time.Now().Add(time.Hour)}, 2); !errors.Is(err, session.ErrExists) {
		t.Fatalf("Replace onto a live key = %v, want ErrExists", err)
	}
}

// TestRedisReplaceOrdersOldIndexEntriesFirst checks that sessions indexed
// before the store kept a creation order (an index with no order set) are
// still listed, and are the first a login past the cap ends.
func TestRedisReplaceOrdersOldIndexEntriesFirst(t *testing.T) {
	t.Parallel()
	client := redistest.New(t).Client(t)
	prefix := redistest.Prefix()
	s := session.NewRedisStore(client, session.RedisConfig{KeyPrefix: prefix})
	ctx := tctx(t)
	user := "legacy-" + storetest.NewKey()[:8]
	var legacy []string
	for range 2 {
		k := storetest.NewKey()
		if err := s.Create(ctx, k, session.Record{UserID: user, Expires: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		legacy = append(legacy, k)
	}
	// What an older version wrote: the index without the order set.
	if err := client.Del(ctx, prefix+"o:{"+user+"}").Err(); err != nil {
		t.Fatal(err)
	}
	if list, err := s.ListUser(ctx, user); err != nil || len(list) != 2 {
		t.Fatalf("ListUser of an old index = %d entries, %v; want 2", len(list), err)
	}
	fresh := storetest.NewKey()
	if err := s.Replace(ctx, "", fresh, session.Record{UserID: user, Expires: time.Now().Add(time.Hour)}, 2); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListUser(ctx, user)
	if err != nil || len(list) != 2 {
		t.Fatalf("ListUser after a login past the cap = %d entries, %v; want 2", len(list), err)
	}
	newer := storetest.NewKey()
	if err := s.Replace(ctx, "", newer, session.Record{UserID: user, Expires: time.Now().Add(time.Hour)}, 2); err != nil {
		t.Fatal(err)
	}
	for _, k := range legacy {
		if _, err := s.Get(ctx, k); !errors.Is(err, session.ErrNotFound) {
			t.Fatalf("an old-index session outlived newer ones past the cap: %v", err)
		}
	}
	for _, k := range []string{fresh, newer} {
		if _, err := s.Get(ctx, k); err != nil {
			t.Fatalf("a new session ended before old-index ones: %v", err)
		}
	}
}

// redisApp is a small app behind a Manager on a RedisStore, driven with
// httptest recorders (no network between client and app).
type redisApp struct {
	t      testing.TB
	m      *session.Manager
	h      http.Handler
	hook   *rtCounter
	store  *session.RedisStore
	client redis.UniversalClient
	prefix string
}

func newRedisApp(t testing.TB, client redis.UniversalClient) *redisApp {
	t.Helper()
	keys, err := session.NewKeyRing(session.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	return newRedisAppWith(t, client, session.Config{Keys: keys}, redistest.Prefix())
}

// newRedisAppWith is newRedisApp with the Manager's configuration (its Store
// is set here) and the store's key prefix given, so that several apps can
// act as instances of one deployment.
func newRedisAppWith(t testing.TB, client redis.UniversalClient, cfg session.Config, prefix string) *redisApp {
	t.Helper()
	a := &redisApp{t: t, hook: &rtCounter{}, client: client, prefix: prefix}
	client.AddHook(a.hook)
	// A client built with a cache gets a store that uses it.
	c, ok := client.(*redis.Client)
	cached := ok && c.Options().ClientSideCache != nil
	a.store = session.NewRedisStore(client, session.RedisConfig{KeyPrefix: a.prefix, ClientSideCache: cached})
	// A generous StoreTimeout unless the caller set one: these tests are
	// about correctness, on a machine that may be starved of CPU;
	// store_guard_test.go tests the deadline.
	if cfg.StoreTimeout == 0 {
		cfg.StoreTimeout = 10 * time.Second
	}
	cfg.Store = a.store
	var err error
	a.m, err = session.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	me := func(w http.ResponseWriter, r *http.Request) {
		s := session.FromContext(r.Context())
		fmt.Fprintf(w, "%s %s %s", s.UserID(), s.ID(), s.Get("owner"))
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /public", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "public %s", session.FromContext(r.Context()).UserID())
	})
	mux.Handle("GET /me", a.m.RequireAuth(http.HandlerFunc(me)))
	mux.Handle("POST /write", a.m.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.FromContext(r.Context())
		s.Set("owner", s.UserID())
		s.Set("n", r.URL.Query().Get("n"))
		me(w, r)
	})))
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if err := a.m.Login(w, r, r.URL.Query().Get("user")); err != nil {
			http.Error(w, "login failed", http.StatusServiceUnavailable)
			return
		}
		me(w, r)
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if err := a.m.Logout(w, r); err != nil {
			http.Error(w, "logout failed", http.StatusServiceUnavailable)
		}
	})
	mux.Handle("POST /logoutall", a.m.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.m.LogoutAll(r.Context(), session.FromContext(r.Context()).UserID()); err != nil {
			http.Error(w, "logout failed", http.StatusServiceUnavailable)
		}
	})))
	a.h = a.m.Middleware(mux)
	return a
}

// do sends one request with cookie (a "name=value" pair, or "") and returns
// the response and the cookie the client holds afterwards.
func (a *redisApp) do(method, target, cookie string) (*httptest.ResponseRecorder, string) {
	r := httptest.NewRequest(method, target, nil)
	if cookie != "" {
		r.Header.Set("Cookie", cookie)
	}
	w := httptest.NewRecorder()
	a.h.ServeHTTP(w, r)
	for _, c := range w.Result().Cookies() {
		if c.MaxAge < 0 {
			cookie = ""
		} else {
			cookie = c.Name + "=" + c.Value
		}
	}
	return w, cookie
}

// TestS33_RedisRoundTripsPerRequest counts Redis round trips per request
// through the middleware.
func TestS33_RedisRoundTripsPerRequest(t *testing.T) {
	t.Parallel()
	a := newRedisApp(t, redistest.New(t).Client(t))
	// Warm the server's script cache, as any running app's would be.
	_, c := a.do("POST", "/login?user=warm", "")
	a.do("POST", "/write", c)

	_, alice := a.do("POST", "/login?user=alice", "")
	forged := "__Host-sid" + "=" + strings.Repeat("A", 60)
	steps := []struct {
		name           string
		method, target string
		cookie         *string
		code           int
		max            int64
	}{
		{"anonymous", "GET", "/public", new(string), 200, 0},
		{"forged cookie", "GET", "/me", &forged, 401, 0},
		{"authenticated read", "GET", "/me", &alice, 200, 1},
		{"data write", "POST", "/write?n=1", &alice, 200, 2},
		{"login, no previous session", "POST", "/login?user=bob", new(string), 200, 1},
		// Get, then Replace (DEL + SET NX + index, pipelined).
		{"login over a session", "POST", "/login?user=alice", &alice, 200, 2},
		// The handler never reads the session: Logout deletes without a Get,
		// then reads the marker a concurrent renewal would have left.
		{"logout", "POST", "/logout", &alice, 200, 2},
		{"request after logout", "GET", "/me", &alice, 401, 0},
	}
	for _, st := range steps {
		var w *httptest.ResponseRecorder
		n := a.hook.count(func() { w, *st.cookie = a.do(st.method, st.target, *st.cookie) })
		if w.Code != st.code {
			t.Fatalf("%s: status %d, want %d (%s)", st.name, w.Code, st.code, w.Body)
		}
		if n > st.max {
			t.Errorf("%s: %d round trips, want at most %d", st.name, n, st.max)
		}
		t.Logf("%-28s %d round trip(s)", st.name, n)
	}
}

// TestS36_RedisDownThenBack kills Redis under a running app: RequireAuth
// answers 503 (never 401), public routes answer 200 with no Set-Cookie, and
// after a restart on the same port the same cookie works again (with
// persistence) or is anonymous (without).
func TestS36_RedisDownThenBack(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		survive bool
	}{
		{"Persistent", []string{"--appendonly", "yes", "--appendfsync", "always"}, true},
		{"Empty", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := redistest.New(t, tc.args...)
			if !srv.Owned() {
				t.Skip("REDIS_URL set: cannot kill that server")
			}
			opts := srv.Options()
			opts.MaxRetries, opts.DialerRetries = 1, 1
			client := redis.NewClient(opts)
			t.Cleanup(func() { client.Close() })
			a := newRedisApp(t, client)
			_, cookie := a.do("POST", "/login?user=carol", "")
			if w, _ := a.do("POST", "/write?n=7", cookie); w.Code != 200 {
				t.Fatalf("write: %d", w.Code)
			}

			srv.Kill(t)
			if w, _ := a.do("GET", "/me", cookie); w.Code != http.StatusServiceUnavailable {
				t.Errorf("protected route with Redis down: %d, want 503", w.Code)
			}
			for _, c := range []string{cookie, ""} {
				w, _ := a.do("GET", "/public", c)
				if w.Code != 200 || w.Header().Get("Set-Cookie") != "" {
					t.Errorf("public route with Redis down (cookie %v): %d, Set-Cookie %q", c != "", w.Code, w.Header().Get("Set-Cookie"))
				}
			}
			if w, _ := a.do("POST", "/write?n=8", cookie); w.Code != http.StatusServiceUnavailable || w.Header().Get("Set-Cookie") != "" {
				t.Errorf("write with Redis down: %d, Set-Cookie %q", w.Code, w.Header().Get("Set-Cookie"))
			}
			if w, _ := a.do("POST", "/login?user=dave", ""); w.Code != http.StatusServiceUnavailable || w.Header().Get("Set-Cookie") != "" {
				t.Errorf("login with Redis down: %d, Set-Cookie %q", w.Code, w.Header().Get("Set-Cookie"))
			}

			srv.Restart(t)
			// The refused connections opened the store guard's breaker: it
			// lets a probe through within 50 ms (bounded wait here).
			w, after := a.do("GET", "/me", cookie)
			for end := time.Now().Add(2 * time.Second); w.Code == http.StatusServiceUnavailable && time.Now().Before(end); {
				time.Sleep(10 * time.Millisecond)
				w, after = a.do("GET", "/me", cookie)
			}
			if tc.survive {
				if w.Code != 200 || !strings.HasPrefix(w.Body.String(), "carol ") || after != cookie {
					t.Fatalf("after restart: %d %q, cookie kept %v", w.Code, w.Body, after == cookie)
				}
			} else if w.Code != 401 || after != "" {
				t.Fatalf("after restart without data: %d, cookie %q; want 401 and the cookie expired", w.Code, after)
			}
			_, c2 := a.do("POST", "/login?user=carol", "")
			if w, _ := a.do("GET", "/me", c2); w.Code != 200 {
				t.Fatalf("login after restart does not work: %d", w.Code)
			}
		})
	}
}

// TestS16_RedisConcurrentRequests runs 50 clients of a few hundred requests
// each, mixing login, read, write, logout and LogoutAll over a handful of
// users, on one server and on a cluster. No response may carry another
// user's ID; afterwards no logged-out or revoked session is readable, the
// sessions Manager.Sessions lists are exactly the ones still accepted, and
// the user index holds nothing else that it will not drop by expiry.
func TestS16_RedisConcurrentRequests(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		client func(t *testing.T) redis.UniversalClient
	}{
		{"Single", func(t *testing.T) redis.UniversalClient { return redistest.New(t).Client(t) }},
		{"Cluster", func(t *testing.T) redis.UniversalClient { return redistest.NewCluster(t).Client(t) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runConcurrent(t, newRedisApp(t, tc.client(t)))
		})
	}
}

type issued struct {
	cookie, user, id string
	at               time.Time // when the login response was complete
}

func runConcurrent(t *testing.T, a *redisApp) {
	const clients, requests = 50, 200
	users := make([]string, 20)
	for i := range users {
		users[i] = fmt.Sprintf("u%d", i)
	}
	stop := time.Now().Add(2 * time.Minute)
	var (
		mu        sync.Mutex
		all       []issued
		loggedOut []issued
		revokes   = map[string][]time.Time{} // user -> LogoutAll start times
	)
	parse := func(body string) (user, id, owner string) {
		f := strings.SplitN(body, " ", 3)
		for len(f) < 3 {
			f = append(f, "")
		}
		return f[0], f[1], f[2]
	}
	var wg sync.WaitGroup
	for g := range clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 42))
			var cur issued
			for i := 0; i < requests && time.Now().Before(stop); i++ {
				switch op := rng.IntN(100); {
				case op < 20: // login
					user := users[rng.IntN(len(users))]
					w, c := a.do("POST", "/login?user="+user, cur.cookie)
					if w.Code != 200 {
						t.Errorf("login: %d", w.Code)
						return
					}
					got, id, _ := parse(w.Body.String())
					if got != user {
						t.Errorf("login as %s answered as %q", user, got)
					}
					mu.Lock()
					if cur.cookie != "" {
						loggedOut = append(loggedOut, cur) // Login deletes the old session
					}
					cur = issued{cookie: c, user: user, id: id, at: time.Now()}
					all = append(all, cur)
					mu.Unlock()
				case op < 90: // read or write
					target := "/me"
					method := "GET"
					if op >= 70 {
						method, target = "POST", fmt.Sprintf("/write?n=%d", i)
					}
					w, c := a.do(method, target, cur.cookie)
					switch w.Code {
					case 200:
						user, _, owner := parse(w.Body.String())
						if user != cur.user || (owner != "" && owner != cur.user) {
							t.Errorf("client of %q got a response for user %q (owner %q)", cur.user, user, owner)
						}
					case 401:
						if c != "" {
							t.Errorf("401 did not expire the cookie")
						}
						cur = issued{}
					default:
						t.Errorf("%s %s: %d", method, target, w.Code)
					}
				case op < 99: // logout
					if w, _ := a.do("POST", "/logout", cur.cookie); w.Code != 200 {
						t.Errorf("logout: %d", w.Code)
					}
					if cur.cookie != "" {
						mu.Lock()
						loggedOut = append(loggedOut, cur)
						mu.Unlock()
					}
					cur = issued{}
				default: // LogoutAll of the current user
					if cur.user == "" {
						continue
					}
					mu.Lock()
					revokes[cur.user] = append(revokes[cur.user], time.Now())
					mu.Unlock()
					w, c := a.do("POST", "/logoutall", cur.cookie)
					if w.Code != 200 && w.Code != 401 {
						t.Errorf("logoutall: %d", w.Code)
					}
					if c != "" {
						t.Errorf("LogoutAll did not expire the caller's cookie")
					}
					cur = issued{}
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	dead := func(s issued) bool {
		for _, at := range revokes[s.user] {
			if at.After(s.at) {
				return true
			}
		}
		return false
	}
	for _, s := range loggedOut {
		if w, _ := a.do("GET", "/me", s.cookie); w.Code != 401 {
			t.Errorf("a logged-out session of %s is still readable: %d", s.user, w.Code)
		}
	}
	live := map[string]map[string]bool{} // user -> public IDs still accepted
	for _, s := range all {
		w, _ := a.do("GET", "/me", s.cookie)
		if dead(s) && w.Code != 401 {
			t.Errorf("a session of %s created before a LogoutAll of that user survived it", s.user)
		}
		if w.Code == 200 {
			if live[s.user] == nil {
				live[s.user] = map[string]bool{}
			}
			live[s.user][s.id] = true
		}
	}
	ctx := tctx(t)
	for _, u := range users {
		infos, err := a.m.ListSessions(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		if len(infos) != len(live[u]) {
			t.Errorf("%s: Sessions lists %d, %d are accepted", u, len(infos), len(live[u]))
		}
		for _, in := range infos {
			if !live[u][in.ID] {
				t.Errorf("%s: Sessions lists a session that is not accepted", u)
			}
		}
		// The index after that ListUser: every entry is a live session of
		// the user, or (Cluster, where entries of deleted records wait for
		// their score) one that the index's own expiry will drop.
		idx := a.prefix + "u:{" + u + "}"
		entries, err := a.client.ZRangeWithScores(ctx, idx, 0, -1).Result()
		if err != nil {
			t.Fatal(err)
		}
		idxExp := a.client.PExpireTime(ctx, idx).Val()
		liveEntries := 0
		for _, e := range entries {
			key := e.Member.(string)
			rec, err := a.store.Get(ctx, key)
			switch {
			case err == nil && rec.UserID == u:
				liveEntries++
				if recExp := a.client.PExpireTime(ctx, a.prefix+key).Val(); recExp > idxExp || float64(recExp.Milliseconds()) > e.Score {
					t.Errorf("%s: index does not cover a live session", u)
				}
			case errors.Is(err, session.ErrNotFound):
				if _, ordered := a.client.(*redis.Client); ordered {
					t.Errorf("%s: dangling index entry after ListUser", u)
				}
				if e.Score <= 0 || idxExp <= 0 || float64(idxExp.Milliseconds()) < e.Score {
					t.Errorf("%s: dangling index entry that will not expire (score %v, index expires %v)", u, e.Score, idxExp)
				}
			default:
				t.Errorf("%s: index entry for a record of %q (%v)", u, rec.UserID, err)
			}
		}
		if liveEntries != len(live[u]) {
			t.Errorf("%s: index has %d live entries, want %d", u, liveEntries, len(live[u]))
		}
	}
	t.Logf("%d logins, %d logouts, %d still live", len(all), len(loggedOut), func() (n int) {
		for _, m := range live {
			n += len(m)
		}
		return
	}())
}

// benchApp returns an app on a throwaway Redis and a signed-in cookie.
func benchApp(b *testing.B) (*redisApp, string) {
	a := newRedisApp(b, redistest.New(b).Client(b))
	_, c := a.do("POST", "/login?user=bench", "")
	a.do("POST", "/write?n=0", c) // warm the script cache
	return a, c
}

func reportRoundTrips(b *testing.B, a *redisApp, before int64) {
	b.ReportMetric(float64(a.hook.n.Load()-before)/float64(b.N), "roundtrips/op")
}

// BenchmarkRedisStoreAuthenticatedRead: a signed-in GET through the
// middleware (one GET on Redis).
func BenchmarkRedisStoreAuthenticatedRead(b *testing.B) {
	a, c := benchApp(b)
	before := a.hook.n.Load()
	b.ReportAllocs()
	for b.Loop() {
		if w, _ := a.do("GET", "/me", c); w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
	reportRoundTrips(b, a, before)
}

// BenchmarkRedisStoreWrite: a signed-in request that changes a value (GET,
// then the update script).
func BenchmarkRedisStoreWrite(b *testing.B) {
	a, c := benchApp(b)
	before := a.hook.n.Load()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if w, _ := a.do("POST", "/write?n="+strconv.Itoa(i), c); w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
	reportRoundTrips(b, a, before)
}

// BenchmarkRedisStoreLogin: a visitor without a session logs in (one
// pipelined SET NX and index update).
func BenchmarkRedisStoreLogin(b *testing.B) {
	a, _ := benchApp(b)
	before := a.hook.n.Load()
	b.ReportAllocs()
	for b.Loop() {
		if w, _ := a.do("POST", "/login?user=bench", ""); w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
	reportRoundTrips(b, a, before)
}

// FuzzRedisRecord stores arbitrary bytes where a record would be and checks
// that the Go decoder (Get) and the Lua scripts (Touch, Update) agree on what
// is a live record, never fail with anything but ErrNotFound, and that Update
// keeps the stored user ID.
func FuzzRedisRecord(f *testing.F) {
	client := redistest.New(f).Client(f)
	prefix := redistest.Prefix()
	s := session.NewRedisStore(client, session.RedisConfig{KeyPrefix: prefix})
	ctx := context.Background()
	for _, rec := range []session.Record{
		{UserID: "alice", Expires: time.Now().Add(time.Hour), Data: []byte("data")},
		{Expires: time.Now().Add(time.Hour)},
		{UserID: "bob", Expires: time.Now().Add(time.Minute)},
	} {
		key := storetest.NewKey()
		if err := s.Create(ctx, key, rec); err != nil {
			f.Fatal(err)
		}
		raw, err := client.Get(ctx, prefix+key).Bytes()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
		f.Add(raw[:len(raw)-1])
		f.Add(bytes.Replace(raw, []byte("0"), []byte(" "), 1))
	}
	f.Add([]byte("\x010x0000000000"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, v []byte) {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		key := storetest.NewKey()
		if err := client.Set(ctx, prefix+key, v, time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
		defer client.Del(ctx, prefix+key)
		before, err := s.Get(ctx, key)
		if err != nil && !errors.Is(err, session.ErrNotFound) {
			t.Fatalf("Get: %v", err)
		}
		live := err == nil
		exp := time.Now().Add(time.Hour)
		err = s.Touch(ctx, key, exp)
		if err != nil && !errors.Is(err, session.ErrNotFound) {
			t.Fatalf("Touch: %v", err)
		}
		if live != (err == nil) && (!live || before.Expires.After(time.Now().Add(time.Second))) {
			t.Fatalf("Get says live=%v, Touch says %v", live, err)
		}
		err = s.Update(ctx, key, session.Record{UserID: "other", Expires: exp, Data: []byte("new")})
		if err != nil && !errors.Is(err, session.ErrNotFound) {
			t.Fatalf("Update: %v", err)
		}
		if err == nil {
			after, err := s.Get(ctx, key)
			if err != nil || string(after.Data) != "new" || (live && after.UserID != before.UserID) {
				t.Fatalf("after Update: %+v, %v (before: user %q)", after, err, before.UserID)
			}
		}
	})
}

// quietRedisLog drops go-redis's own "failed to dial" lines, which the fault
// tests provoke on purpose; the tests assert on errors instead.
type quietRedisLog struct{}

func (quietRedisLog) Printf(context.Context, string, ...any) {}

func init() { redis.SetLogger(quietRedisLog{}) }

// TestNewRedisStoreClientSideCacheIsExplicit checks that caching is on only
// when asked for, that asking for it on a client that cannot cache panics
// with the option to set, and that the logger is told which it is.
func TestNewRedisStoreClientSideCacheIsExplicit(t *testing.T) {
	t.Parallel()
	srv := redistest.New(t)
	cached, _ := cachedClient(t, srv, cacheKinds[1])
	configOnly := redis.NewClient(&redis.Options{Addr: srv.Addr, Protocol: 3, ClientSideCacheConfig: &redis.ClientSideCacheConfig{MaxEntries: 10}})
	resp2 := redis.NewClient(&redis.Options{Addr: srv.Addr, Protocol: 2})
	t.Cleanup(func() { configOnly.Close(); resp2.Close() })
	tests := []struct {
		name      string
		client    redis.UniversalClient
		cfg       session.RedisConfig
		wantPanic string // "" for no panic
		wantLog   string
	}{
		{"cache enabled", cached, session.RedisConfig{ClientSideCache: true}, "", "client_side_cache=true"},
		{"cache in the client, not enabled", cached, session.RedisConfig{}, "", "client_side_cache=false"},
		{"config without a cache", configOnly, session.RedisConfig{ClientSideCache: true}, "Options.ClientSideCache", ""},
		{"RESP2", resp2, session.RedisConfig{ClientSideCache: true}, "Protocol to 3", ""},
		{"no cache at all", srv.Client(t), session.RedisConfig{ClientSideCache: true}, "Options.ClientSideCache", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			tc.cfg.Logger = slog.New(slog.NewTextHandler(&buf, nil))
			got := func() (msg string) {
				defer func() {
					if r := recover(); r != nil {
						msg = fmt.Sprint(r)
					}
				}()
				session.NewRedisStore(tc.client, tc.cfg)
				return ""
			}()
			if tc.wantPanic == "" && got != "" || !strings.Contains(got, tc.wantPanic) {
				t.Fatalf("NewRedisStore panic = %q, want one containing %q", got, tc.wantPanic)
			}
			if !strings.Contains(buf.String(), tc.wantLog) {
				t.Fatalf("log = %q, want %q", buf.String(), tc.wantLog)
			}
		})
	}
}
