package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binDir holds the binary built for the tests; TestMain removes it.
var binDir string

// buildBinary builds the example once per test run.
var buildBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "loginserver-test-")
	if err != nil {
		return "", err
	}
	binDir = dir
	bin := filepath.Join(dir, "loginserver")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// server is the example built as a binary and running as its own process,
// so that the tests see what an orchestrator sees: the exit status and how
// long SIGTERM takes.
type server struct {
	t    *testing.T
	cmd  *exec.Cmd
	addr string
	logs *syncBuffer
	done chan error
}

// startBinary builds the example into a temporary directory and starts it on
// a free loopback port with env added to the environment.
func startBinary(t *testing.T, env ...string) *server {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the server binary")
	}
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, logs: &syncBuffer{}, done: make(chan error, 1)}
	s.cmd = exec.Command(bin)
	s.cmd.Env = append(os.Environ(), "ADDR=127.0.0.1:0", "REDIS_URL=", "SESSION_KEYS=", "DEMO_PASSWORD=")
	s.cmd.Env = append(s.cmd.Env, env...)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			s.cmd.Process.Kill()
			<-s.done
		}
		if t.Failed() {
			t.Logf("server log:\n%s", s.logs)
		}
	})
	listening := regexp.MustCompile(`msg=listening url=http://([0-9.:]+)/`)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := listening.FindStringSubmatch(s.logs.String()); m != nil {
			s.addr = m[1]
			return s
		}
		select {
		case err := <-s.done:
			s.done <- err
			t.Fatalf("server exited at start-up: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("server did not start within 30s")
		}
	}
}

// terminate sends SIGTERM and waits at most limit for the process to exit.
// It returns how long the exit took and the exit error (nil for status 0).
func (s *server) terminate(limit time.Duration) (time.Duration, error) {
	s.t.Helper()
	start := time.Now()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatal(err)
	}
	select {
	case err := <-s.done:
		s.done <- err
		return time.Since(start), err
	case <-time.After(limit):
		s.t.Fatalf("still running %v after SIGTERM", limit)
		return 0, nil
	}
}

// dial opens a raw TCP connection to the server, closed when the test ends.
func (s *server) dial() net.Conn {
	s.t.Helper()
	c, err := net.Dial("tcp", s.addr)
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { c.Close() })
	return c
}

// waitForLog waits up to 5 s for the server's log to contain want.
func (s *server) waitForLog(want string) {
	s.t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(s.logs.String(), want); {
		if time.Now().After(deadline) {
			s.t.Fatalf("log never said %q", want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Connections that never sent a request (a browser's speculative
// connection, a load balancer's pool) do not delay shutdown:
// http.Server.Shutdown alone waits 5 s for them.
func TestShutdownDoesNotWaitForConnectionsThatSentNothing(t *testing.T) {
	t.Parallel()
	s := startBinary(t)
	// An idle keep-alive connection that served a request...
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	res, err := (&http.Client{Transport: tr}).Get("http://" + s.addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	// ...and connections that sent nothing at all.
	var silent []net.Conn
	for range 5 {
		silent = append(silent, s.dial())
	}
	// Every connection has been accepted once a request on a later one is
	// answered (the listener accepts in order).
	res, err = http.Get("http://" + s.addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()

	took, err := s.terminate(5 * time.Second)
	if err != nil {
		t.Fatalf("exit: %v, want status 0", err)
	}
	if took > time.Second {
		t.Fatalf("SIGTERM with no request in flight took %v to exit, want under 1s", took)
	}
	for i, c := range silent {
		c.SetReadDeadline(time.Now().Add(time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("silent connection %d: read %v, want it closed by the server", i, err)
		}
	}
	t.Logf("exit %v after SIGTERM, with 1 idle and 5 silent connections open", took.Round(time.Millisecond))
}

// trickle sends a POST /login whose body arrives one byte per interval, and
// reports on the returned channel when the server has stopped taking bytes.
func trickle(t *testing.T, c net.Conn, body string, interval time.Duration) <-chan error {
	t.Helper()
	fmt.Fprintf(c, "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body))
	errc := make(chan error, 1)
	go func() {
		for i := range len(body) {
			if _, err := c.Write([]byte{body[i]}); err != nil {
				errc <- err
				return
			}
			time.Sleep(interval)
		}
		errc <- nil
	}()
	return errc
}

// A client trickling its body past the grace period is cut off; the server
// still exits with status 0 soon after the grace period, and says so.
func TestShutdownCutsTricklingClientAndExitsZero(t *testing.T) {
	t.Parallel()
	s := startBinary(t, "SHUTDOWN_TIMEOUT=1s")
	c := s.dial()
	// 600 bytes at 20 ms: 12 s, well past the grace period.
	trickle(t, c, `{"username":"demo","password":"`+strings.Repeat("x", 570)+`"}`, 20*time.Millisecond)
	time.Sleep(200 * time.Millisecond) // the request is in flight

	took, err := s.terminate(10 * time.Second)
	if err != nil {
		t.Fatalf("exit: %v, want status 0", err)
	}
	if took < time.Second || took > 3*time.Second {
		t.Fatalf("exit %v after SIGTERM, want just after the 1s grace period", took)
	}
	if !strings.Contains(s.logs.String(), "requests still in flight at the end of the grace period") {
		t.Fatal("the log does not say that a request was cut")
	}
	t.Logf("exit %v after SIGTERM with a trickling client", took.Round(time.Millisecond))
}

// A request in flight when SIGTERM arrives, whose body completes within the
// grace period, gets its answer; then the server exits with status 0.
func TestShutdownLetsRequestInFlightFinish(t *testing.T) {
	t.Parallel()
	s := startBinary(t, "SHUTDOWN_TIMEOUT=10s")
	c := s.dial()
	// About 1.2 s of body.
	body := `{"username":"demo","password":"not the demo password, but long"}`
	sent := trickle(t, c, body, 20*time.Millisecond)
	time.Sleep(200 * time.Millisecond)
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	s.waitForLog("shutting down")
	if err := <-sent; err != nil {
		t.Fatalf("the server stopped reading the body during the grace period: %v", err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to the request in flight: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401 (wrong password)", res.StatusCode)
	}
	if _, err := s.terminate(10 * time.Second); err != nil {
		t.Fatalf("exit: %v, want status 0", err)
	}
	if strings.Contains(s.logs.String(), "still in flight") {
		t.Fatal("the request finished in time, yet the log says one was cut")
	}
}
