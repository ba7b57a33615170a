package bench

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sessionauth/session"
)

// TestScenarios runs a few requests of every scenario through every subject
// and checks the handler saw what it should (the right user, forged cookies
// refused, no errors, status 200).
func TestScenarios(t *testing.T) {
	t.Parallel()
	for _, sc := range scenarios {
		for _, f := range subjects {
			t.Run(sc.name+"/"+f.name, func(t *testing.T) {
				g := newRig(t, sc, f, true)
				w, r := NewWriter(), new(http.Request)
				for range 3 {
					g.serve(w, r)
				}
				g.check(t)
			})
		}
	}
}

// TestForgeChangesOneCharacter checks that a forged cookie keeps its name and
// length and differs from the original in exactly one byte.
func TestForgeChangesOneCharacter(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"session=AAAAAAAAAAAAAAAA", "session=abcdefghijklmnop", "s=MTcwMDAwMDAwMHxhYmN8ZGVm"} {
		out := Forge(in)
		if len(out) != len(in) || out[:8] != in[:8] {
			t.Fatalf("Forge(%q) = %q: name or length changed", in, out)
		}
		diff := 0
		for i := range in {
			if in[i] != out[i] {
				diff++
			}
		}
		if diff != 1 {
			t.Fatalf("Forge(%q) = %q: %d bytes differ, want 1", in, out, diff)
		}
	}
}

// TestWriterCountsSentSetCookies checks that only Set-Cookie lines present
// when the header is written count, as on the wire.
func TestWriterCountsSentSetCookies(t *testing.T) {
	t.Parallel()
	w := NewWriter()
	w.Header().Add("Set-Cookie", "a=1")
	w.Header().Add("Set-Cookie", "b=2")
	w.Write(nil)
	w.Header().Add("Set-Cookie", "late=3") // after the header was sent: lost
	w.Finish()
	w.Reset()
	w.Finish() // a second request that set nothing
	if got := w.SetCookies(); got != 2 {
		t.Fatalf("SetCookies = %d, want 2", got)
	}
	if w.Status() != http.StatusOK {
		t.Fatalf("status %d", w.Status())
	}
}

// TestLoginCookieRequiresCookie checks that a subject whose login sets no
// cookie is reported, not given an empty cookie.
func TestLoginCookieRequiresCookie(t *testing.T) {
	t.Parallel()
	if _, err := LoginCookie(NewBare(), "u"); !errors.Is(err, errLoginNoCookie) {
		t.Fatalf("err = %v, want errLoginNoCookie", err)
	}
}

