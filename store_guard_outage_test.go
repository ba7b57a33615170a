package session_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionauth/session"
	"github.com/sessionauth/session/internal/redistest"
)

// recommendedRedisOptions are the go-redis options the README's "Running
// Redis in production" section recommends (TestREADMEShowsTheTestedRedisOptions
// keeps the two alike). The outage tests run with them.
func recommendedRedisOptions(addr string) *redis.Options {
	return &redis.Options{
		Addr:                  addr,
		ContextTimeoutEnabled: true,
		DialTimeout:           500 * time.Millisecond,
		DialerRetries:         1,
		ReadTimeout:           500 * time.Millisecond,
		WriteTimeout:          500 * time.Millisecond,
		PoolTimeout:           500 * time.Millisecond,
		MaxRetries:            1,
		DisableIdentity:       true,
	}
}

// TestREADMEShowsTheTestedRedisOptions checks that every option set in
// recommendedRedisOptions appears, with the same value, in the README's
// production block.
func TestREADMEShowsTheTestedRedisOptions(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)<!-- readme-test: redis-production -->\n```go\n(.*?)```").FindSubmatch(readme)
	if block == nil {
		t.Fatal("README.md has no redis-production block")
	}
	src, err := os.ReadFile("store_guard_outage_test.go")
	if err != nil {
		t.Fatal(err)
	}
	body := regexp.MustCompile(`(?s)func recommendedRedisOptions\(addr string\) \*redis.Options \{\n(.*?)\n}\n`).FindSubmatch(src)
	if body == nil {
		t.Fatal("cannot find recommendedRedisOptions")
	}
	field := regexp.MustCompile(`(?m)^\s*([A-Z]\w*):\s*([^/\n]*?),?\s*(//.*)?$`)
	readmeFields := map[string]string{}
	for _, m := range field.FindAllStringSubmatch(string(block[1]), -1) {
		readmeFields[m[1]] = m[2]
	}
	n := 0
	for _, m := range field.FindAllStringSubmatch(string(body[1]), -1) {
		if m[1] == "Addr" {
			continue
		}
		n++
		if got, ok := readmeFields[m[1]]; !ok || got != m[2] {
			t.Errorf("README sets %s to %q, the tests to %q", m[1], got, m[2])
		}
	}
	if n < 5 {
		t.Fatalf("found only %d options in recommendedRedisOptions", n)
	}
}

// cmdCounter is a go-redis hook counting commands and pipelines sent (or
// tried), whatever their outcome.
type cmdCounter struct{ n atomic.Int64 }

func (c *cmdCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *cmdCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmd)
	}
}

func (c *cmdCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmds)
	}
}

// outageApp is a Manager on a RedisStore behind a real HTTP server.
type outageApp struct {
	srv    *redistest.Server
	cmds   *cmdCounter
	url    string
	client *http.Client
	cookie string // "name=value" of a signed-in session
	logs   *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) count(sub string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Count(s.b.String(), sub)
}

func newOutageApp(t *testing.T) *outageApp {
	t.Helper()
	// Persistence, so the signed-in session outlives a kill and restart.
	srv := redistest.New(t, "--appendonly", "yes", "--appendfsync", "always")
	if !srv.Owned() {
		t.Skip("REDIS_URL set: the outage tests must stop their own server")
	}
	a := newOutageAppOn(t, redis.NewClient(recommendedRedisOptions(srv.Addr)))
	a.srv = srv
	return a
}

// newOutageAppOn is newOutageApp on client (closed when the test ends),
// whatever server it reaches.
func newOutageAppOn(t *testing.T, rdb redis.UniversalClient) *outageApp {
	t.Helper()
	t.Cleanup(func() { rdb.Close() })
	a := &outageApp{cmds: &cmdCounter{}, logs: &syncBuffer{}}
	rdb.AddHook(a.cmds)
	keys, err := session.NewKeyRing(session.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	m, err := session.New(session.Config{
		Store:  session.NewRedisStore(rdb, session.RedisConfig{KeyPrefix: redistest.Prefix()}),
		Keys:   keys,
		Logger: slog.New(slog.NewTextHandler(a.logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if err := m.Login(w, r, "alice"); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
		}
	})
	mux.HandleFunc("GET /public", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "public:%s", session.FromContext(r.Context()).UserID())
	})
	mux.Handle("GET /me", m.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "me:%s", session.FromContext(r.Context()).UserID())
	})))
	hs := httptest.NewServer(m.Middleware(mux))
	t.Cleanup(hs.Close)
	a.url = hs.URL
	a.client = &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64},
	}
	t.Cleanup(a.client.CloseIdleConnections)

	req, _ := http.NewRequest("POST", a.url+"/login", nil)
	resp, err := a.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		a.cookie = c.Name + "=" + c.Value
	}
	if resp.StatusCode != 200 || a.cookie == "" {
		t.Fatalf("login: %d, cookie %q", resp.StatusCode, a.cookie)
	}
	if r := a.get(t, "/me"); r.code != 200 || r.body != "me:alice" {
		t.Fatalf("GET /me after login: %d %q", r.code, r.body)
	}
	return a
}

