// Package redistest starts throwaway Redis servers, clusters (with or
// without replicas) and Sentinel setups for tests, and kills their processes
// by PID to inject failures.
//
// Every server listens on a free loopback port, keeps no data on disk
// (--save "" --appendonly no unless the caller adds other arguments) and is
// stopped by t.Cleanup. NewClusterWithReplicas and NewSentinel build
// topologies that can fail over (KillMaster, then WaitPromoted or
// WaitFailover); every wait is bounded. When REDIS_URL is set, New returns
// that server instead of starting one; such a server cannot be killed or
// restarted, so fault tests skip. When the redis-server (or, for clusters,
// redis-cli) binary is missing the test is skipped with a message saying so,
// except under CI=true, where it fails: CI must never silently skip the Redis
// tests. Sentinels run as redis-sentinel when it is installed and as
// redis-server --sentinel otherwise.
//
// Tests that share one server keep apart by using Prefix as their key prefix,
// so nothing here ever flushes a database.
package redistest

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// startTimeout bounds how long a server may take to answer PING after start.
const startTimeout = 15 * time.Second

// Server is a Redis server for one test: either a process this package
// started (Owned reports true) or the one named by REDIS_URL.
type Server struct {
	// Addr is the server's host:port.
	Addr string

	opts *redis.Options
	bin  string   // binary to run; "redis-server" when empty
	args []string // full argument list, for Restart

	mu   sync.Mutex
	cmd  *exec.Cmd
	out  *bytes.Buffer
	done chan struct{}
}

// Need reports whether the named binaries are on PATH. When one is missing it
// skips the test, or fails it when CI=true, and returns false.
func Need(t testing.TB, binaries ...string) bool {
	t.Helper()
	for _, b := range binaries {
		if _, err := exec.LookPath(b); err != nil {
			msg := fmt.Sprintf("redistest: %s not found on PATH; install the redis-server package (Debian: apt-get install redis-server) or set REDIS_URL", b)
			if os.Getenv("CI") == "true" {
				t.Fatal(msg + " (CI=true: Redis tests must run)")
			} else {
				t.Skip(msg)
			}
			return false
		}
	}
	return true
}

// New returns the Redis server of REDIS_URL if it is set, or else starts a
// throwaway redis-server with extra appended to its default arguments (later
// arguments win, so "--appendonly", "yes" turns persistence on). The server is
// stopped when the test ends.
func New(t testing.TB, extra ...string) *Server {
	t.Helper()
	if u := os.Getenv("REDIS_URL"); u != "" {
		opts, err := redis.ParseURL(u)
		if err != nil {
			t.Fatalf("redistest: REDIS_URL: %v", err)
		}
		return &Server{Addr: opts.Addr, opts: opts}
	}
	return start(t, extra...)
}

// start launches a throwaway redis-server for one test, stopped when the
// test ends.
func start(t testing.TB, extra ...string) *Server {
	t.Helper()
	Need(t, "redis-server")
	s, err := Start(t.TempDir(), extra...)
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// Start launches redis-server on a free loopback port with no persistence
// (extra is appended to the arguments; later ones win) and waits until it
// answers PING. dir is its working directory. It is for code that outlives
// one test, such as a TestMain; the caller must call Stop. It retries with
// a new port if the one picked was taken in the meantime.
func Start(dir string, extra ...string) (*Server, error) {
	return startBin("redis-server", func(port int) ([]string, error) {
		args := []string{
			"--port", strconv.Itoa(port),
			"--bind", "127.0.0.1",
			"--save", "",
			"--appendonly", "no",
			"--daemonize", "no",
			"--dir", dir,
			"--logfile", "",
		}
		return append(args, extra...), nil
	})
}

// startBin runs bin with the arguments mkArgs gives for a free loopback port
// and waits until it answers PING, trying up to five ports.
func startBin(bin string, mkArgs func(port int) ([]string, error)) (*Server, error) {
	var lastErr error
	for range 5 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		args, err := mkArgs(port)
		if err != nil {
			return nil, err
		}
		s := &Server{
			Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
			bin:  bin,
			args: args,
		}
		s.opts = &redis.Options{Addr: s.Addr}
		if lastErr = s.run(); lastErr == nil {
			return s, nil
		}
	}
	return nil, fmt.Errorf("cannot start %s: %w", bin, lastErr)
}

