package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionauth/session/internal/redistest"
)

// A REDIS_* variable that does not parse stops the server with an error that
// names the variable and the expected shape, never a part of the URL (it
// may be the password).
func TestRedisURLErrorsNeverShowPassword(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, url, want string }{
		{"REDIS_URL", "http://127.0.0.1:6379", "REDIS_URL does not parse: want redis://"},
		{"REDIS_URL", "redis://user:s3cret-pw@127.0.0.1:notaport", "REDIS_URL does not parse: want redis://"},
		{"REDIS_CLUSTER_URL", "redis://:s3cret-pw@127.0.0.1:7000?addr=bad", "REDIS_CLUSTER_URL does not parse: want redis://"},
		{"REDIS_CLUSTER_URL", "tcp://:s3cret-pw@127.0.0.1:7000", "REDIS_CLUSTER_URL does not parse"},
		{"REDIS_SENTINEL_URL", "redis://:s3cret-pw@127.0.0.1:26379?master_name=m&nonsense=1", "REDIS_SENTINEL_URL does not parse"},
		{"REDIS_SENTINEL_URL", "redis://:s3cret-pw@127.0.0.1:26379", "REDIS_SENTINEL_URL has no master_name=NAME"},
	} {
		err := run(context.Background(), envFunc(map[string]string{"ADDR": "127.0.0.1:0", tc.name: tc.url}), io.Discard, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%q: err = %v, want %q", tc.name, tc.url, err, tc.want)
		} else if strings.Contains(err.Error(), "s3cret-pw") {
			t.Errorf("error %q shows the Redis password", err)
		}
	}
	err := run(context.Background(), envFunc(map[string]string{"REDIS_URL": "redis://a:1", "REDIS_SENTINEL_URL": "redis://b:2?master_name=m"}), io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "set only one of REDIS_URL, REDIS_CLUSTER_URL and REDIS_SENTINEL_URL") {
		t.Errorf("two REDIS_* variables: err = %v", err)
	}
}

// The recommended client options apply where the URL does not set its own.
func TestRedisURLOptionsAreTunedUnlessTheURLSaysOtherwise(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, url string
		dial      time.Duration
		retries   int
	}{
		{"REDIS_URL", "redis://127.0.0.1:1", redisDialTimeout, 1},
		{"REDIS_URL", "redis://127.0.0.1:1?dial_timeout=3s&max_retries=5", 3 * time.Second, 5},
		{"REDIS_CLUSTER_URL", "redis://127.0.0.1:1?addr=127.0.0.1:2", redisDialTimeout, 1},
		{"REDIS_SENTINEL_URL", "redis://127.0.0.1:1?master_name=m&max_retries=2", redisDialTimeout, 2},
	} {
		cfg, err := loadConfig(envFunc(map[string]string{tc.name: tc.url}))
		if err != nil {
			t.Fatal(err)
		}
		var dial time.Duration
		var retries, dialRetries int
		var ctxTimeout, noIdentity bool
		switch tc.name {
		case "REDIS_URL":
			o, _ := redis.ParseURL(cfg.RedisURL)
			tuneRedis(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.MaxRetries, &o.DialerRetries, &o.ContextTimeoutEnabled, &o.DisableIdentity)
			dial, retries, dialRetries, ctxTimeout, noIdentity = o.DialTimeout, o.MaxRetries, o.DialerRetries, o.ContextTimeoutEnabled, o.DisableIdentity
		case "REDIS_CLUSTER_URL":
			o, _ := redis.ParseClusterURL(cfg.RedisClusterURL)
			tuneRedis(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.MaxRetries, &o.DialerRetries, &o.ContextTimeoutEnabled, &o.DisableIdentity)
			dial, retries, dialRetries, ctxTimeout, noIdentity = o.DialTimeout, o.MaxRetries, o.DialerRetries, o.ContextTimeoutEnabled, o.DisableIdentity
		case "REDIS_SENTINEL_URL":
			o, _ := redis.ParseFailoverURL(cfg.RedisSentinelURL)
			tuneRedis(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.MaxRetries, &o.DialerRetries, &o.ContextTimeoutEnabled, &o.DisableIdentity)
			dial, retries, dialRetries, ctxTimeout, noIdentity = o.DialTimeout, o.MaxRetries, o.DialerRetries, o.ContextTimeoutEnabled, o.DisableIdentity
		}
		if dial != tc.dial || retries != tc.retries || dialRetries != 1 || !ctxTimeout || !noIdentity {
			t.Errorf("%s=%s: dial %v, retries %d, dial retries %d, context timeouts %v, no identity %v", tc.name, tc.url, dial, retries, dialRetries, ctxTimeout, noIdentity)
		}
	}
}