// TestRedisHookCountsEveryCommand checks the round-trip counter against the
// server's own count of processed commands.
func TestRedisHookCountsEveryCommand(t *testing.T) {
	url := needRedis(t)
	c, n, err := NewRedisClient(url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	obs, _, err := NewRedisClient(url) // reads INFO without being counted
	if err != nil {
		t.Fatal(err)
	}
	defer obs.Close()
	processed := func() int {
		v, err := strconv.Atoi(redisInfo(t, obs, "stats", "total_commands_processed"))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	ctx := context.Background()
	run := func() {
		c.Set(ctx, "bench:k", "v", 0)
		c.Get(ctx, "bench:k")
		pipe := c.Pipeline()
		pipe.Get(ctx, "bench:k")
		pipe.Del(ctx, "bench:k")
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Warm up: a connection's first use sends a handshake (HELLO and
	// CLIENT SETINFO), real round trips the hook sees too, but not the
	// steady state a benchmark measures.
	run()
	before, n0 := processed(), n.Load()
	run()
	// The server counts commands, the hook round trips: 2 single commands
	// and one pipeline of 2 are 4 commands in 3 round trips. The first INFO
	// is counted by the server once the second one runs.
	if got := processed() - before - 1; got != 4 {
		t.Fatalf("server processed %d commands, want 4", got)
	}
	if got := n.Load() - n0; got != 3 {
		t.Fatalf("hook counted %d round trips, want 3", got)
	}
}

// TestRedisCachedClientCountsWhatReachesRedis: the cached client counts a
// command or a pipeline that goes to Redis as one, and a read the
// client-side cache answers as none.
func TestRedisCachedClientCountsWhatReachesRedis(t *testing.T) {
	url := needRedis(t)
	c, n, err := NewRedisCachedClient(url, 100)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	key := "bench:cached:" + strconv.FormatInt(time.Now().UnixNano(), 36)
	defer c.Del(ctx, key)
	c.Set(ctx, key, "v", 0)
	c.Get(ctx, key) // warm-up: the connection, and the cache
	count := func(fn func()) uint64 {
		before := n.Load()
		fn()
		return n.Load() - before
	}
	if got := count(func() { c.Get(ctx, key) }); got != 0 {
		t.Errorf("cached GET counted %d, want 0", got)
	}
	if got := count(func() { c.Set(ctx, key, "w", 0) }); got != 1 {
		t.Errorf("SET counted %d, want 1", got)
	}
	pipeline := func() {
		pipe := c.Pipeline()
		pipe.Incr(ctx, key+":n")
		pipe.Del(ctx, key+":n")
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	pipeline() // warm-up: pipelines have a pool of their own
	if got := count(pipeline); got != 1 {
		t.Errorf("pipeline of two counted %d, want 1", got)
	}
}

// TestOursCostColumns checks the library's promised per-request costs, per
// store: round trips and Set-Cookie headers (the targets; time is
// left to the benchmarks).
func TestOursCostColumns(t *testing.T) {
	t.Parallel()
	want := map[string]struct{ roundTrips, setCookies int }{
		"anonymous": {0, 0},
		"read":      {1, 0},
		"write":     {2, 0}, // read, then one update; same token, so no cookie
		"forged":    {0, 0},
		"login":     {1, 1},
		"login-cap": {1, 1}, // one Replace: the new session in, the oldest out
	}
	// Cookie-only: no store; a change or a login is a new cookie.
	wantCookie := map[string]struct{ roundTrips, setCookies int }{
		"anonymous": {0, 0},
		"read":      {0, 0},
		"write":     {0, 1},
		"forged":    {0, 0},
		"login":     {0, 1},
		"login-cap": {0, 1},
	}
	for _, f := range subjects {
		if !strings.HasPrefix(f.name, "ours-") {
			continue
		}
		for _, sc := range scenarios {
			w, ok := want[sc.name]
			if f.name == "ours-cookie" {
				w, ok = wantCookie[sc.name]
			}
			if !ok {
				continue
			}
			if f.name == "ours-mem-plain" {
				w.roundTrips = 0 // nothing counts the MemoryStore's calls
			}
			if f.name == "ours-redis-cached" && sc.name == "read" {
				w.roundTrips = 0 // the record comes from the client-side cache
			}
			t.Run(f.name+"/"+sc.name, func(t *testing.T) {
				g := newRig(t, sc, f, true)
				wr, r := NewWriter(), new(http.Request)
				const n = 5
				g.serve(wr, r) // warm-up: a new connection's handshake is not the steady state
				rt0, sc0 := g.s.RoundTrips(), wr.SetCookies()
				for range n {
					g.serve(wr, r)
				}
				g.check(t)
				got := int(g.s.RoundTrips() - rt0)
				o, _ := g.s.(*Ours)
				if p, ok := g.s.(*PGSubject); ok {
					o, _ = p.Subject.(*Ours)
				}
				if o != nil && strings.HasPrefix(sc.name, "login") && !o.replacer && f.name != "ours-cookie" {
					// Without Replace(…, limit) the Manager logs in in
					// steps (Create, ListUser, a Delete per session past
					// the cap): more than one operation, and how many
					// depends on the store.
					t.Logf("the store has no Replace with a limit: %d round trips in %d logins", got, n)
					if got <= n {
						t.Errorf("%d round trips in %d logins in steps, want more than one each", got, n)
					}
				} else if got != n*w.roundTrips {
					t.Errorf("%d round trips in %d requests, want %d each", got, n, w.roundTrips)
				}
				if got := wr.SetCookies() - sc0; got != n*w.setCookies {
					t.Errorf("%d Set-Cookie in %d requests, want %d each", got, n, w.setCookies)
				}
			})
		}
	}
}

// TestCountingStoreKeepsReplacer checks that the counting wrapper offers
// Replace exactly when the wrapped store does, for a store that has it and
// one that does not.
func TestCountingStoreKeepsReplacer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		store session.Store
	}{
		{"MemoryStore", session.NewMemoryStore()},
		{"no Replace", CountingStore{Next: session.NewMemoryStore()}},
	} {
		_, want := tc.store.(session.Replacer)
		if _, got := NewCountingStore(tc.store, nil).(session.Replacer); got != want {
			t.Errorf("%s (Replacer %v): the wrapper's Replacer is %v", tc.name, want, got)
		}
	}
	if _, ok := session.Store(session.NewMemoryStore()).(session.Replacer); !ok {
		t.Error("MemoryStore has no Replace: the first case proves nothing")
	}
}
