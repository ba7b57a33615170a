package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"
)

// memTestKey returns a key shaped like a store key: hex SHA-256 of random
// bytes.
func memTestKey() string {
	var b [32]byte
	rand.Read(b[:])
	sum := sha256.Sum256(b[:])
	return hex.EncodeToString(sum[:])
}

func TestMemoryStoreSpreadsKeysEvenlyOverShards(t *testing.T) {
	t.Parallel()
	const n = 6400 * memoryShards
	tests := []struct {
		name string
		key  func(i int) string
	}{
		{"store keys (hex hashes)", func(int) string { return memTestKey() }},
		{"other keys (hashed)", func(i int) string { return "user-" + strconv.Itoa(i) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var counts [memoryShards]int
			for i := range n {
				counts[shardIndex(tc.key(i))]++
			}
			want := n / memoryShards
			for i, c := range counts {
				// Binomial standard deviation here is about 79; 10% is
				// over 8 of them, and a shard left idle or doubled is far
				// outside.
				if c < want*9/10 || c > want*11/10 {
					t.Fatalf("shard %d got %d of %d keys, want %d ± 10%% (counts %v)", i, c, n, want, counts)
				}
			}
		})
	}
}

func TestMemoryStoreShardIndexSpellsTheFirstByte(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key  string
		want int
	}{
		{"00", 0}, {"1f", 31}, {"20", 0}, {"ff", 31}, {"a5", 0xa5 % memoryShards},
	}
	for _, tc := range tests {
		if got := shardIndex(tc.key); got != tc.want {
			t.Errorf("shardIndex(%q) = %d, want %d", tc.key, got, tc.want)
		}
	}
	for _, k := range []string{"", "x", "AB", "0g", "zz"} {
		if got := shardIndex(k); got < 0 || got >= memoryShards {
			t.Errorf("shardIndex(%q) = %d, out of range", k, got)
		}
	}
}

func TestMemoryStoreReadStartsDueSweep(t *testing.T) {
	t.Parallel()
	clk := &clock{t: time.Now()}
	mem := newMemoryStore(time.Minute)
	mem.now = clk.Now
	mem.nextSweep.Store(clk.Now().Add(time.Minute).UnixNano())
	ctx := context.Background()
	for range 100 {
		mem.Create(ctx, memTestKey(), Record{UserID: "u", Expires: clk.Now().Add(time.Second)})
	}
	clk.Advance(2 * time.Minute)
	// A read of a key that does not exist: no write is involved.
	if _, err := mem.Get(ctx, memTestKey()); err != ErrNotFound {
		t.Fatalf("Get = %v", err)
	}
	waitFor(t, 5*time.Second, func() bool { return mem.count() == 0 })
	mem.usersMu.Lock()
	defer mem.usersMu.Unlock()
	if len(mem.users) != 0 {
		t.Fatalf("user index keeps %d users after the sweep", len(mem.users))
	}
}

func TestMemoryStoreTimerFreesIdleStoreAndStops(t *testing.T) {
	t.Parallel()
	mem := newMemoryStore(20 * time.Millisecond)
	ctx := context.Background()
	for range 50 {
		mem.Create(ctx, memTestKey(), Record{UserID: "u", Expires: time.Now().Add(30 * time.Millisecond)})
	}
	if !mem.timerArmed.Load() {
		t.Fatal("no sweep scheduled while the store holds records")
	}
	// No call at all from now on: only the timer can free them.
	waitFor(t, 5*time.Second, func() bool { return mem.count() == 0 })
	waitFor(t, 5*time.Second, func() bool { return !mem.timerArmed.Load() })
	// And a new record arms it again.
	mem.Create(ctx, memTestKey(), Record{Expires: time.Now().Add(10 * time.Millisecond)})
	if !mem.timerArmed.Load() {
		t.Fatal("a new record did not schedule a sweep")
	}
	waitFor(t, 5*time.Second, func() bool { return mem.count() == 0 && !mem.timerArmed.Load() })
}

func TestMemoryStoreSweepReallocatesMostlyEmptyMaps(t *testing.T) {
	t.Parallel()
	clk := &clock{t: time.Now()}
	mem := NewMemoryStore()
	mem.now = clk.Now
	ctx := context.Background()
	const n = 4 * memoryShrinkMin * memoryShards
	var keep []string
	for i := range n {
		exp := clk.Now().Add(time.Second)
		k := memTestKey()
		if i%10 == 0 { // one in ten outlives the peak
			exp = clk.Now().Add(time.Hour)
			keep = append(keep, k)
		}
		mem.Create(ctx, k, Record{UserID: "user-" + strconv.Itoa(i), Expires: exp, Data: []byte{byte(i)}})
	}
	mapID := func(m any) uintptr { return reflect.ValueOf(m).Pointer() }
	var before [memoryShards]uintptr
	for i := range mem.shards {
		before[i] = mapID(mem.shards[i].records)
	}
	usersBefore := mapID(mem.users)
	clk.Advance(time.Minute)
	mem.sweep()
	for i := range mem.shards {
		sh := &mem.shards[i]
		if mapID(sh.records) == before[i] {
			t.Fatalf("shard %d: map not re-allocated after %d of %d records expired", i, n-len(keep), n)
		}
		if sh.peak != len(sh.records) {
			t.Fatalf("shard %d: high-water mark %d not reset to %d", i, sh.peak, len(sh.records))
		}
	}
	if mapID(mem.users) == usersBefore || mem.usersPeak != len(keep) {
		t.Fatalf("user index not re-allocated (peak %d, %d users)", mem.usersPeak, len(mem.users))
	}
	if mem.count() != len(keep) {
		t.Fatalf("Len = %d, want %d", mem.count(), len(keep))
	}
	for _, k := range keep {
		if _, err := mem.Get(ctx, k); err != nil {
			t.Fatalf("live record lost by the re-allocation: %v", err)
		}
	}
	// A second sweep with nothing to free keeps the maps as they are.
	after := mapID(mem.shards[0].records)
	mem.sweep()
	if mapID(mem.shards[0].records) != after {
		t.Fatal("map re-allocated again with nothing freed")
	}
}

func TestMemoryStoreConcurrentUseWithTimedSweeps(t *testing.T) {
	t.Parallel()
	mem := newMemoryStore(time.Millisecond)
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 2000 {
				k := memTestKey()
				exp := time.Now().Add(time.Duration(i%3) * time.Millisecond)
				mem.Create(ctx, k, Record{UserID: "u" + strconv.Itoa(w), Expires: exp})
				mem.Get(ctx, k)
				if i%100 == 0 {
					mem.sweep()
				}
			}
		})
	}
	wg.Wait()
	waitFor(t, 5*time.Second, func() bool { return mem.count() == 0 && !mem.timerArmed.Load() })
}

// waitFor polls cond until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", d)
		}
		time.Sleep(time.Millisecond)
	}
}