type result struct {
	code      int
	body      string
	setCookie bool
	took      time.Duration
}

func (a *outageApp) get(t *testing.T, path string) result {
	req, _ := http.NewRequest("GET", a.url+path, nil)
	req.Header.Set("Cookie", a.cookie)
	start := time.Now()
	resp, err := a.client.Do(req)
	if err != nil {
		t.Errorf("GET %s: %v", path, err)
		return result{took: time.Since(start)}
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return result{code: resp.StatusCode, body: string(b), setCookie: resp.Header.Get("Set-Cookie") != "", took: time.Since(start)}
}

// load sends GET /me and GET /public (with the session cookie) from
// workers goroutines, alternately, for d or until max requests in all.
func (a *outageApp) load(t *testing.T, workers int, d time.Duration, max int64) (me, public []result) {
	var mu sync.Mutex
	var sent atomic.Int64
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			var mine, pub []result
			for i := w; time.Now().Before(stop) && sent.Add(1) <= max; i++ {
				if i%2 == 0 {
					mine = append(mine, a.get(t, "/me"))
				} else {
					pub = append(pub, a.get(t, "/public"))
				}
			}
			mu.Lock()
			me, public = append(me, mine...), append(public, pub...)
			mu.Unlock()
		})
	}
	wg.Wait()
	return me, public
}

// percentiles returns the p50 and p99 of rs's latencies.
func percentiles(rs []result) (p50, p99 time.Duration) {
	if len(rs) == 0 {
		return 0, 0
	}
	d := make([]time.Duration, len(rs))
	for i, r := range rs {
		d[i] = r.took
	}
	slices.Sort(d)
	return d[len(d)/2], d[len(d)*99/100]
}

// firstOK polls GET /me until it answers 200, and returns how long that took.
func (a *outageApp) firstOK(t *testing.T) time.Duration {
	start := time.Now()
	for deadline := start.Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		switch r := a.get(t, "/me"); r.code {
		case 200:
			if r.body != "me:alice" {
				t.Fatalf("after recovery GET /me = %q, want the session of before", r.body)
			}
			return time.Since(start)
		case 503:
		default:
			t.Fatalf("after recovery GET /me = %d %q; want 503 until 200 (never a 401)", r.code, r.body)
		}
	}
	t.Fatal("no 200 within 15s of Redis answering again")
	return 0
}

