package main

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sessionauth/session/internal/redistest"
)

// The environment of an instance of the example on a shared Redis.
func redisInstanceEnv(srv *redistest.Server) []string {
	return []string{
		"REDIS_URL=redis://" + srv.Addr,
		"SESSION_KEYS=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"DEMO_PASSWORD=a long demo passphrase",
	}
}

// signInAs posts one JSON sign-in to the instance, as a client with no
// cookies (an unknown device), and returns the status and Retry-After.
func (s *server) signInAs(user, pw string) (status, retryAfter int) {
	s.t.Helper()
	res, err := liveClient.Post("http://"+s.addr+"/login", "application/json",
		strings.NewReader(`{"username":"`+user+`","password":"`+pw+`"}`))
	if err != nil {
		s.t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	retryAfter, _ = strconv.Atoi(res.Header.Get("Retry-After"))
	return res.StatusCode, retryAfter
}

// stop ends the instance with SIGTERM; it must exit with status 0.
func (s *server) stop() {
	s.t.Helper()
	if _, err := s.terminate(15 * time.Second); err != nil {
		s.t.Fatalf("exit: %v\n%s", err, s.logs)
	}
}

// Two instances of the example (two processes) on one Redis share the
// throttle's counts: wrong guesses split across both add up to the
// account's budget of 10, and then the next attempt on either is refused,
// even with the right password. With counts in memory each would allow 10.
func TestRedisThrottleCountsAreSharedByTwoInstances(t *testing.T) {
	t.Parallel()
	srv := redistest.New(t)
	a, b := startBinary(t, redisInstanceEnv(srv)...), startBinary(t, redisInstanceEnv(srv)...)
	if !strings.Contains(a.logs.String(), "sign-in attempts are counted in Redis") {
		t.Fatalf("start-up log does not say the counts are in Redis:\n%s", a.logs)
	}
	for i := range 10 {
		s := []*server{a, b}[i%2]
		if code, _ := s.signInAs("demo", "a wrong guess, long enough"); code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d, want 401", i+1, code)
		}
	}
	for _, s := range []*server{a, b} {
		code, wait := s.signInAs("demo", "a long demo passphrase")
		if code != http.StatusTooManyRequests || wait < 1 || wait > 60 {
			t.Fatalf("after 10 shared guesses: %d, Retry-After %d; want 429 within a minute", code, wait)
		}
	}
	keys, err := srv.Client(t).Keys(context.Background(), "throttle:*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("no throttle keys in Redis: %v %v", keys, err)
	}
	a.stop()
	b.stop()
}

// A count and its lockout survive restarting the example with Redis: six
// guesses, a restart, four more, and the next is refused; after another
// restart the lockout still holds.
func TestRedisThrottleCountAndLockoutSurviveRestart(t *testing.T) {
	t.Parallel()
	srv := redistest.New(t)
	guess := func(s *server, n int) {
		t.Helper()
		for i := range n {
			if code, _ := s.signInAs("demo", "a wrong guess, long enough"); code != http.StatusUnauthorized {
				t.Fatalf("guess %d: %d, want 401", i+1, code)
			}
		}
	}
	first := startBinary(t, redisInstanceEnv(srv)...)
	guess(first, 6)
	first.stop()

	second := startBinary(t, redisInstanceEnv(srv)...)
	guess(second, 4)
	if code, wait := second.signInAs("demo", "a long demo passphrase"); code != http.StatusTooManyRequests || wait < 1 {
		t.Fatalf("11th attempt after a restart: %d, Retry-After %d; want 429: the count did not survive", code, wait)
	}
	second.stop()

	third := startBinary(t, redisInstanceEnv(srv)...)
	if code, wait := third.signInAs("demo", "a long demo passphrase"); code != http.StatusTooManyRequests || wait < 1 || wait > 60 {
		t.Fatalf("after a second restart: %d, Retry-After %d; want 429: the lockout did not survive", code, wait)
	}
	third.stop()
}
