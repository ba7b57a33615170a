package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/sessionauth/session"
	"github.com/sessionauth/session/internal/redistest"
)

func TestRedisURLErrorsNeverShowPassword(t *testing.T) {
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
