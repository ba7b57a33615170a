package throttle

import (
	"container/heap"
	"container/list"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// MemoryConfig configures NewMemory. Zero fields take the defaults shown.
type MemoryConfig struct {
	// MaxKeys caps the number of keys tracked; 0 means 65,536. Each key
	// costs about 200 bytes plus its length. A key that still counts (an
	// attempt in its window, a lockout, an escalation to remember) is never
	// dropped to make room, so no flood of new keys can reset a budget or
	// lift a lockout. Room comes from keys the rules have forgotten, keys
	// that count nothing (their attempts were given back), and keys counted
	// only in refused Takes (a locked address trying made-up usernames: no
	// password was checked for them). When none is left, Take fails with
	// ErrFull and counts nothing: the limits hold, and the application
	// answers 503, as when Redis is down. Set MaxKeys above the number of
	// keys counting within a window at your peak (about three per failed
	// sign-in: address, account, device), or use NewRedis.
	MaxKeys int
}

// memory is the Limiter NewMemory returns.
type memory struct {
	now     func() time.Time
	maxKeys int

	mu   sync.Mutex
	keys map[string]*memEntry
	// Every key is in one place: cheap holds keys counted only in Takes
	// another key refused, empty the keys that count nothing (each list
	// from least to most recently changed), counting the others, a heap
	// by the time the rules forget each (memEntry.forgetAt), whatever its
	// rule or lockout. Room is made from the first two, then from the
	// forgotten keys at the top of counting.
	cheap, empty list.List
	counting     byForget
}

type memEntry struct {
	key    string
	n      int       // attempts counted in the window
	start  time.Time // the window's start
	last   time.Time // last attempt counted
	until  time.Time // locked before this instant
	level  int       // lockouts so far
	limit  int       // the rule of the last Take, for pruning
	window time.Duration
	el     *list.Element
	in     *list.List // the list el is in, or nil
	idx    int        // its place in the counting heap, or -1
	cheap  bool       // counted only in Takes in which another key refused
}

// forgetAt is when the rules forget e (see forgotten): a window after its
// last attempt and after its lockout ends.
func (e *memEntry) forgetAt() time.Time {
	quiet := e.last
	if e.until.After(quiet) {
		quiet = e.until
	}
	if quiet.IsZero() {
		return time.Unix(1<<62, 0) // never counted: not forgotten
	}
	return quiet.Add(e.window)
}

// byForget is a heap of entries, the one the rules forget first on top.
type byForget []*memEntry

func (h byForget) Len() int           { return len(h) }
func (h byForget) Less(i, j int) bool { return h[i].forgetAt().Before(h[j].forgetAt()) }
func (h byForget) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx, h[j].idx = i, j
}
func (h *byForget) Push(x any) {
	e := x.(*memEntry)
	e.idx = len(*h)
	*h = append(*h, e)
}
func (h *byForget) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	e.idx = -1
	return e
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
	var entryBuf [8]*memEntry
	var createdBuf [8]bool
	entries, created := entryBuf[:0], createdBuf[:0] // on the stack for a Guard's few keys
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.makeRoom(reqs, now); err != nil {
		return nil, err
	}
	for i, q := range reqs {
		e, c := m.entry(q.Key)
		entries, created = append(entries, e), append(created, c)
		res[i] = m.take(e, q, now)
	}
	// A key counted only in Takes that another key refused (no password
	// was checked for it) may make room; one counted in a Take that no
	// other key refused counts from then on. A key that refused itself (a
	// duplicate of it in the Take allowed, then locked) is not cheap.
	for i, e := range entries {
		byOther := false
		for j, o := range entries {
			byOther = byOther || o != e && !res[j].Allowed
		}
		cheap := byOther && (created[i] || e.cheap)
		if e.cheap != cheap && m.keys[e.key] == e {
			e.cheap = cheap
			m.file(e, now)
		}
	}
	m.prune(now)
	return res, nil
}