// TestRedisOutageThroughHTTP stalls (SIGSTOP) and kills a real Redis under
// a Manager with the default StoreTimeout, the recommended go-redis options
// and 8 concurrent HTTP clients, and measures what clients see: protected
// routes answer 503 (never 401) quickly, public routes stay 200, anonymous
// and without Set-Cookie, and once Redis is back the session works again
// within a second (the target is half of that: the figures go to the test
// log, go test -v).
func TestRedisOutageThroughHTTP(t *testing.T) {
	const (
		workers = 8
		during  = 2 * time.Second
		max     = 20000       // requests per phase
		timeout = time.Second // the default StoreTimeout
	)
	tests := []struct {
		name           string
		fail, recover  func(*redistest.Server, testing.TB)
		maxStoreCalls  int64  // while down; 0: not checked
		cause          string // the library's log names it
		recoverWithin  time.Duration
		recoverWhatFor string
	}{
		{
			name: "stall", fail: (*redistest.Server).Pause, recover: (*redistest.Server).Resume,
			// Calls in flight when it stalled, then one probe per cool-down:
			// without the breaker, thousands.
			// A probe that hangs holds its lease for StoreTimeout plus a
			// cool-down, so few go while Redis stalls.
			maxStoreCalls: 4*workers + int64(during/time.Second)*2 + 8,
			recoverWithin: time.Second, recoverWhatFor: "SIGCONT",
		},
		{
			// The breaker opens at the first refused connection and probes
			// outside go-redis's pool, whose dial failures would otherwise
			// add up to a second (its background redial) to the recovery.
			name: "refusal", fail: (*redistest.Server).Kill, recover: (*redistest.Server).Restart,
			maxStoreCalls: 4 * workers, cause: "connection refused",
			recoverWithin: time.Second, recoverWhatFor: "the restarted server answering PING",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := newOutageApp(t)
			tc.fail(a.srv, t)
			calls := a.cmds.n.Load()
			me, public := a.load(t, workers, during, max)
			storeCalls := a.cmds.n.Load() - calls

			codes := map[int]int{}
			for _, r := range me {
				codes[r.code]++
			}
			if codes[503] != len(me) {
				t.Errorf("protected route with Redis down (%s): status counts %v, want only 503", tc.name, codes)
			}
			for _, r := range public {
				if r.code != 200 || r.body != "public:" || r.setCookie {
					t.Fatalf("public route with Redis down (%s): %d %q, Set-Cookie %v; want 200, anonymous, no cookie", tc.name, r.code, r.body, r.setCookie)
				}
			}
			p50, p99 := percentiles(me)
			pp50, pp99 := percentiles(public)
			t.Logf("%s: 503 p50 %v p99 %v (%d requests); public 200 p50 %v p99 %v (%d); %d Redis commands tried while down",
				tc.name, p50.Round(10*time.Microsecond), p99.Round(10*time.Microsecond), len(me),
				pp50.Round(10*time.Microsecond), pp99.Round(10*time.Microsecond), len(public), storeCalls)
			// Generous bounds for a shared, noisy machine. Without the
			// breaker the median would be StoreTimeout (stall); with it,
			// most requests never wait for Redis.
			// The first requests of a stall each wait for StoreTimeout
			// before the breaker opens.
			if p50 > timeout/4 || pp50 > timeout/4 || p99 > timeout+time.Second || pp99 > timeout+time.Second {
				t.Errorf("%s: latency p50/p99 protected %v/%v, public %v/%v; want p50 < %v, p99 < %v", tc.name, p50, p99, pp50, pp99, timeout/4, timeout+time.Second)
			}
			if len(me) < 50 {
				t.Errorf("only %d protected requests in %v with %d workers", len(me), during, workers)
			}
			if tc.maxStoreCalls > 0 && storeCalls > tc.maxStoreCalls {
				t.Errorf("%s: %d Redis commands tried while down, want at most %d (the breaker stops them)", tc.name, storeCalls, tc.maxStoreCalls)
			}
			if n := a.logs.count("suspending store calls"); n != 1 {
				t.Errorf("%s: %d log lines for the breaker opening, want 1", tc.name, n)
			}
			if tc.cause != "" && a.logs.count(tc.cause) == 0 {
				t.Errorf("%s: the library's log does not name the cause %q:\n%s", tc.name, tc.cause, a.logs.String())
			}

			tc.recover(a.srv, t)
			took := a.firstOK(t)
			t.Logf("%s: first 200 %v after %s", tc.name, took.Round(time.Millisecond), tc.recoverWhatFor)
			if took > tc.recoverWithin {
				t.Errorf("%s: first 200 %v after %s, want within %v", tc.name, took, tc.recoverWhatFor, tc.recoverWithin)
			}
			if n := a.logs.count("store calls resumed"); n != 1 {
				t.Errorf("%s: %d log lines for the breaker closing, want 1", tc.name, n)
			}
		})
	}
}

// TestRedisSentinelPromotionRecovery kills the master of a Sentinel setup
// under load through a Manager with the default StoreTimeout and the
// recommended go-redis options: requests answer 503 (never 401) until the
// replica is promoted, and the first 200 comes within a second of the
// sentinels naming the new master (the target is half of that; the figure
// goes to the test log).
func TestRedisSentinelPromotionRecovery(t *testing.T) {
	t.Parallel()
	s := redistest.NewSentinel(t)
	o := recommendedRedisOptions("")
	fo := s.FailoverOptions()
	fo.ContextTimeoutEnabled, fo.DialTimeout, fo.DialerRetries = o.ContextTimeoutEnabled, o.DialTimeout, o.DialerRetries
	fo.ReadTimeout, fo.WriteTimeout, fo.PoolTimeout = o.ReadTimeout, o.WriteTimeout, o.PoolTimeout
	fo.MaxRetries, fo.DisableIdentity = o.MaxRetries, o.DisableIdentity
	a := newOutageAppOn(t, redis.NewFailoverClient(fo))
	// The session must be on the replica before the kill.
	master := redis.NewClient(&redis.Options{Addr: s.MasterAddr(t)})
	n, err := master.Do(context.Background(), "WAIT", 1, 5000).Int()
	master.Close()
	if err != nil || n < 1 {
		t.Fatalf("WAIT: %d, %v", n, err)
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var bad atomic.Int64
	for range 2 {
		wg.Go(func() {
			for end := time.Now().Add(60 * time.Second); time.Now().Before(end); time.Sleep(2 * time.Millisecond) {
				select {
				case <-stop:
					return
				default:
				}
				if r := a.get(t, "/me"); r.code != 200 && r.code != 503 {
					bad.Add(1)
				}
			}
		})
	}
	time.Sleep(200 * time.Millisecond)
	killed := time.Now()
	old := s.KillMaster(t)
	_, healed := s.WaitFailover(t, old, 45*time.Second)
	took := a.firstOK(t)
	close(stop)
	wg.Wait()
	t.Logf("promotion seen %v after the kill; first 200 %v after it", healed.Sub(killed).Round(time.Millisecond), took.Round(time.Millisecond))
	if bad.Load() > 0 {
		t.Errorf("%d answers other than 200 and 503 during the failover", bad.Load())
	}
	if took > time.Second {
		t.Errorf("first 200 %v after the promotion, want within 1s", took)
	}
}