// A REDIS_URL whose password holds an unescaped '/', '?' or '#' does not
// parse; url.Parse's error would quote part of the password, so the error
// says what is expected instead.
func TestRedisURLWithUnescapedPasswordNeverShowsIt(t *testing.T) {
	t.Parallel()
	for _, u := range []string{
		"redis://:s3cretpw/x@127.0.0.1:6379/0",
		"redis://:s3cretpw?x@127.0.0.1:6379",
		"redis://user:s3cretpw#x@127.0.0.1:6379",
	} {
		err := run(context.Background(), envFunc(map[string]string{"ADDR": "127.0.0.1:0", "REDIS_URL": u}), io.Discard, nil)
		if err == nil {
			t.Fatalf("REDIS_URL=%q: no error", u)
		}
		if strings.Contains(err.Error(), "s3cretpw") {
			t.Errorf("error shows the Redis password: %v", err)
		}
	}
}

// With REDIS_URL and SESSION_KEYS set, a restart keeps everyone signed in:
// the demo account's ID is the same and the sessions are in Redis.
func TestRedisSessionsSurviveRestart(t *testing.T) {
	t.Parallel()
	srv := redistest.New(t)
	env := map[string]string{
		"ADDR":          "127.0.0.1:0",
		"REDIS_URL":     "redis://" + srv.Addr,
		"SESSION_KEYS":  "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"DEMO_PASSWORD": "a long demo passphrase",
	}
	addr, logs, stop := startRun(t, env)
	body := `{"username":"demo","password":"a long demo passphrase"}`
	res, err := http.Post("http://"+addr+"/login", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var cookie *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == hostCookieName {
			cookie = c
		}
	}
	if res.StatusCode != http.StatusOK || cookie == nil {
		t.Fatalf("login: %d, cookie %v\n%s", res.StatusCode, cookie, logs)
	}
	me := func(addr string) (int, string) {
		req, _ := http.NewRequest("GET", "http://"+addr+"/me", nil)
		req.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	code, before := me(addr)
	if code != http.StatusOK {
		t.Fatalf("/me before restart: %d %s", code, before)
	}
	stop()
	if !strings.Contains(logs.String(), "sessions are kept in Redis:") {
		t.Errorf("start-up log does not say sessions are in Redis:\n%s", logs)
	}

	addr2, _, _ := startRun(t, env)
	code, after := me(addr2)
	if code != http.StatusOK || after != before {
		t.Fatalf("/me after restart: %d %s, want 200 %s", code, after, before)
	}
}

// live talks to a server started with run, over HTTP.
type live struct {
	t    *testing.T
	base string
	logs *syncBuffer
}

func startLive(t *testing.T, env map[string]string) *live {
	t.Helper()
	env["ADDR"] = "127.0.0.1:0"
	if env["DEMO_PASSWORD"] == "" {
		env["DEMO_PASSWORD"] = "a long demo passphrase"
	}
	addr, logs, _ := startRun(t, env)
	return &live{t: t, base: "http://" + addr, logs: logs}
}

var liveClient = &http.Client{Timeout: 10 * time.Second}

// login signs the demo user in and returns the status and the cookie.
func (l *live) login() (int, *http.Cookie) {
	l.t.Helper()
	res, err := liveClient.Post(l.base+"/login", "application/json", strings.NewReader(`{"username":"demo","password":"a long demo passphrase"}`))
	if err != nil {
		l.t.Fatal(err)
	}
	res.Body.Close()
	for _, c := range res.Cookies() {
		if c.Name == hostCookieName {
			return res.StatusCode, &http.Cookie{Name: c.Name, Value: c.Value}
		}
	}
	return res.StatusCode, nil
}

// mustLogin signs in and fails the test unless it worked.
func (l *live) mustLogin() *http.Cookie {
	l.t.Helper()
	code, c := l.login()
	if code != http.StatusOK || c == nil {
		l.t.Fatalf("login: %d\n%s", code, l.logs)
	}
	return c
}

// get answers the status of GET path with cookie (nil for none).
func (l *live) get(path string, cookie *http.Cookie) int {
	l.t.Helper()
	req, _ := http.NewRequest("GET", l.base+path, nil)
	if cookie != nil {
		req.AddCookie(cookie)
	}
	res, err := liveClient.Do(req)
	if err != nil {
		l.t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// waitFor polls cond every 50 ms for up to limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(limit); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, limit)
		}
	}
}

