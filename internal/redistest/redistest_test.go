package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
