package session

import (
	"context"
	"testing"
	"time"
)

func TestS22_S39_MemoryStoreSweepsInBackground(t *testing.T) {
	t.Parallel()
	clk := &clock{t: time.Now()}
	mem := NewMemoryStore(WithSweepInterval(time.Minute))
	mem.now = clk.Now
	mem.nextSweep.Store(clk.Now().Add(time.Minute).UnixNano())
	ctx := context.Background()
	for i := range 100 {
		mem.Create(ctx, hexEncode([]byte{byte(i)}), Record{Expires: clk.Now().Add(time.Second)})
	}
	clk.Advance(2 * time.Minute)
	mem.Create(ctx, "trigger", Record{Expires: clk.Now().Add(time.Hour)})
	deadline := time.Now().Add(5 * time.Second)
	for mem.Len() != 1 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if mem.Len() != 1 {
		t.Fatalf("background sweep left %d records, want 1", mem.Len())
	}
}
