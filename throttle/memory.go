package throttle

import (
	"container/list"
	"context"
	"fmt"
	"hash/maphash"
	"sync"
	"time"
)

// MemoryConfig configures NewMemory. Zero fields take the defaults shown.
type MemoryConfig struct {
	// MaxKeys caps the number of keys tracked; 0 means 65,536. Each key
	// costs about 200 bytes plus its length. When the cap is reached one
	// key is dropped, in this order: a key only ever counted by Takes in
	// which another key refused (a locked address trying made-up
	// usernames: such a flood makes room only among its own keys); then,
	// among keys neither locked nor spent, the least recently used of
	// those that have counted the smallest share of their rule's limit,
	// keys with a lockout behind them last (so a flood of keys with a few
	// attempts each, under this rule or a more generous one, cannot push
	// out an account nine guesses into ten); only when every key is
	// locked or spent, the one tried least recently. What a dropped key
	// counted stays behind in a fixed table (about 64 bytes per MaxKeys,
	// allocated when the limiter first fills), and the key, tried again
	// within its window, resumes from it: dropping a key never hands it a
	// fresh budget or lifts its lockout, short of two collisions in a
	// seeded hash. Set MaxKeys above the number of keys active within a
	// window all the same: the order above decides which counts a flood
	// keeps in the map.
	MaxKeys int
}

// memory is the Limiter NewMemory returns.
type memory struct {
	now     func() time.Time
	maxKeys int

	mu   sync.Mutex
	keys map[string]*memEntry
	// Every key is in one list, each ordered from least to most recently
	// changed: cheap holds keys counted only in refused Takes; free[r]
	// the others that are neither locked nor spent, by rank (the share of
	// their limit they have counted; memEntry.rank); held the locked and
	// spent ones. evict takes the first key of the first list
	// that has one, in that order.
	cheap list.List
	free  [freeLists]list.List
	held  list.List

	seed   maphash.Seed // of the ghost table's hash (memory_ghost.go)
	ghosts []ghost      // what dropped keys counted; nil until the first eviction
}

// freeLists is how many ranks of keys neither locked nor spent eviction
// tells apart (see memEntry.rank).
const freeLists = 16

// rank is the free list of a key neither locked nor spent: the share of
// its rule's limit it has counted, in sixteenths, so that keys under a
// generous rule (300 sign-in starts per address) cannot push out one under
// a strict rule (10 guesses per account) by counting more attempts each;
// a key with a lockout behind it ranks last, so that eviction does not
// reset its escalation.
func (e *memEntry) rank() int {
	if e.level > 0 || e.limit <= 0 {
		return freeLists - 1
	}
	return min(e.n*(freeLists-1)/e.limit, freeLists-1)
}

type memEntry struct {
	key    string
	n      int       // attempts counted in the window
	start  time.Time // the window's start
	last   time.Time // last attempt counted
	until  time.Time // locked before this instant
	level  int       // lockouts so far
	limit  int       // the rule of the last Take, for pruning and eviction
	window time.Duration
	el     *list.Element
	in     *list.List // the list el is in
	cheap  bool       // counted only in Takes in which another key refused
}

// NewMemory returns a Limiter that keeps its counts in the memory of this
// process. Several instances of an application each count on their own with
// it, and a restart forgets; use NewRedis to share and keep counts.
//
// Take, Refund and Reset take a mutex and cost O(number of keys given); they
// allocate nothing but a new key's entry. Its memory stays bounded by
// MaxKeys, and each Take also drops a few of the least recently changed keys
// when the rules have forgotten them, so memory shrinks as attempts go on.
// It starts no goroutine and needs no Close.
func NewMemory(cfg MemoryConfig) Limiter {
	return newMemory(cfg, time.Now)
}

// newMemory is NewMemory on the clock now, which the package's tests set.
func newMemory(cfg MemoryConfig, now func() time.Time) *memory {
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = 65536
	}
	return &memory{now: now, maxKeys: cfg.MaxKeys, keys: make(map[string]*memEntry), seed: maphash.MakeSeed()}
}

// forgotten reports whether e has been quiet for a window after its last
// attempt and after its lockout ended.
func (e *memEntry) forgotten(now time.Time) bool {
	quiet := e.last
	if e.until.After(quiet) {
		quiet = e.until
	}
	return !quiet.IsZero() && !now.Before(quiet.Add(e.window))
}

// Take implements Limiter.
func (m *memory) Take(ctx context.Context, reqs []Request) ([]Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, q := range reqs {
		if err := q.Rule.Validate(); err != nil {
			return nil, fmt.Errorf("%w (key %q)", err, q.Key)
		}
	}
	now := m.now()
	res := make([]Result, len(reqs))
	var entryBuf [8]*memEntry
	var createdBuf [8]bool
	entries, created := entryBuf[:0], createdBuf[:0] // on the stack for a Guard's few keys
	refused := false
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, q := range reqs {
		e, c := m.entry(q.Key, q.Rule, now)
		entries, created = append(entries, e), append(created, c)
		res[i] = m.take(e, q, now)
		refused = refused || !res[i].Allowed
	}
	// A key counted only in refused Takes is the first to make room; one
	// counted in a Take that nothing refused is an ordinary key from then
	// on.
	for i, e := range entries {
		cheap := refused && (created[i] || e.cheap)
		if e.cheap != cheap && m.keys[e.key] == e {
			e.cheap = cheap
			m.file(e, now)
		}
	}
	m.prune(now)
	return res, nil
}

