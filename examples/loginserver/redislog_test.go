package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// go-redis's lines reach the server's log as "redis client" warnings with
// their text; a line repeated within redisLogEvery is dropped and counted
// on the next one of its kind, and kinds are told apart by format.
func TestRedisLogRoutesGoRedisLinesAndDropsRepeats(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l := newRedisLog(slog.New(slog.NewTextHandler(&buf, nil)))
	ctx := context.Background()
	dial := "redis: %s: connection pool: failed to dial after %d attempts: %v"
	l.Printf(ctx, dial, "127.0.0.1:1", 1, "connect: connection refused")
	l.Printf(ctx, dial, "127.0.0.1:1", 1, "connect: connection refused")
	l.Printf(ctx, dial, "127.0.0.1:1", 1, "connect: connection refused")
	l.Printf(ctx, "sentinel: new master=%q addr=%q", "mymaster", "127.0.0.1:2")
	got := buf.String()
	if n := strings.Count(got, `msg="redis client"`); n != 2 {
		t.Fatalf("%d redis client lines, want 2 (one dial failure, one sentinel event):\n%s", n, got)
	}
	for _, want := range []string{"level=WARN", "connection refused", "new master"} {
		if !strings.Contains(got, want) {
			t.Errorf("log lacks %q:\n%s", want, got)
		}
	}
	// The next dial failure after the quiet period carries the count of the
	// two it dropped.
	for _, k := range l.kinds {
		k.last = k.last.Add(-redisLogEvery - time.Second)
	}
	buf.Reset()
	l.Printf(ctx, dial, "127.0.0.1:1", 1, "connect: connection refused")
	if !strings.Contains(buf.String(), "similar_dropped=2") {
		t.Fatalf("after the quiet period: %q, want similar_dropped=2", buf.String())
	}
}