// run starts the process and waits until it answers PING.
func (s *Server) run() error {
	bin := s.bin
	if bin == "" {
		bin = "redis-server"
	}
	cmd := exec.Command(bin, s.args...)
	dieWithTestBinary(cmd)
	out := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	s.mu.Lock()
	s.cmd, s.out, s.done = cmd, out, done
	s.mu.Unlock()
	if err := waitPing(s.Addr, done); err != nil {
		s.Stop()
		return fmt.Errorf("%w; output: %s", err, out.String())
	}
	return nil
}

// waitPing polls addr with PING until it answers PONG, the process exits or
// startTimeout passes.
func waitPing(addr string, exited <-chan struct{}) error {
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("process exited")
		default:
		}
		if ping(addr) == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("no PONG from %s within %v", addr, startTimeout)
}

func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+PONG") {
		return fmt.Errorf("unexpected reply %q", line)
	}
	return nil
}

// Stop ends a server this package started. It is safe to call twice.
func (s *Server) Stop() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Kill()
	<-done
}

// PID returns the process id of a server this package started and is still
// running, or 0.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Owned reports whether this package started the server (and so can Kill and
// Restart it), as opposed to using REDIS_URL's.
func (s *Server) Owned() bool { return s.args != nil }

// Options returns go-redis options for the server (a copy the caller may
// change, for example to shorten timeouts).
func (s *Server) Options() *redis.Options {
	o := *s.opts
	return &o
}

// Client returns a go-redis client for the server, closed when the test ends.
func (s *Server) Client(t testing.TB) *redis.Client {
	c := redis.NewClient(s.Options())
	t.Cleanup(func() { c.Close() })
	return c
}

// Kill stops the server abruptly (SIGKILL), as a crash would. It skips the
// test when the server is REDIS_URL's.
func (s *Server) Kill(t testing.TB) {
	t.Helper()
	if !s.Owned() {
		t.Skip("redistest: cannot kill the REDIS_URL server")
	}
	s.Stop()
}

// Restart starts the server again on the same port with the same arguments
// and waits until it answers. Its data is gone unless persistence was turned
// on with New's extra arguments (the data directory is kept).
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	if !s.Owned() {
		t.Skip("redistest: cannot restart the REDIS_URL server")
	}
	s.Stop()
	var err error
	for range 50 { // the port may linger for a moment after the kill
		if err = s.run(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("redistest: restart on %s: %v", s.Addr, err)
}

// Pause freezes the server (SIGSTOP), as a hung server or a stalled host
// would: the kernel still accepts connections and takes commands, but
// nothing is answered until Resume. It skips the test when the server is
// REDIS_URL's. Stop and Kill work on a paused server.
func (s *Server) Pause(t testing.TB) {
	t.Helper()
	s.signal(t, syscall.SIGSTOP)
}

// Resume lets a paused server run again (SIGCONT); it answers what it was
// sent meanwhile.
func (s *Server) Resume(t testing.TB) {
	t.Helper()
	s.signal(t, syscall.SIGCONT)
}

func (s *Server) signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	if !s.Owned() {
		t.Skip("redistest: cannot signal the REDIS_URL server")
	}
	s.mu.Lock()
	cmd := s.cmd
	s.mu.Unlock()
	if cmd == nil {
		t.Fatalf("redistest: %s is not running", s.Addr)
	}
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatalf("redistest: %v to %s: %v", sig, s.Addr, err)
	}
}

// Unresponsive returns the address of a loopback listener that accepts
// connections and never answers, for tests of timeouts. It is closed, with
// its connections, when the test ends.
func Unresponsive(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// Prefix returns a key prefix that no other test uses ("t:<random>:"), so
// tests can share one server without flushing it.
func Prefix() string {
	var b [6]byte
	rand.Read(b[:])
	return "t:" + hex.EncodeToString(b[:]) + ":"
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
