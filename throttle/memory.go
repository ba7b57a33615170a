package throttle

import (
	"container/list"
	"context"
	"fmt"
	"sync"
	"time"
)

// MemoryConfig configures NewMemory. Zero fields take the defaults shown.
type MemoryConfig struct {
	// MaxKeys caps the number of keys tracked; 0 means 65,536. Each key
	// costs about 200 bytes plus its length. When the cap is reached the
	// least recently used key that is neither locked nor spent is dropped;
	// only when every key is locked or spent, the one tried least recently.
	// Set it above the number of keys active within a window.
	MaxKeys int
}

// memory is the Limiter NewMemory returns.
type memory struct {
	now     func() time.Time
	maxKeys int

	mu   sync.Mutex
	keys map[string]*memEntry
	// free holds keys that are neither locked nor spent, held the others;
	// both ordered from least to most recently changed.
	free, held list.List
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
	held   bool
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
	return &memory{now: now, maxKeys: cfg.MaxKeys, keys: make(map[string]*memEntry)}
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
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, q := range reqs {
		res[i] = m.take(q, now)
	}
	m.prune(now)
	return res, nil
}

func (m *memory) take(q Request, now time.Time) Result {
	e := m.keys[q.Key]
	if e == nil {
		if len(m.keys) >= m.maxKeys {
			m.evict()
		}
		e = &memEntry{key: q.Key}
		m.keys[q.Key] = e
	}
	r := q.Rule
	e.limit, e.window = r.Limit, r.Window
	defer m.file(e, now)
	if now.Before(e.until) {
		return Result{Key: q.Key, RetryAfter: e.until.Sub(now)}
	}
	if e.forgotten(now) {
		*e = memEntry{key: e.key, limit: e.limit, window: e.window, el: e.el, held: e.held}
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
	held := now.Before(e.until) || e.n >= e.limit
	if e.el != nil && e.held == held {
		l := &m.free
		if held {
			l = &m.held
		}
		l.MoveToBack(e.el)
		return
	}
	if e.el != nil {
		m.unlink(e)
	}
	e.held = held
	if held {
		e.el = m.held.PushBack(e)
	} else {
		e.el = m.free.PushBack(e)
	}
}

func (m *memory) unlink(e *memEntry) {
	if e.held {
		m.held.Remove(e.el)
	} else {
		m.free.Remove(e.el)
	}
	e.el = nil
}

func (m *memory) remove(e *memEntry) {
	m.unlink(e)
	delete(m.keys, e.key)
}

// evict drops one key: the least recently tried one that is neither locked
// nor spent, or if there is none, the locked or spent one tried least
// recently (an attempt refused by a lockout counts as trying).
// So a flood of attempts on made-up keys cannot lift a lockout early, short
// of locking MaxKeys keys at once.
func (m *memory) evict() {
	el := m.free.Front()
	if el == nil {
		el = m.held.Front()
	}
	if el != nil {
		m.remove(el.Value.(*memEntry))
	}
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
		if e := m.keys[r.Key]; e != nil && e.n > 0 && e.start.Equal(r.WindowStart) {
			e.n--
			m.file(e, now)
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
	for _, k := range keys {
		if e := m.keys[k]; e != nil {
			m.remove(e)
		}
	}
	return nil
}

// prune drops up to two forgotten keys from the front of each list, where
// the least recently changed keys are: amortized over the attempts that
// made them, a key the rules have forgotten does not stay. A forgotten key
// behind one that is not (a longer window) waits for its turn or for
// eviction. The caller holds m.mu.
func (m *memory) prune(now time.Time) {
	for _, l := range []*list.List{&m.free, &m.held} {
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
