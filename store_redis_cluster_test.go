package session_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionauth/session"
	"github.com/sessionauth/session/internal/redistest"
)

// failoverLog records the failures one kind of client saw during a
// failover, per shard.
type failoverLog struct {
	mu     sync.Mutex
	fails  map[int]int
	last   map[int]time.Time
	ok     int
	wrong  []string // outcomes that must never happen
	shards int
}

func newFailoverLog(shards int) *failoverLog {
	return &failoverLog{fails: map[int]int{}, last: map[int]time.Time{}, shards: shards}
}

func (l *failoverLog) fail(shard int, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fails[shard]++
	if at.After(l.last[shard]) {
		l.last[shard] = at
	}
}

func (l *failoverLog) success() {
	l.mu.Lock()
	l.ok++
	l.mu.Unlock()
}

func (l *failoverLog) bad(msg string) {
	l.mu.Lock()
	if len(l.wrong) < 10 {
		l.wrong = append(l.wrong, msg)
	}
	l.mu.Unlock()
}

// lastFail returns the latest failure on any shard, or the zero time.
func (l *failoverLog) lastFail() time.Time {
	var t time.Time
	for _, at := range l.last {
		if at.After(t) {
			t = at
		}
	}
	return t
}

func (l *failoverLog) summary(killed, promoted time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d ok;", l.ok)
	for sh := range l.shards {
		fmt.Fprintf(&b, " shard %d: %d failed", sh, l.fails[sh])
		if at, ok := l.last[sh]; ok {
			fmt.Fprintf(&b, " (last %.2fs after the kill, %+.2fs after promotion)", at.Sub(killed).Seconds(), at.Sub(promoted).Seconds())
		}
		b.WriteString(";")
	}
	return b.String()
}

