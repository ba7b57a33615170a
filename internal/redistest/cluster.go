package redistest

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// clusterTimeout bounds cluster creation and every wait for the cluster to
// settle.
const clusterTimeout = time.Minute

// Cluster is a Redis Cluster on loopback ports whose processes are stopped
// when the test ends.
type Cluster struct {
	// Addrs are the addresses of every node (masters and replicas), for
	// redis.ClusterOptions.
	Addrs []string
	// Nodes are the node processes, in the order of Addrs.
	Nodes []*Server
}

// NewCluster starts three redis-server processes with cluster mode on, joins
// them as three masters without replicas with redis-cli --cluster create and
// waits until every node reports cluster_state:ok. It ignores REDIS_URL.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	return newCluster(t, 3, 0)
}

// NewClusterWithReplicas starts a cluster of three masters each with one
// replica (six processes), so that killing a master (KillMaster) makes its
// replica take over after the node timeout. extra is appended to every
// node's arguments; the node timeout is 5 s unless extra sets
// "--cluster-node-timeout". It waits until every node reports
// cluster_state:ok and every replica is in sync with its master. It ignores
// REDIS_URL.
func NewClusterWithReplicas(t testing.TB, extra ...string) *Cluster {
	t.Helper()
	return newCluster(t, 6, 1, extra...)
}

func newCluster(t testing.TB, nodes, replicas int, extra ...string) *Cluster {
	t.Helper()
	Need(t, "redis-server", "redis-cli")
	c := &Cluster{}
	for range nodes {
		bus, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		args := []string{
			"--cluster-enabled", "yes",
			"--cluster-port", strconv.Itoa(bus),
			"--cluster-config-file", "nodes-" + strconv.Itoa(bus) + ".conf",
			"--cluster-node-timeout", "5000",
		}
		s := start(t, append(args, extra...)...)
		c.Addrs = append(c.Addrs, s.Addr)
		c.Nodes = append(c.Nodes, s)
	}
	args := append([]string{"--cluster", "create"}, c.Addrs...)
	args = append(args, "--cluster-replicas", strconv.Itoa(replicas), "--cluster-yes")
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "redis-cli", args...).CombinedOutput(); err != nil {
		t.Fatalf("redistest: redis-cli --cluster create: %v\n%s", err, out)
	}
	deadline := time.Now().Add(clusterTimeout)
	for !c.settled(nodes, nodes/(replicas+1)) {
		if time.Now().After(deadline) {
			t.Fatalf("redistest: cluster did not settle within %v", clusterTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return c
}

// settled reports whether every node sees all n nodes, masters masters and
// cluster_state:ok, and every replica's link to its master is up.
func (c *Cluster) settled(n, masters int) bool {
	for _, s := range c.Nodes {
		if !clusterOK(s.Addr) {
			return false
		}
		nodes, err := clusterNodes(s.Addr)
		if err != nil || len(nodes) != n {
			return false
		}
		m := 0
		for _, nd := range nodes {
			if nd.failing() {
				return false
			}
			if nd.master() {
				m++
			}
		}
		if m != masters {
			return false
		}
		if info, err := replicationInfo(s.Addr); err != nil ||
			(strings.Contains(info, "role:slave") && !strings.Contains(info, "master_link_status:up")) {
			return false
		}
	}
	return true
}

func clusterOK(addr string) bool {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	info, err := c.ClusterInfo(ctx).Result()
	return err == nil && strings.Contains(info, "cluster_state:ok")
}

func replicationInfo(addr string) (string, error) {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return c.Info(ctx, "replication").Result()
}

// clusterNode is one line of CLUSTER NODES.
type clusterNode struct {
	id, addr, flags, masterID string
	slots                     [][2]int
}

func (n clusterNode) master() bool  { return strings.Contains(n.flags, "master") }
func (n clusterNode) failing() bool { return strings.Contains(n.flags, "fail") }

// clusterNodes asks addr for CLUSTER NODES and parses it.
func clusterNodes(addr string) ([]clusterNode, error) {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	text, err := c.ClusterNodes(ctx).Result()
	if err != nil {
		return nil, err
	}
	var nodes []clusterNode
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 {
			return nil, fmt.Errorf("redistest: short CLUSTER NODES line %q", line)
		}
		n := clusterNode{id: f[0], addr: f[1], flags: f[2], masterID: f[3]}
		if i := strings.IndexByte(n.addr, '@'); i >= 0 {
			n.addr = n.addr[:i]
		}
		for _, r := range f[8:] {
			if strings.HasPrefix(r, "[") { // a slot being migrated
				continue
			}
			lo, hi, ok := strings.Cut(r, "-")
			if !ok {
				hi = lo
			}
			a, err1 := strconv.Atoi(lo)
			b, err2 := strconv.Atoi(hi)
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("redistest: bad slot range %q", r)
			}
			n.slots = append(n.slots, [2]int{a, b})
		}
		nodes = append(nodes, n)
	}
	return nodes, nil
}