// entry returns key's entry, making room for it and creating it when it
// is not tracked, from its ghost when it left one (for a Take under rule).
// created reports a key new to the limiter: one back from its ghost is
// not, so a refused Take cannot make it cheap (evicted first, leaving no
// ghost), which would hand it a fresh budget.
func (m *memory) entry(key string, rule Rule, now time.Time) (e *memEntry, created bool) {
	if e = m.keys[key]; e != nil {
		return e, false
	}
	g, haunted := m.unbury(key, now)
	if len(m.keys) >= m.maxKeys {
		m.evict(now)
	}
	e = &memEntry{key: key}
	if haunted {
		haunt(e, g, rule)
	}
	m.keys[key] = e
	return e, !haunted
}

func (m *memory) take(e *memEntry, q Request, now time.Time) Result {
	r := q.Rule
	e.limit, e.window = r.Limit, r.Window
	defer m.file(e, now)
	if now.Before(e.until) {
		return Result{Key: q.Key, RetryAfter: e.until.Sub(now)}
	}
	if e.forgotten(now) {
		*e = memEntry{key: e.key, limit: e.limit, window: e.window, el: e.el, in: e.in, cheap: e.cheap}
	}
	if e.n == 0 || !now.Before(e.start.Add(r.Window)) {
		e.n, e.start = 0, now
	}
	if e.n >= r.Limit {
		d := r.lockoutAfter(e.level)
		e.until = now.Add(d)
		e.level = min(e.level+1, maxLevel)
		e.n = 0
		return Result{Key: q.Key, RetryAfter: d}
	}
	e.n++
	e.last = now
	return Result{Key: q.Key, Allowed: true, Remaining: r.Limit - e.n, WindowStart: e.start}
}

// file puts e at the back of the list its state belongs to.
func (m *memory) file(e *memEntry, now time.Time) {
	var l *list.List
	switch {
	case now.Before(e.until) || e.n >= e.limit:
		l = &m.held
	case e.cheap:
		l = &m.cheap
	default:
		l = &m.free[e.rank()]
	}
	if e.el != nil && e.in == l {
		l.MoveToBack(e.el)
		return
	}
	if e.el != nil {
		m.unlink(e)
	}
	e.el, e.in = l.PushBack(e), l
}

func (m *memory) unlink(e *memEntry) {
	e.in.Remove(e.el)
	e.el, e.in = nil, nil
}

func (m *memory) remove(e *memEntry) {
	m.unlink(e)
	delete(m.keys, e.key)
}

// evict drops one key, in the order MemoryConfig.MaxKeys gives: the
// least recently changed key counted only in refused Takes; else of those
// neither locked nor spent, the least recently changed among the ones of
// the lowest rank; else the locked or spent one tried least recently
// (an attempt refused by a lockout counts as trying). So a flood of
// attempts on made-up keys cannot lift a lockout early, short of locking
// MaxKeys keys at once, nor reset a budget partly spent, short of spending
// as much on MaxKeys keys of its own.
//
// What the dropped key counted stays behind as its ghost (memory_ghost.go),
// which a key created again under that name starts from.
func (m *memory) evict(now time.Time) {
	if l := m.first(); l != nil {
		e := l.Front().Value.(*memEntry)
		m.bury(e, now)
		m.remove(e)
	}
}

// first returns the first list, in eviction order, that holds a key, or nil.
func (m *memory) first() *list.List {
	if m.cheap.Len() > 0 {
		return &m.cheap
	}
	for i := range m.free {
		if m.free[i].Len() > 0 {
			return &m.free[i]
		}
	}
	if m.held.Len() > 0 {
		return &m.held
	}
	return nil
}

// Refund implements Limiter.
func (m *memory) Refund(ctx context.Context, res []Result) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range res {
		if !r.Allowed {
			continue
		}
		if e := m.keys[r.Key]; e != nil {
			if e.n > 0 && e.start.Equal(r.WindowStart) {
				e.n--
				m.file(e, now)
			}
		} else {
			m.refundGhost(r.Key, r.WindowStart, now)
		}
	}
	return nil
}

// Reset implements Limiter.
func (m *memory) Reset(ctx context.Context, keys ...string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	for _, k := range keys {
		if e := m.keys[k]; e != nil {
			m.remove(e)
		}
		m.unbury(k, now) // and its ghost, if it was dropped
	}
	return nil
}

// prune drops up to two forgotten keys from the front of each list, where
// the least recently changed keys are: amortized over the attempts that
// made them, a key the rules have forgotten does not stay. A forgotten key
// behind one that is not (a longer window) waits for its turn or for
// eviction. The caller holds m.mu.
func (m *memory) prune(now time.Time) {
	lists := [2 + freeLists]*list.List{&m.cheap, &m.held}
	for i := range m.free {
		lists[2+i] = &m.free[i]
	}
	for _, l := range lists {
		for range 2 {
			el := l.Front()
			if el == nil || !el.Value.(*memEntry).forgotten(now) {
				break
			}
			m.remove(el.Value.(*memEntry))
		}
	}
}

// len returns the number of keys tracked, for the package's tests.
func (m *memory) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.keys)
}
