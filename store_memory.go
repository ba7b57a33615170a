package session

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// memoryShards spreads keys over independent locks so that concurrent requests
// on different sessions do not contend. It must be a power of two no larger
// than 256 (see shardIndex).
const memoryShards = 32

// MemoryStore is a Store that keeps records in the process's memory. It is the
// default store: fast, needs nothing, and loses every session when the process
// exits. It is for a single process only; run Redis when there is more than
// one instance of the app.
//
// Memory: a signed-in session with a few short values costs about 600 bytes
// (key, record, map overhead and the user index entry; measured by
// BenchmarkMemoryStoreBytesPerSession), plus whatever its values add.
//
// Expired records are invisible at once and freed by a sweep, at most once per
// sweep interval: started by a read or a write when one is due, and by a timer
// (time.AfterFunc) while the store holds records, so memory is returned even
// when no request comes. A sweep runs in a short-lived goroutine; an empty
// MemoryStore holds no goroutine and no timer, and none needs Close. When a
// sweep leaves a map at a quarter or less of the most it held, it re-allocates
// the map, so the memory of a past peak goes back to the garbage collector
// (Go maps never shrink by themselves).
type MemoryStore struct {
	shards [memoryShards]memoryShard

	usersMu   sync.Mutex
	users     map[string]map[string]uint64 // userID -> key -> creation order
	usersPeak int                          // most entries users held since allocated
	created   atomic.Uint64                // the last creation order given out

	// userLocks serialise Replace calls for one user (a user maps to one of
	// them), so that counting the user's sessions and ending the oldest is
	// one atomic step.
	userLocks [64]sync.Mutex

	now           func() time.Time // nil: time.Now (tests set a clock)
	sweepInterval time.Duration
	nextSweep     atomic.Int64 // unix nanoseconds
	sweeping      atomic.Bool

	timerMu    sync.Mutex
	timer      *time.Timer // sweeps while the store holds records
	timerArmed atomic.Bool
}

type memoryShard struct {
	mu      sync.RWMutex
	records map[string]Record
	peak    int // most records held since the map was allocated
}

// NewMemoryStore returns an empty MemoryStore. Expired records are freed
// by a sweep at most once a minute (see MemoryStore).
func NewMemoryStore() *MemoryStore {
	return newMemoryStore(defaultSweepInterval)
}

// newMemoryStore returns an empty MemoryStore that sweeps at most once per
// interval; the package's tests use short ones.
func newMemoryStore(interval time.Duration) *MemoryStore {
	s := &MemoryStore{
		users:         make(map[string]map[string]uint64),
		sweepInterval: interval,
	}
	for i := range s.shards {
		s.shards[i].records = make(map[string]Record)
	}
	s.nextSweep.Store(s.clock().Add(s.sweepInterval).UnixNano())
	return s
}

// clock returns the store's time.
func (s *MemoryStore) clock() time.Time {
	if s.now != nil {
		return s.now()
	}
	return time.Now()
}

func (s *MemoryStore) shard(key string) *memoryShard {
	return &s.shards[shardIndex(key)]
}

// shardIndex maps a key to a shard. Store keys are lower-case hex hashes, so
// the byte their first two digits spell is uniform and its low bits pick a
// shard evenly; any other key is hashed (FNV-1a).
func shardIndex(key string) int {
	if len(key) >= 2 {
		hi, ok1 := hexNibble(key[0])
		lo, ok2 := hexNibble(key[1])
		if ok1 && ok2 {
			return int(hi<<4|lo) % memoryShards
		}
	}
	h := uint32(2166136261)
	for i := 0; i < len(key); i++ {
		h ^= uint32(key[i])
		h *= 16777619
	}
	return int(h % memoryShards)
}