// The server starts while Redis is down: liveness is fine, readiness is
// false, sign-in and a signed-in request answer 503 at once (never 401),
// anonymous pages work; when Redis comes back, everything does.
func TestServerStartsWhileRedisIsDownAndRecovers(t *testing.T) {
	t.Parallel()
	srv := redistest.New(t)
	if !srv.Owned() {
		t.Skip("REDIS_URL's server cannot be stopped; this test starts its own")
	}
	// The URL holds a password (the server has none: any is accepted), which
	// must never reach the log.
	env := map[string]string{"REDIS_URL": "redis://:s3cret-pw@" + srv.Addr, "SESSION_KEYS": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}
	srv.Kill(t)

	l := startLive(t, env)
	if code := l.get("/healthz", nil); code != http.StatusOK {
		t.Fatalf("/healthz while Redis is down: %d", code)
	}
	if code := l.get("/readyz", nil); code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz while Redis is down: %d", code)
	}
	if code := l.get("/", nil); code != http.StatusOK {
		t.Fatalf("GET / anonymous while Redis is down: %d", code)
	}
	if code, cookie := l.login(); code != http.StatusServiceUnavailable || cookie != nil {
		t.Fatalf("login while Redis is down: %d, cookie %v", code, cookie)
	}
	logs := l.logs.String()
	for _, want := range []string{"not ready: the session store cannot be reached", "serving anyway", "msg=listening"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if strings.Contains(logs, "s3cret-pw") {
		t.Fatal("the log shows the Redis password")
	}

	srv.Restart(t)
	waitFor(t, 10*time.Second, "/readyz after Redis came back", func() bool { return l.get("/readyz", nil) == http.StatusOK })
	cookie := l.mustLogin()
	if code := l.get("/me", cookie); code != http.StatusOK {
		t.Fatalf("/me after recovery: %d", code)
	}
	// Down again: a valid session gets 503, never 401, and at once: the
	// client options allow one refused dial, not go-redis's default retries.
	before := len(l.logs.String())
	srv.Kill(t)
	for i := range 5 {
		start := time.Now()
		code := l.get("/me", cookie)
		took := time.Since(start)
		if code != http.StatusServiceUnavailable {
			t.Fatalf("/me with a valid session while Redis is down: %d, want 503", code)
		}
		if i == 4 {
			t.Logf("/me with a valid session while Redis refuses connections: 503 in %v", took.Round(time.Millisecond))
		}
		if took > 500*time.Millisecond {
			t.Errorf("/me took %v to answer 503 while Redis refuses connections, want well under a second", took)
		}
	}
	// The library's own log line says why: the refused connection, not only
	// a passed deadline. (go-redis's own lines go through redisLog, which
	// TestRedisLogRoutesGoRedisLinesAndDropsRepeats covers: go-redis has one
	// logger per process, which parallel tests' servers would each replace.)
	waitFor(t, 5*time.Second, "the store's failure and its cause in the log", func() bool {
		after := l.logs.String()[before:]
		return strings.Contains(after, "session: store") && strings.Contains(after, "connection refused")
	})
}

// The example runs on a Redis Cluster from REDIS_CLUSTER_URL: sessions,
// whose keys spread over the three masters, all work.
func TestRedisClusterURL(t *testing.T) {
	t.Parallel()
	c := redistest.NewCluster(t)
	l := startLive(t, map[string]string{"REDIS_CLUSTER_URL": "redis://" + c.Addrs[0] + "?addr=" + c.Addrs[1] + "&addr=" + c.Addrs[2]})
	var cookies []*http.Cookie
	for range 8 {
		cookies = append(cookies, l.mustLogin())
	}
	for i, ck := range cookies {
		if code := l.get("/me", ck); code != http.StatusOK {
			t.Fatalf("session %d: /me %d", i, code)
		}
	}
	if code := l.get("/readyz", nil); code != http.StatusOK {
		t.Fatalf("/readyz: %d", code)
	}
	if !strings.Contains(l.logs.String(), "sessions are kept in Redis Cluster") {
		t.Errorf("the start-up log does not name the cluster:\n%s", l.logs)
	}
}

// The example finds its master through Sentinel from REDIS_SENTINEL_URL.
func TestRedisSentinelURL(t *testing.T) {
	t.Parallel()
	s := redistest.NewSentinel(t)
	l := startLive(t, map[string]string{"REDIS_SENTINEL_URL": sentinelURL(s)})
	cookie := l.mustLogin()
	if code := l.get("/me", cookie); code != http.StatusOK {
		t.Fatalf("/me: %d", code)
	}
	if code := l.get("/readyz", nil); code != http.StatusOK {
		t.Fatalf("/readyz: %d", code)
	}
	if !strings.Contains(l.logs.String(), `sessions are kept in Redis Sentinel`) || !strings.Contains(l.logs.String(), s.MasterName) {
		t.Errorf("the start-up log does not name the Sentinel master:\n%s", l.logs)
	}
}

func sentinelURL(s *redistest.Sentinel) string {
	u := "redis://" + s.Addrs[0] + "?master_name=" + s.MasterName
	for _, a := range s.Addrs[1:] {
		u += "&addr=" + a
	}
	return u
}
