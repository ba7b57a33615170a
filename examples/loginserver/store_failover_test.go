package main

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionauth/session/internal/redistest"
)

// probe keeps asking /me with every session, one request at a time, until
// stopped or for at most a minute, and counts the answers.
type probe struct {
	mu       sync.Mutex
	counts   map[int]int
	last503  time.Time
	first503 time.Time
	stop     chan struct{}
	done     chan struct{}
}

func startProbe(l *live, cookies []*http.Cookie) *probe {
	p := &probe{counts: map[int]int{}, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		deadline := time.Now().Add(time.Minute)
		for i := 0; time.Now().Before(deadline); i++ {
			select {
			case <-p.stop:
				return
			default:
			}
			req, _ := http.NewRequest("GET", l.base+"/me", nil)
			req.AddCookie(cookies[i%len(cookies)])
			code := -1
			if res, err := liveClient.Do(req); err == nil {
				code = res.StatusCode
				res.Body.Close()
			}
			p.mu.Lock()
			p.counts[code]++
			if code == http.StatusServiceUnavailable {
				if p.first503.IsZero() {
					p.first503 = time.Now()
				}
				p.last503 = time.Now()
			}
			p.mu.Unlock()
			time.Sleep(5 * time.Millisecond)
		}
	}()
	return p
}

func (p *probe) finish() (counts map[int]int, first503, last503 time.Time) {
	close(p.stop)
	<-p.done
	return p.counts, p.first503, p.last503
}

// replicated waits until the master's writes so far have reached its
// replica, so that a failover loses none of the sessions made before.
func replicated(t *testing.T, addr string) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	n, err := c.Do(context.Background(), "WAIT", 1, 5000).Int()
	if err != nil || n < 1 {
		t.Fatalf("WAIT on %s: %d replicas, %v", addr, n, err)
	}
}

// allValid reports whether every session answers 200 on /me.
func allValid(l *live, cookies []*http.Cookie) bool {
	for _, c := range cookies {
		if l.get("/me", c) != http.StatusOK {
			return false
		}
	}
	return true
}

// checkFailover fails the test on any answer other than 200 and 503 during
// the failover (a 401 would tell a signed-in client it was signed out), and
// logs the 503s.
func checkFailover(t *testing.T, what string, counts map[int]int, killed, healed, first503, last503 time.Time) {
	t.Helper()
	for code, n := range counts {
		if code != http.StatusOK && code != http.StatusServiceUnavailable {
			t.Errorf("%s: %d answers with status %d (want only 200 and 503)", what, n, code)
		}
	}
	msg := "no 503"
	if !last503.IsZero() {
		msg = "503s from " + first503.Sub(killed).Round(time.Millisecond).String() + " to " + last503.Sub(killed).Round(time.Millisecond).String() +
			" after the kill; the last one " + last503.Sub(healed).Round(time.Millisecond).String() + " after the failover completed"
	}
	t.Logf("%s: %d requests: %d × 200, %d × 503 (%s); failover completed %v after the kill",
		what, counts[200]+counts[503]+counts[401]+counts[-1], counts[200], counts[503], msg, healed.Sub(killed).Round(time.Millisecond))
}

// Through a Sentinel failover (the master killed, its replica promoted) a
// valid session gets 200 or 503, never 401, and every session is intact
// afterwards.
func TestRedisSentinelFailoverKeepsSessions(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("a Sentinel failover takes seconds")
	}
	s := redistest.NewSentinel(t)
	l := startLive(t, map[string]string{"REDIS_SENTINEL_URL": sentinelURL(s)})
	var cookies []*http.Cookie
	for range 4 {
		cookies = append(cookies, l.mustLogin())
	}
	replicated(t, s.MasterAddr(t))

	p := startProbe(l, cookies)
	time.Sleep(200 * time.Millisecond)
	killed := time.Now()
	old := s.KillMaster(t)
	_, healed := s.WaitFailover(t, old, 45*time.Second)
	waitFor(t, 30*time.Second, "every session valid after the failover", func() bool { return allValid(l, cookies) })
	time.Sleep(500 * time.Millisecond)
	counts, first503, last503 := p.finish()
	checkFailover(t, "Sentinel failover", counts, killed, healed, first503, last503)
	if code := l.get("/readyz", nil); code != http.StatusOK {
		t.Errorf("/readyz after the failover: %d", code)
	}
}

// Through a Cluster failover (one master killed, its replica promoted) a
// valid session gets 200 or 503, never 401, and every session is intact
// afterwards.
func TestRedisClusterFailoverKeepsSessions(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("a Cluster failover takes seconds")
	}
	c := redistest.NewClusterWithReplicas(t)
	url := "redis://" + c.Addrs[0] + "?"
	for i, a := range c.Addrs[1:] {
		if i > 0 {
			url += "&"
		}
		url += "addr=" + a
	}
	l := startLive(t, map[string]string{"REDIS_CLUSTER_URL": url})
	var cookies []*http.Cookie
	for range 9 {
		cookies = append(cookies, l.mustLogin())
	}
	masters := c.Masters(t)
	for _, m := range masters {
		replicated(t, m.Addr)
	}

	p := startProbe(l, cookies)
	time.Sleep(200 * time.Millisecond)
	killed := time.Now()
	replica := c.KillMaster(t, masters[0])
	healed := c.WaitPromoted(t, replica, 45*time.Second)
	waitFor(t, 30*time.Second, "every session valid after the failover", func() bool { return allValid(l, cookies) })
	time.Sleep(500 * time.Millisecond)
	counts, first503, last503 := p.finish()
	checkFailover(t, "Cluster failover", counts, killed, healed, first503, last503)
	if code := l.get("/readyz", nil); code != http.StatusOK {
		t.Errorf("/readyz after the failover: %d", code)
	}
}
