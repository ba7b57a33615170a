package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionauth/session"
	"github.com/sessionauth/session/internal/redistest"
)

func envFunc(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadConfig(t *testing.T) {
	t.Parallel()
	key := "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" // 32 bytes, base64
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
		check   func(t *testing.T, c config)
	}{
		{"defaults", nil, "", func(t *testing.T, c config) {
			if c.Addr != "localhost:8080" || !c.KeysGenerated || c.Keys == nil || c.IdleTimeout != 0 || c.Lifetime != 0 ||
				c.DemoUser != "demo" || c.DemoPassword != defaultDemoPassword || c.DemoPasswordSet || c.InsecureCookies {
				t.Fatalf("%+v", c)
			}
		}},
		{"everything", map[string]string{
			"ADDR": "127.0.0.1:9999", "SESSION_KEYS": key + ",ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=", "SESSION_IDLE_TIMEOUT": "45m",
			"SESSION_LIFETIME": "24h", "DEMO_USER": "Ann", "DEMO_PASSWORD": "another long passphrase", "INSECURE_COOKIES": "1",
		}, "", func(t *testing.T, c config) {
			if c.Addr != "127.0.0.1:9999" || c.KeysGenerated || c.Keys.Len() != 2 || c.IdleTimeout != 45*time.Minute ||
				c.Lifetime != 24*time.Hour || c.DemoUser != "Ann" || !c.DemoPasswordSet || !c.InsecureCookies {
				t.Fatalf("%+v", c)
			}
		}},
		{"bad keys", map[string]string{"SESSION_KEYS": "c2hvcnQ="}, "SESSION_KEYS", nil},
		{"bad idle", map[string]string{"SESSION_IDLE_TIMEOUT": "30"}, "SESSION_IDLE_TIMEOUT", nil},
		{"tiny lifetime", map[string]string{"SESSION_LIFETIME": "1ms"}, "SESSION_LIFETIME", nil},
		{"bad insecure", map[string]string{"INSECURE_COOKIES": "yes please"}, "INSECURE_COOKIES", nil},
		{"bad demo user", map[string]string{"DEMO_USER": "a b"}, "DEMO_USER", nil},
		{"weak demo password", map[string]string{"DEMO_PASSWORD": "pw12345"}, "DEMO_PASSWORD", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := loadConfig(envFunc(tc.env))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one about %s", err, tc.wantErr)
				}
				for _, secret := range []string{"SESSION_KEYS", "DEMO_PASSWORD"} {
					if v := tc.env[secret]; v != "" && strings.Contains(err.Error(), v) {
						t.Fatalf("error %q repeats %s", err, secret)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}

func TestDemoUserIDStableAcrossRestarts(t *testing.T) {
	t.Parallel()
	a, err := newMemoryUsers().addDemo("demo", "h1")
	if err != nil {
		t.Fatal(err)
	}
	b, err := newMemoryUsers().addDemo("demo", "h2")
	if err != nil {
		t.Fatal(err)
	}
	c, err := newMemoryUsers().addDemo("someone", "h1")
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != b.ID || a.ID == c.ID {
		t.Fatalf("IDs %q %q %q: want the first two equal, the third different", a.ID, b.ID, c.ID)
	}
	// Registered users get random IDs.
	u1, _ := newMemoryUsers().Create(context.Background(), "x1x", "h")
	u2, _ := newMemoryUsers().Create(context.Background(), "x1x", "h")
	if u1.ID == u2.ID {
		t.Fatal("registered users' IDs repeat")
	}
}

func TestRedisURLErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ url, want string }{
		{"http://127.0.0.1:6379", "REDIS_URL does not parse: want redis://"},
		{"redis://user:s3cret-pw@127.0.0.1:notaport", "REDIS_URL does not parse: want redis://"},
		{"redis://:s3cret-pw@127.0.0.1:1", "REDIS_URL: cannot reach Redis at 127.0.0.1:1"},
	} {
		err := run(context.Background(), envFunc(map[string]string{"ADDR": "127.0.0.1:0", "REDIS_URL": tc.url}), io.Discard, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("REDIS_URL=%q: err = %v, want %q", tc.url, err, tc.want)
		} else if strings.Contains(err.Error(), "s3cret-pw") {
			t.Errorf("error %q shows the Redis password", err)
		}
	}
}

// startRun runs the server with env until the test ends and returns its
// address and log.
func startRun(t *testing.T, env map[string]string) (addr string, logs *syncBuffer, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs = &syncBuffer{}
	addrc := make(chan string, 1)
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, envFunc(env), logs, func(a string) { addrc <- a }) }()
	select {
	case addr = <-addrc:
	case err := <-errc:
		cancel()
		t.Fatalf("run: %v\n%s", err, logs)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-errc; err != nil {
				t.Errorf("run returned %v after shutdown", err)
			}
		})
	}
	t.Cleanup(stop)
	return addr, logs, stop
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
		if c.Name == session.DefaultCookieName {
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
	if !strings.Contains(logs.String(), "sessions are kept in Redis") {
		t.Errorf("start-up log does not say sessions are in Redis:\n%s", logs)
	}

	addr2, _, _ := startRun(t, env)
	code, after := me(addr2)
	if code != http.StatusOK || after != before {
		t.Fatalf("/me after restart: %d %s, want 200 %s", code, after, before)
	}
}

// run serves on loopback, logs where to go and how to sign in, and shuts
// down cleanly when its context ends.
func TestRunServesAndShutsDown(t *testing.T) {
	t.Parallel()
	for _, setPassword := range []bool{false, true} {
		env := map[string]string{"ADDR": "127.0.0.1:0"}
		if setPassword {
			env["DEMO_PASSWORD"] = "a secret demo passphrase"
		}
		ctx, cancel := context.WithCancel(context.Background())
		logs := &syncBuffer{}
		addrc := make(chan string, 1)
		errc := make(chan error, 1)
		go func() { errc <- run(ctx, envFunc(env), logs, func(a string) { addrc <- a }) }()
		var addr string
		select {
		case addr = <-addrc:
		case err := <-errc:
			t.Fatalf("run: %v", err)
		}
		res, err := http.Get("http://" + addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "login-form") {
			t.Fatalf("GET /: %d", res.StatusCode)
		}
		cancel()
		if err := <-errc; err != nil {
			t.Fatalf("run returned %v after shutdown", err)
		}
		out := logs.String()
		for _, want := range []string{"SESSION_KEYS is not set", "a restart signs everyone out", "msg=listening", "url=http://" + addr + "/", "demo_user=demo", "shutting down"} {
			if !strings.Contains(out, want) {
				t.Errorf("log lacks %q:\n%s", want, out)
			}
		}
		if setPassword {
			if strings.Contains(out, "a secret demo passphrase") || strings.Contains(string(body), "a secret demo passphrase") {
				t.Fatal("DEMO_PASSWORD was printed")
			}
		} else if !strings.Contains(out, defaultDemoPassword) || !strings.Contains(string(body), defaultDemoPassword) {
			t.Fatal("the default demo password is not shown")
		}
	}
}

func TestInsecureCookies(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *appConfig) { c.Sessions.Cookie.DisableSecure = true })
	r := e.browser("192.0.2.1:1").login(testUser, testPassword)
	wantStatus(t, r, http.StatusOK)
	var found bool
	for _, c := range r.Cookies() {
		if c.Name == "sid" {
			found = true
			if c.Secure || !c.HttpOnly {
				t.Fatalf("cookie %+v", c)
			}
		}
	}
	if !found {
		t.Fatalf("no %q cookie: %v", "sid", r.Header["Set-Cookie"])
	}
}