// Options returns cluster client options seeded with every node (a copy the
// caller may change, for example to shorten timeouts).
func (c *Cluster) Options() *redis.ClusterOptions {
	return &redis.ClusterOptions{Addrs: append([]string(nil), c.Addrs...)}
}

// Client returns a cluster client for the cluster, closed when the test ends.
func (c *Cluster) Client(t testing.TB) *redis.ClusterClient {
	cc := redis.NewClusterClient(c.Options())
	t.Cleanup(func() { cc.Close() })
	return cc
}

// Node returns the node process listening on addr, or nil.
func (c *Cluster) Node(addr string) *Server {
	for _, s := range c.Nodes {
		if s.Addr == addr {
			return s
		}
	}
	return nil
}

// topology returns CLUSTER NODES as seen by the first live node.
func (c *Cluster) topology(t testing.TB) []clusterNode {
	t.Helper()
	var lastErr error
	for _, s := range c.Nodes {
		if s.PID() == 0 {
			continue
		}
		nodes, err := clusterNodes(s.Addr)
		if err == nil {
			return nodes
		}
		lastErr = err
	}
	t.Fatalf("redistest: no live cluster node answers CLUSTER NODES: %v", lastErr)
	return nil
}

// Masters returns the nodes that are masters now, as a live node sees them,
// ordered by their first slot.
func (c *Cluster) Masters(t testing.TB) []*Server {
	t.Helper()
	var live []clusterNode
	for _, n := range c.topology(t) {
		if n.master() && !n.failing() && len(n.slots) > 0 {
			live = append(live, n)
		}
	}
	slices.SortFunc(live, func(a, b clusterNode) int { return a.slots[0][0] - b.slots[0][0] })
	ms := make([]*Server, 0, len(live))
	for _, n := range live {
		s := c.Node(n.addr)
		if s == nil {
			t.Fatalf("redistest: unknown node %s", n.addr)
		}
		ms = append(ms, s)
	}
	return ms
}

// MasterOf returns the node that is master of slot now.
func (c *Cluster) MasterOf(t testing.TB, slot int) *Server {
	t.Helper()
	for _, n := range c.topology(t) {
		if !n.master() || n.failing() {
			continue
		}
		for _, r := range n.slots {
			if slot >= r[0] && slot <= r[1] {
				return c.Node(n.addr)
			}
		}
	}
	t.Fatalf("redistest: no live master serves slot %d", slot)
	return nil
}

// ReplicaOf returns a replica of master, or nil when it has none.
func (c *Cluster) ReplicaOf(t testing.TB, master *Server) *Server {
	t.Helper()
	nodes := c.topology(t)
	var id string
	for _, n := range nodes {
		if n.addr == master.Addr {
			id = n.id
		}
	}
	for _, n := range nodes {
		if id != "" && n.masterID == id && !n.failing() {
			return c.Node(n.addr)
		}
	}
	return nil
}

// KillMaster kills master's process by its PID (SIGKILL, as a crash would)
// and returns its replica, which the cluster promotes once the node timeout
// has passed; see WaitPromoted. It fails the test when master has no replica.
func (c *Cluster) KillMaster(t testing.TB, master *Server) *Server {
	t.Helper()
	r := c.ReplicaOf(t, master)
	if r == nil {
		t.Fatalf("redistest: %s has no replica to take over", master.Addr)
	}
	master.Kill(t)
	return r
}

// WaitPromoted waits up to timeout until replica reports itself master with
// slots and every live node reports cluster_state:ok, and returns the time
// it first saw both.
func (c *Cluster) WaitPromoted(t testing.TB, replica *Server, timeout time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if c.promoted(replica) {
			return time.Now()
		}
		if time.Now().After(deadline) {
			t.Fatalf("redistest: %s not promoted within %v", replica.Addr, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (c *Cluster) promoted(replica *Server) bool {
	nodes, err := clusterNodes(replica.Addr)
	if err != nil {
		return false
	}
	self := false
	for _, n := range nodes {
		if strings.Contains(n.flags, "myself") {
			self = n.master() && len(n.slots) > 0
		}
	}
	if !self {
		return false
	}
	for _, s := range c.Nodes {
		if s.PID() != 0 && !clusterOK(s.Addr) {
			return false
		}
	}
	return true
}