// TestRedisClusterFailoverRecoversInSeconds kills one master of a cluster of
// three masters with a replica each, under a bounded load through a Manager
// (RequireAuth answers 503 while the shard is down, never 401) and straight
// through a second RedisStore with its own cluster client. Both use the
// go-redis defaults, where the slot map is reloaded only every minute; the
// store's reload after errors must bring them back within seconds of the
// promotion, and every session, those on the promoted replica included, must
// still be valid. The other shards fail only while the whole cluster answers
// CLUSTERDOWN, between the master being marked failed and the promotion.
func TestRedisClusterFailoverRecoversInSeconds(t *testing.T) {
	t.Parallel()
	c := redistest.NewClusterWithReplicas(t, "--cluster-node-timeout", "3000")
	ctx := tctx(t)
	masters := c.Masters(t)
	if len(masters) != 3 {
		t.Fatalf("%d masters", len(masters))
	}
	shardOf := func(m *redistest.Server) int {
		for i, x := range masters {
			if x == m {
				return i
			}
		}
		t.Fatalf("%s is not a master", m.Addr)
		return -1
	}

	// The app under load: a Manager on a store on a cluster client with
	// go-redis's default options.
	app := newRedisApp(t, c.Client(t))
	direct := redis.NewClusterClient(c.Options())
	t.Cleanup(func() { direct.Close() })
	store := session.NewRedisStore(direct, session.RedisConfig{KeyPrefix: app.prefix})

	type sess struct {
		cookie, key string
		shard       int
	}
	const users = 60
	var sessions []sess
	for i := range users {
		user := fmt.Sprintf("fo-user-%d", i)
		w, cookie := app.do("POST", "/login?user="+user, "")
		if w.Code != 200 || cookie == "" {
			t.Fatalf("login: %d", w.Code)
		}
		entries, err := app.store.ListUser(ctx, user)
		if err != nil || len(entries) != 1 {
			t.Fatalf("ListUser(%s) = %d entries, %v", user, len(entries), err)
		}
		slot, err := direct.ClusterKeySlot(ctx, app.prefix+entries[0].Key).Result()
		if err != nil {
			t.Fatal(err)
		}
		sessions = append(sessions, sess{cookie, entries[0].Key, shardOf(c.MasterOf(t, int(slot)))})
	}
	var perShard [3]int
	for _, s := range sessions {
		perShard[s.shard]++
	}
	for sh, n := range perShard {
		if n == 0 {
			t.Fatalf("no session on shard %d (%v)", sh, perShard)
		}
	}
	// Every session must be on the replicas before the kill, or the
	// failover loses it (Redis replication is asynchronous).
	for _, m := range masters {
		n, err := redis.NewClient(&redis.Options{Addr: m.Addr}).Do(ctx, "WAIT", 1, 5000).Int()
		if err != nil || n < 1 {
			t.Fatalf("WAIT on %s: %d, %v", m.Addr, n, err)
		}
	}

	const victimShard = 0
	victim := masters[victimShard]
	httpLog, storeLog := newFailoverLog(3), newFailoverLog(3)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	const workers = 2 // each kind; bounded by the stop channel and loadCap
	const loadCap = 60 * time.Second
	loadEnd := time.Now().Add(loadCap)
	for w := range workers {
		wg.Go(func() { // through the Manager
			for i := w; time.Now().Before(loadEnd); i++ {
				select {
				case <-stop:
					return
				default:
				}
				s := sessions[i%len(sessions)]
				resp, _ := app.do("GET", "/me", s.cookie)
				switch resp.Code {
				case 200:
					httpLog.success()
				case 503:
					httpLog.fail(s.shard, time.Now())
				default:
					httpLog.bad(fmt.Sprintf("GET /me on shard %d: %d", s.shard, resp.Code))
				}
				time.Sleep(time.Millisecond) // bounded load, not a flood
			}
		})
		wg.Go(func() { // straight through the store
			for i := w; time.Now().Before(loadEnd); i++ {
				select {
				case <-stop:
					return
				default:
				}
				s := sessions[i%len(sessions)]
				rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				_, err := store.Get(rctx, s.key)
				cancel()
				switch {
				case err == nil:
					storeLog.success()
				case errors.Is(err, session.ErrNotFound):
					storeLog.bad(fmt.Sprintf("Get on shard %d: not found", s.shard))
				default:
					storeLog.fail(s.shard, time.Now())
				}
				time.Sleep(time.Millisecond)
			}
		})
	}
	time.Sleep(300 * time.Millisecond) // load running before the kill
	killed := time.Now()
	replica := c.KillMaster(t, victim)
	promoted := c.WaitPromoted(t, replica, 30*time.Second)
	// Keep the load on until neither kind has failed for 3 s, or 15 s
	// after the promotion.
	for time.Since(promoted) < 15*time.Second {
		quiet := func(l *failoverLog) bool {
			l.mu.Lock()
			defer l.mu.Unlock()
			return time.Since(l.lastFail()) > 3*time.Second
		}
		if quiet(httpLog) && quiet(storeLog) && time.Since(promoted) > 3*time.Second {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	close(stop)
	wg.Wait()

	t.Logf("promotion %.2fs after the kill", promoted.Sub(killed).Seconds())
	t.Logf("through the Manager: %s", httpLog.summary(killed, promoted))
	t.Logf("through the store:   %s", storeLog.summary(killed, promoted))
	for _, l := range []*failoverLog{httpLog, storeLog} {
		if len(l.wrong) > 0 {
			t.Errorf("outcomes that must never happen: %v", l.wrong)
		}
		// The other shards fail only while the cluster is down as a whole
		// (CLUSTERDOWN from the moment the master is marked failed until
		// its replica is promoted, with the default
		// cluster-require-full-coverage yes).
		for sh := range 3 {
			if at, ok := l.last[sh]; sh != victimShard && ok && at.Sub(promoted) > time.Second {
				t.Errorf("shard %d, not the one killed, failed %.2fs after the promotion", sh, at.Sub(promoted).Seconds())
			}
		}
		if l.fails[victimShard] == 0 {
			t.Errorf("no failure on the killed shard: the load did not reach it")
		}
		// Recovery within a few seconds of the promotion (go-redis alone:
		// up to its 60 s reload interval).
		if after := l.lastFail().Sub(promoted); after > 3*time.Second {
			t.Errorf("last failure %.2fs after the promotion, want under 3s", after.Seconds())
		}
	}

	// Every session is still valid, those on the promoted replica included.
	for _, s := range sessions {
		if w, _ := app.do("GET", "/me", s.cookie); w.Code != 200 {
			t.Errorf("session on shard %d after the failover: %d", s.shard, w.Code)
		}
		if _, err := store.Get(ctx, s.key); err != nil {
			t.Errorf("Get of a session on shard %d after the failover: %v", s.shard, err)
		}
	}
}
