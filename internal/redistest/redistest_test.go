package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// fakeTB records Skip and Fatal instead of stopping the goroutine.
type fakeTB struct {
	testing.TB
	skipped, failed string
}

func (f *fakeTB) Helper()               {}
func (f *fakeTB) Skip(args ...any)      { f.skipped = fmt.Sprint(args...) }
func (f *fakeTB) Fatal(args ...any)     { f.failed = fmt.Sprint(args...) }
func (f *fakeTB) Fatalf(string, ...any) { f.failed = "fatalf" }

func TestNeedWithoutBinary(t *testing.T) {
	empty := t.TempDir()
	withFake := t.TempDir()
	if err := os.WriteFile(filepath.Join(withFake, "redis-server"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, ci   string
		want, skip, fail bool
	}{
		{"missing skips", empty, "", false, true, false},
		{"missing under CI fails", empty, "true", false, false, true},
		{"present", withFake, "true", true, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("PATH", tc.path)
			t.Setenv("CI", tc.ci)
			f := &fakeTB{TB: t}
			got := Need(f, "redis-server")
			if got != tc.want || (f.skipped != "") != tc.skip || (f.failed != "") != tc.fail {
				t.Fatalf("Need = %v, skipped %q, failed %q", got, f.skipped, f.failed)
			}
			if msg := f.skipped + f.failed; msg != "" && !strings.Contains(msg, "redis-server not found") {
				t.Fatalf("message does not say what is missing: %q", msg)
			}
		})
	}
}

func TestKillAndRestartOnSamePort(t *testing.T) {
	s := New(t)
	if !s.Owned() {
		t.Skip("REDIS_URL set")
	}
	c := s.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	s.Kill(t)
	if ping(s.Addr) == nil {
		t.Fatal("server still answers after Kill")
	}
	s.Restart(t)
	if err := ping(s.Addr); err != nil {
		t.Fatalf("no answer after Restart: %v", err)
	}
	if n, err := c.Exists(ctx, "k").Result(); err != nil || n != 0 {
		t.Fatalf("after restart: EXISTS = %d, %v; want 0 from the same client", n, err)
	}
}

func TestUnresponsiveAcceptsButNeverAnswers(t *testing.T) {
	t.Parallel()
	addr := Unresponsive(t)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("PING\r\n"))
	c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	var b [1]byte
	if n, err := c.Read(b[:]); n != 0 || err == nil {
		t.Fatalf("read %d bytes, %v; want a timeout", n, err)
	}
}

func TestPrefixIsUnique(t *testing.T) {
	t.Parallel()
	if a, b := Prefix(), Prefix(); a == b || !strings.HasPrefix(a, "t:") {
		t.Fatalf("Prefix() = %q, %q", a, b)
	}
}

func TestPauseStopsAnswersUntilResume(t *testing.T) {
	t.Parallel()
	s := New(t)
	if !s.Owned() {
		t.Skip("REDIS_URL set")
	}
	s.Pause(t)
	if err := ping(s.Addr); err == nil {
		t.Fatal("a paused server answered PING")
	}
	s.Resume(t)
	if err := ping(s.Addr); err != nil {
		t.Fatalf("no answer after Resume: %v", err)
	}
}

func TestClusterWithReplicasFailsOver(t *testing.T) {
	c := NewClusterWithReplicas(t, "--cluster-node-timeout", "1000")
	if len(c.Nodes) != 6 {
		t.Fatalf("%d nodes, want 6", len(c.Nodes))
	}
	masters := c.Masters(t)
	if len(masters) != 3 {
		t.Fatalf("%d masters, want 3", len(masters))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cc := c.Client(t)
	const key = "redistest-key" // any key; its slot decides the shard
	if err := cc.Set(ctx, key, "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	slot, err := cc.ClusterKeySlot(ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	m := c.MasterOf(t, int(slot))
	// The write must reach the replica before the kill, or it is lost.
	if err := redisWait(ctx, m.Addr); err != nil {
		t.Fatal(err)
	}
	pid := m.PID()
	r := c.KillMaster(t, m)
	if m.PID() != 0 || processAlive(pid) {
		t.Fatalf("master process %d still alive after KillMaster", pid)
	}
	c.WaitPromoted(t, r, 30*time.Second)
	if got := c.MasterOf(t, int(slot)); got != r {
		t.Fatalf("slot %d served by %s after failover, want the replica %s", slot, got.Addr, r.Addr)
	}
	direct := r.Client(t)
	if v, err := direct.Get(ctx, key).Result(); err != nil || v != "v" {
		t.Fatalf("promoted replica: GET = %q, %v", v, err)
	}
}

func TestSentinelFailsOver(t *testing.T) {
	s := NewSentinel(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := s.Client(t)
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	old := s.Master(t)
	if old != s.Data[0] {
		t.Fatalf("master is %s, want the first data server", old.Addr)
	}
	if err := redisWait(ctx, old.Addr); err != nil {
		t.Fatal(err)
	}
	pid := old.PID()
	if s.KillMaster(t) != old || processAlive(pid) {
		t.Fatal("KillMaster did not kill the master's process")
	}
	m, _ := s.WaitFailover(t, old, 30*time.Second)
	if m != s.Data[1] {
		t.Fatalf("new master %s, want the replica %s", m.Addr, s.Data[1].Addr)
	}
	if v, err := c.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("through the failover client after failover: GET = %q, %v", v, err)
	}
}

// redisWait blocks until every write on addr so far reached one replica.
func redisWait(ctx context.Context, addr string) error {
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	n, err := c.Do(ctx, "WAIT", 1, 5000).Int()
	if err == nil && n < 1 {
		err = fmt.Errorf("WAIT on %s: %d replicas acknowledged", addr, n)
	}
	return err
}

// processAlive reports whether a process with pid exists (and is not a
// zombie reaped already).
func processAlive(pid int) bool {
	return pid != 0 && syscall.Kill(pid, 0) == nil
}