// makeRoom drops keys that lose nothing by it until the keys of reqs not
// tracked yet fit within MaxKeys, before anything is counted; the keys of
// reqs themselves stay. It returns ErrFull, having dropped nothing that
// still counts, when no such key is left. The caller holds m.mu.
func (m *memory) makeRoom(reqs []Request, now time.Time) error {
	var pinBuf [8]*memEntry
	pinned, missing := pinBuf[:0], 0
	for i, q := range reqs {
		if e := m.keys[q.Key]; e != nil {
			pinned = append(pinned, e)
		} else if !slices.ContainsFunc(reqs[:i], func(p Request) bool { return p.Key == q.Key }) {
			missing++
		}
	}
	for len(m.keys)+missing > m.maxKeys {
		e := m.spare(now, pinned)
		if e == nil {
			return ErrFull
		}
		m.remove(e)
	}
	return nil
}

// spare returns a key that may be dropped and is not pinned: the least
// recently changed one counted only in refused Takes, else one that counts
// nothing, else one the rules have forgotten; nil when every key still
// counts.
func (m *memory) spare(now time.Time, pinned []*memEntry) *memEntry {
	free := func(e *memEntry) bool { return !slices.Contains(pinned, e) }
	for _, l := range [2]*list.List{&m.cheap, &m.empty} {
		for el := l.Front(); el != nil; el = el.Next() {
			if e := el.Value.(*memEntry); free(e) {
				return e
			}
		}
	}
	// The forgotten keys are at the top of the heap; a pinned one (a key
	// of the Take at hand, which take resets) is set aside meanwhile.
	var asideBuf [8]*memEntry
	aside := asideBuf[:0] // at most the pinned keys
	var found *memEntry
	for len(m.counting) > 0 && m.counting[0].forgotten(now) {
		if e := m.counting[0]; free(e) {
			found = e
			break
		}
		aside = append(aside, heap.Pop(&m.counting).(*memEntry))
	}
	for _, e := range aside {
		heap.Push(&m.counting, e)
	}
	return found
}

// entry returns key's entry, creating it when it is not tracked
// (created); makeRoom has made room for it.
func (m *memory) entry(key string) (e *memEntry, created bool) {
	if e = m.keys[key]; e != nil {
		return e, false
	}
	e = &memEntry{key: key, idx: -1}
	m.keys[key] = e
	return e, true
}

func (m *memory) take(e *memEntry, q Request, now time.Time) Result {
	r := q.Rule
	e.limit, e.window = r.Limit, r.Window
	defer m.file(e, now)
	if now.Before(e.until) {
		return Result{Key: q.Key, RetryAfter: e.until.Sub(now)}
	}
	if e.forgotten(now) {
		*e = memEntry{key: e.key, limit: e.limit, window: e.window, el: e.el, in: e.in, idx: e.idx, cheap: e.cheap}
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

// file puts e where its state belongs: at the back of the cheap or empty
// list, or in the counting heap at its forgetting time.
func (m *memory) file(e *memEntry, now time.Time) {
	var l *list.List
	switch {
	case e.cheap:
		l = &m.cheap
	case e.n == 0 && e.level == 0 && !now.Before(e.until):
		l = &m.empty
	}
	switch {
	case l == nil && e.idx >= 0:
		heap.Fix(&m.counting, e.idx)
	case l == nil:
		m.unlink(e)
		heap.Push(&m.counting, e)
	case e.in == l:
		l.MoveToBack(e.el)
	default:
		m.unlink(e)
		e.el, e.in = l.PushBack(e), l
	}
}

// unlink takes e out of its list or the heap.
func (m *memory) unlink(e *memEntry) {
	if e.in != nil {
		e.in.Remove(e.el)
		e.el, e.in = nil, nil
	}
	if e.idx >= 0 {
		heap.Remove(&m.counting, e.idx)
	}
}

func (m *memory) remove(e *memEntry) {
	m.unlink(e)
	delete(m.keys, e.key)
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

// prune drops up to two forgotten keys from the front of each list (the
// least recently changed keys) and from the top of the counting heap (the
// first the rules forget): amortized over the attempts that made them, a
// key the rules have forgotten does not stay. The caller holds m.mu.
func (m *memory) prune(now time.Time) {
	for _, l := range [2]*list.List{&m.cheap, &m.empty} {
		for range 2 {
			el := l.Front()
			if el == nil || !el.Value.(*memEntry).forgotten(now) {
				break
			}
			m.remove(el.Value.(*memEntry))
		}
	}
	for range 2 {
		if len(m.counting) == 0 || !m.counting[0].forgotten(now) {
			break
		}
		m.remove(m.counting[0])
	}
}

// len returns the number of keys tracked, for the package's tests.
func (m *memory) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.keys)
}
