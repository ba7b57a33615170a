package pgtest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Server is a private PostgreSQL server: its own data directory (initdb, in a
// temporary directory), its own loopback port, run as the postgres user when
// the test runs as root. The test starts and stops it by PID; it is stopped
// and removed when the test ends.
type Server struct {
	// Port is the loopback TCP port the server listens on, across restarts.
	Port int

	tb   testing.TB
	own  owner
	dir  string
	bin  string
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// StartServer runs initdb in a temporary directory and starts the server.
// It skips (fails under CI=true) when the PostgreSQL server programs are not
// installed.
func StartServer(tb testing.TB) *Server {
	tb.Helper()
	initdb, err := postgresBin("initdb")
	if err != nil {
		Unavailable(tb, "no private PostgreSQL server: "+err.Error())
	}
	bin, err := postgresBin("postgres")
	if err != nil {
		Unavailable(tb, "no private PostgreSQL server: "+err.Error())
	}
	own, err := currentOwner()
	if err != nil {
		Unavailable(tb, "no private PostgreSQL server: "+err.Error())
	}
	dir := own.tempDir(tb, "pgstore-server-")
	var out bytes.Buffer
	cmd := own.command(dir, syscall.SIGKILL, initdb, "-D", filepath.Join(dir, "data"),
		"-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		tb.Fatalf("initdb: %v\n%s", err, out.String())
	}
	port, err := FreePort()
	if err != nil {
		tb.Fatal(err)
	}
	s := &Server{Port: port, tb: tb, own: own, dir: dir, bin: bin}
	tb.Cleanup(func() { s.stop(syscall.SIGQUIT) })
	s.Start()
	return s
}

// URL is the address of database db on the server.
func (s *Server) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.Port, db)
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.Port) }

// Start starts the server (again) on the same data directory and port and
// waits until it accepts connections.
func (s *Server) Start() {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		s.tb.Fatal("pgtest: server already running")
	}
	logf, err := os.OpenFile(filepath.Join(s.dir, "server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		s.tb.Fatal(err)
	}
	defer logf.Close()
	// SIGQUIT is PostgreSQL's immediate shutdown, for a test binary that dies.
	cmd := s.own.command(s.dir, syscall.SIGQUIT, s.bin, "-D", filepath.Join(s.dir, "data"),
		"-p", strconv.Itoa(s.Port), "-k", s.dir, "-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "shared_buffers=16MB", "-c", "max_connections=40")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		s.tb.Fatalf("start postgres: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	if err := waitTCP(s.Addr(), done, 30*time.Second); err != nil {
		cmd.Process.Kill()
		<-done
		log, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
		s.tb.Fatalf("postgres: %v\n%s", err, log)
	}
	// The port accepts connections a moment before the server is ready;
	// wait until it answers.
	if err := waitReady(s.URL("postgres"), 30*time.Second); err != nil {
		cmd.Process.Kill()
		<-done
		s.tb.Fatalf("postgres: %v", err)
	}
	s.cmd, s.done = cmd, done
}

// Stop shuts the server down by its PID (fast shutdown: open connections are
// closed) and waits for it to exit.
func (s *Server) Stop() {
	s.tb.Helper()
	s.stop(syscall.SIGINT)
}

func (s *Server) stop(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(sig)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd, s.done = nil, nil
}
