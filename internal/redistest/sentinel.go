package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// sentinelMaster is the name the sentinels monitor the master under.
const sentinelMaster = "redistest"

// Sentinel is a Redis Sentinel setup on loopback ports: one master, one
// replica and three sentinels with a quorum of two. The sentinels declare
// the master down after one second without an answer. Every process is
// stopped when the test ends.
type Sentinel struct {
	// MasterName is the name the sentinels know the master by, for
	// redis.FailoverOptions.
	MasterName string
	// Addrs are the sentinels' addresses, for redis.FailoverOptions.
	Addrs []string
	// Data are the two data servers: the first starts as master, the second
	// as its replica. After a failover their roles are swapped; ask
	// MasterAddr.
	Data []*Server
	// Sentinels are the sentinel processes, in the order of Addrs.
	Sentinels []*Server
}

// sentinelBinary returns the binary and leading arguments that run a
// sentinel: redis-sentinel when installed (Debian package redis-sentinel),
// else redis-server in sentinel mode.
func sentinelBinary() (string, []string) {
	if _, err := exec.LookPath("redis-sentinel"); err == nil {
		return "redis-sentinel", nil
	}
	return "redis-server", []string{"--sentinel"}
}

// NewSentinel starts a master, its replica and three sentinels, and waits
// until the replica is in sync and every sentinel knows the replica and the
// two other sentinels, so that a failover can happen. It ignores REDIS_URL.
// It uses redis-sentinel when it is on PATH and redis-server --sentinel
// otherwise; without redis-server it skips (fails under CI=true).
func NewSentinel(t testing.TB) *Sentinel {
	t.Helper()
	Need(t, "redis-server")
	s := &Sentinel{MasterName: sentinelMaster}
	master := start(t)
	replica := start(t, "--replicaof", "127.0.0.1", portOf(t, master.Addr))
	s.Data = []*Server{master, replica}

	bin, lead := sentinelBinary()
	for range 3 {
		dir := t.TempDir()
		sn, err := startBin(bin, func(port int) ([]string, error) {
			conf := filepath.Join(dir, "sentinel.conf")
			text := fmt.Sprintf(`port %d
bind 127.0.0.1
daemonize no
dir %s
logfile ""
sentinel monitor %s 127.0.0.1 %s 2
sentinel down-after-milliseconds %s 1000
sentinel failover-timeout %s 10000
sentinel parallel-syncs %s 1
`, port, dir, sentinelMaster, portOf(t, master.Addr), sentinelMaster, sentinelMaster, sentinelMaster)
			if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
				return nil, err
			}
			return append([]string{conf}, lead...), nil
		})
		if err != nil {
			t.Fatalf("redistest: %v", err)
		}
		t.Cleanup(sn.Stop)
		s.Sentinels = append(s.Sentinels, sn)
		s.Addrs = append(s.Addrs, sn.Addr)
	}

	deadline := time.Now().Add(clusterTimeout)
	for !s.ready() {
		if time.Now().After(deadline) {
			t.Fatalf("redistest: sentinels did not discover the replica and each other within %v", clusterTimeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return s
}

func portOf(t testing.TB, addr string) string {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// ready reports whether the replica is in sync and every sentinel sees the
// master up, one replica and two other sentinels.
func (s *Sentinel) ready() bool {
	info, err := replicationInfo(s.Data[1].Addr)
	if err != nil || !strings.Contains(info, "master_link_status:up") {
		return false
	}
	for _, addr := range s.Addrs {
		m, err := sentinelMasterInfo(addr)
		if err != nil ||
			m["flags"] != "master" ||
			m["num-slaves"] != "1" ||
			m["num-other-sentinels"] != "2" {
			return false
		}
	}
	return true
}

func sentinelMasterInfo(addr string) (map[string]string, error) {
	c := redis.NewSentinelClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return c.Master(ctx, sentinelMaster).Result()
}

// FailoverOptions returns options for redis.NewFailoverClient that find the
// master through the sentinels (a copy the caller may change).
func (s *Sentinel) FailoverOptions() *redis.FailoverOptions {
	return &redis.FailoverOptions{
		MasterName:    s.MasterName,
		SentinelAddrs: append([]string(nil), s.Addrs...),
	}
}

// Client returns a failover client that follows the master through the
// sentinels, closed when the test ends.
func (s *Sentinel) Client(t testing.TB) *redis.Client {
	c := redis.NewFailoverClient(s.FailoverOptions())
	t.Cleanup(func() { c.Close() })
	return c
}

// MasterAddr returns the master's address as the first answering sentinel
// reports it.
func (s *Sentinel) MasterAddr(t testing.TB) string {
	t.Helper()
	var lastErr error
	for _, sn := range s.Sentinels {
		if sn.PID() == 0 {
			continue
		}
		addr, err := sentinelMasterAddr(sn.Addr)
		if err == nil {
			return addr
		}
		lastErr = err
	}
	t.Fatalf("redistest: no sentinel names the master: %v", lastErr)
	return ""
}

func sentinelMasterAddr(addr string) (string, error) {
	c := redis.NewSentinelClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	hp, err := c.GetMasterAddrByName(ctx, sentinelMaster).Result()
	if err != nil {
		return "", err
	}
	if len(hp) != 2 {
		return "", fmt.Errorf("redistest: sentinel answered %q", hp)
	}
	return net.JoinHostPort(hp[0], hp[1]), nil
}

// Master returns the data server that the sentinels name as master now.
func (s *Sentinel) Master(t testing.TB) *Server {
	t.Helper()
	addr := s.MasterAddr(t)
	for _, d := range s.Data {
		if d.Addr == addr {
			return d
		}
	}
	t.Fatalf("redistest: sentinels name unknown master %s", addr)
	return nil
}

// KillMaster kills the current master's process by its PID (SIGKILL, as a
// crash would) and returns it; see WaitFailover.
func (s *Sentinel) KillMaster(t testing.TB) *Server {
	t.Helper()
	m := s.Master(t)
	m.Kill(t)
	return m
}

// WaitFailover waits up to timeout until every live sentinel names a master
// other than old and that server answers as a master, and returns it with
// the time the failover was first seen complete.
func (s *Sentinel) WaitFailover(t testing.TB, old *Server, timeout time.Duration) (*Server, time.Time) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if m := s.failedOver(old); m != nil {
			return m, time.Now()
		}
		if time.Now().After(deadline) {
			t.Fatalf("redistest: no failover from %s within %v", old.Addr, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *Sentinel) failedOver(old *Server) *Server {
	var addr string
	for _, sn := range s.Sentinels {
		if sn.PID() == 0 {
			continue
		}
		a, err := sentinelMasterAddr(sn.Addr)
		if err != nil || a == old.Addr || (addr != "" && a != addr) {
			return nil
		}
		addr = a
	}
	for _, d := range s.Data {
		if d.Addr != addr {
			continue
		}
		info, err := replicationInfo(d.Addr)
		if err == nil && strings.Contains(info, "role:master") {
			return d
		}
	}
	return nil
}
