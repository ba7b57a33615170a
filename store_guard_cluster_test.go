package session_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionauth/session"
	"github.com/sessionauth/session/internal/redistest"
)

// TestRedisClusterDeadShardFailsFast kills one master of a cluster of three
// with replicas and watches the seconds before its replica is promoted
// (the node timeout is 5 s): after the first few failures, requests for
// sessions on the dead shard get their 503 in milliseconds (the store guard
// keeps a breaker per master node), while sessions on the other shards keep
// answering 200. The figures go to the test log (go test -v).
func TestRedisClusterDeadShardFailsFast(t *testing.T) {
	t.Parallel()
	c := redistest.NewClusterWithReplicas(t)
	masters := c.Masters(t)
	if len(masters) != 3 {
		t.Fatalf("%d masters", len(masters))
	}
	o := recommendedRedisOptions("")
	co := c.Options()
	co.ContextTimeoutEnabled, co.DialTimeout, co.DialerRetries = o.ContextTimeoutEnabled, o.DialTimeout, o.DialerRetries
	co.ReadTimeout, co.WriteTimeout, co.PoolTimeout = o.ReadTimeout, o.WriteTimeout, o.PoolTimeout
	co.MaxRetries, co.DisableIdentity = o.MaxRetries, o.DisableIdentity
	client := redis.NewClusterClient(co)
	t.Cleanup(func() { client.Close() })
	keys, err := session.NewKeyRing(session.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	// The default StoreTimeout, stated: the test is about what it costs.
	app := newRedisAppWith(t, client, session.Config{Keys: keys, StoreTimeout: time.Second}, redistest.Prefix())
	ctx := tctx(t)

	type sess struct {
		cookie string
		dead   bool
	}
	var sessions []sess
	var onDead int
	for i := range 30 {
		user := fmt.Sprintf("shard-user-%d", i)
		w, cookie := app.do("POST", "/login?user="+user, "")
		if w.Code != 200 {
			t.Fatalf("login: %d", w.Code)
		}
		entries, err := app.store.ListUser(ctx, user)
		if err != nil || len(entries) != 1 {
			t.Fatalf("ListUser = %d, %v", len(entries), err)
		}
		slot, err := client.ClusterKeySlot(ctx, app.prefix+entries[0].Key).Result()
		if err != nil {
			t.Fatal(err)
		}
		dead := c.MasterOf(t, int(slot)) == masters[0]
		if dead {
			onDead++
		}
		sessions = append(sessions, sess{cookie, dead})
	}
	if onDead == 0 || onDead == len(sessions) {
		t.Fatalf("%d of %d sessions on the shard to kill; want some on each side", onDead, len(sessions))
	}

	type obs struct {
		at   time.Time
		dead bool
		code int
		took time.Duration
	}
	var mu sync.Mutex
	var seen []obs
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < 100000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				s := sessions[i%len(sessions)]
				start := time.Now()
				resp, _ := app.do("GET", "/me", s.cookie)
				mu.Lock()
				seen = append(seen, obs{start, s.dead, resp.Code, time.Since(start)})
				mu.Unlock()
				time.Sleep(time.Millisecond)
			}
		})
	}
	time.Sleep(200 * time.Millisecond)
	killed := time.Now()
	replica := c.KillMaster(t, masters[0])
	// Watch until the cluster marks the master failed (its node timeout,
	// 5 s), then stop: what follows is the failover, tested elsewhere.
	time.Sleep(4 * time.Second)
	close(stop)
	wg.Wait()
	c.WaitPromoted(t, replica, 30*time.Second)

	// The first second after the kill is the few failures that open the
	// dead node's breaker; the next three are what the target is about.
	var dead, other []time.Duration
	codes := map[string]int{}
	for _, o := range seen {
		if o.at.Before(killed.Add(time.Second)) || o.at.After(killed.Add(4*time.Second)) {
			continue
		}
		side := "other"
		if o.dead {
			side = "dead"
			dead = append(dead, o.took)
		} else {
			other = append(other, o.took)
		}
		codes[fmt.Sprintf("%s %d", side, o.code)]++
	}
	slices.Sort(dead)
	slices.Sort(other)
	if len(dead) < 20 || len(other) < 20 {
		t.Fatalf("too few requests in the window: %d dead, %d other", len(dead), len(other))
	}
	p := func(d []time.Duration, q int) time.Duration { return d[len(d)*q/100] }
	t.Logf("1-4 s after the kill: %v; dead shard p50 %v p90 %v max %v; other shards p50 %v max %v",
		codes, p(dead, 50), p(dead, 90), dead[len(dead)-1], p(other, 50), other[len(other)-1])
	if codes["dead 200"] > 0 || codes["dead 401"] > 0 || codes["other 401"] > 0 || codes["other 503"] > 0 {
		t.Errorf("answers 1-4 s after the kill: %v; want 503 for the dead shard, 200 for the others", codes)
	}
	// Generous bounds (the target: milliseconds): without the per-node
	// breaker every one of these waits for the whole StoreTimeout.
	if p(dead, 50) > 100*time.Millisecond || p(dead, 90) > 500*time.Millisecond {
		t.Errorf("dead shard's 503s p50 %v p90 %v; want them fast once its breaker is open", p(dead, 50), p(dead, 90))
	}
}