func hexNibble(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// Get returns the live record stored under key. The returned Data is shared
// with the store and must not be modified.
func (s *MemoryStore) Get(ctx context.Context, key string) (Record, error) {
	return s.getAt(ctx, key, time.Time{}, nil)
}

// getAt is Get for the Manager's load (see loadGetter): now, a time.Now
// reading the Manager took just before, spares the store its own, unless
// the store runs on a test's clock or now has no monotonic reading (a
// test's clock on the Manager's side).
//
// Called through a wrapper store, with the guard's context, it takes the
// time from the context's Err (callContext.errNow): one monotonic clock
// reading where ctx.Err and time.Now would take two.
func (s *MemoryStore) getAt(ctx context.Context, key string, now time.Time, _ *callContext) (Record, error) {
	if c, ok := ctx.(*callContext); ok && now.IsZero() {
		var err error
		if now, err = c.errNow(); err != nil {
			return Record{}, err
		}
	} else if err := ctx.Err(); err != nil {
		return Record{}, err
	}
	if s.now != nil || now == now.Round(0) {
		now = s.clock()
	}
	s.maybeSweep(now)
	sh := s.shard(key)
	sh.mu.RLock()
	rec, ok := sh.records[key]
	sh.mu.RUnlock()
	if !ok {
		return Record{}, ErrNotFound
	}
	if !now.Before(rec.Expires) {
		s.removeExpired(key, now)
		return Record{}, ErrNotFound
	}
	return rec, nil
}

// removeExpired frees the record under key if it is still expired.
func (s *MemoryStore) removeExpired(key string, now time.Time) {
	sh := s.shard(key)
	sh.mu.Lock()
	if rec, ok := sh.records[key]; ok && !now.Before(rec.Expires) {
		delete(sh.records, key)
		s.unindex(rec.UserID, key)
	}
	sh.mu.Unlock()
}

// Create stores rec under key unless a live record is there already.
func (s *MemoryStore) Create(ctx context.Context, key string, rec Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	rec.Data = clone(rec.Data)
	now := s.clock()
	sh := s.shard(key)
	sh.mu.Lock()
	if old, ok := sh.records[key]; ok {
		if now.Before(old.Expires) {
			sh.mu.Unlock()
			return ErrExists
		}
		s.unindex(old.UserID, key) // an expired record not yet swept
	}
	// The user index is updated under the shard lock so that DeleteUser, which
	// takes the index first, either sees this key or runs after it is stored.
	if rec.UserID != "" {
		s.usersMu.Lock()
		set := s.users[rec.UserID]
		if set == nil {
			set = make(map[string]uint64, 1)
			s.users[rec.UserID] = set
		}
		set[key] = s.created.Add(1)
		s.usersPeak = max(s.usersPeak, len(s.users))
		s.usersMu.Unlock()
	}
	sh.records[key] = rec
	sh.peak = max(sh.peak, len(sh.records))
	sh.mu.Unlock()
	s.armTimer()
	s.maybeSweep(now)
	return nil
}

// Update replaces Expires and Data of the live record under key; it never
// recreates a record that was deleted or has expired.
func (s *MemoryStore) Update(ctx context.Context, key string, rec Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	data := clone(rec.Data)
	now := s.clock()
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	old, ok := sh.records[key]
	if !ok || !now.Before(old.Expires) {
		return ErrNotFound
	}
	old.Expires, old.Data = rec.Expires, data
	sh.records[key] = old
	return nil
}

// Touch moves the expiry of the live record under key.
func (s *MemoryStore) Touch(ctx context.Context, key string, expires time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := s.clock()
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	old, ok := sh.records[key]
	if !ok || !now.Before(old.Expires) {
		return ErrNotFound
	}
	old.Expires = expires
	sh.records[key] = old
	return nil
}

// Delete removes the record under key, if any.
func (s *MemoryStore) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.remove(key)
	return nil
}

func (s *MemoryStore) remove(key string) {
	sh := s.shard(key)
	sh.mu.Lock()
	rec, ok := sh.records[key]
	if ok {
		delete(sh.records, key)
		s.unindex(rec.UserID, key)
	}
	sh.mu.Unlock()
}

// removeOf removes key from userID's index, and its record if it is theirs.
func (s *MemoryStore) removeOf(userID, key string) {
	sh := s.shard(key)
	sh.mu.Lock()
	if rec, ok := sh.records[key]; ok && rec.UserID == userID {
		delete(sh.records, key)
	}
	s.unindex(userID, key)
	sh.mu.Unlock()
}

func (s *MemoryStore) unindex(userID, key string) {
	if userID == "" {
		return
	}
	s.usersMu.Lock()
	if set := s.users[userID]; set != nil {
		delete(set, key)
		if len(set) == 0 {
			delete(s.users, userID)
		}
	}
	s.usersMu.Unlock()
}

// ListUser returns the live records of userID.
func (s *MemoryStore) ListUser(ctx context.Context, userID string) ([]Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	keys := s.userKeys(userID)
	now := s.clock()
	out := make([]Entry, 0, len(keys))
	for _, k := range keys {
		sh := s.shard(k)
		sh.mu.RLock()
		rec, ok := sh.records[k]
		sh.mu.RUnlock()
		if ok && now.Before(rec.Expires) {
			out = append(out, Entry{Key: k, Record: rec})
		}
	}
	return out, nil
}

func (s *MemoryStore) userKeys(userID string) []string {
	if userID == "" {
		return nil
	}
	s.usersMu.Lock()
	defer s.usersMu.Unlock()
	set := s.users[userID]
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	return keys
}

// DeleteUser deletes every record of userID.
func (s *MemoryStore) DeleteUser(ctx context.Context, userID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// Repeat until the index is empty, so that a Create that indexed a key
	// after the first snapshot is deleted too.
	for {
		keys := s.userKeys(userID)
		if len(keys) == 0 {
			return nil
		}
		for _, k := range keys {
			s.removeOf(userID, k)
		}
	}
}

// count reports how many records the store holds, expired ones included
// until a sweep frees them.
func (s *MemoryStore) count() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		n += len(sh.records)
		sh.mu.RUnlock()
	}
	return n
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append(make([]byte, 0, len(b)), b...)
}
