package throttle

import (
	"hash/maphash"
	"math/bits"
	"time"
)

// A key the memory limiter drops to make room leaves a ghost: what it had
// counted (attempts, window, lockout and its escalation), in one of two
// slots of a table of ghostSlots(MaxKeys), picked by a seeded hash of the
// key. A key created again while its ghost would still count (the rules
// have not forgotten it) starts from the ghost, so dropping a key never
// hands it a fresh budget: a flood that pushes an address's own key out on
// every attempt (the map full of keys with more attempts each) finds the
// count where it left it. The ghost carries a fingerprint of its key, so
// no other key inherits it.
//
// A ghost goes to whichever of its two slots is free (or holds only a
// ghost the rules have forgotten); when both hold live ghosts of other
// keys, it replaces the one locked for less time, else with the smaller
// share of its limit spent, else the older, unless both outrank it. So a
// ghost is lost only when both its slots are taken between its burial and
// its key's return, and the hash is seeded per limiter, so an attacker
// cannot aim keys at another's slots. A key takes its ghost back before
// its own creation makes room (and buries another), so nothing lands on
// the ghost in between. The table is allocated at the first eviction: a
// limiter that never fills costs nothing more.
type ghost struct {
	fp                 uint64 // the key's hash; 0: empty
	start, last, until int64  // Unix nanoseconds, as memEntry's times
	window             time.Duration
	n, limit, level    int
}

// ghostSlots is the size of the ghost table for maxKeys: about 64 bytes a
// key, against about 200 for a key's entry.
func ghostSlots(maxKeys int) int { return max(1024, maxKeys) }

// live reports whether the rules would still count g at now (see
// memEntry.forgotten).
func (g *ghost) live(now time.Time) bool {
	if g.fp == 0 {
		return false
	}
	quiet := max(g.last, g.until)
	return quiet != 0 && now.UnixNano() < quiet+int64(g.window)
}

// spentMore reports whether g has spent a larger share of its limit than
// h, or is locked longer.
func (g *ghost) spentMore(h *ghost) bool {
	if g.until != h.until {
		return g.until > h.until
	}
	return shareAbove(g.n, g.limit, h.n, h.limit)
}

// shareAbove reports whether n1/l1 > n2/l2, for counts and limits of at
// least 0 and 1, without overflow.
func shareAbove(n1, l1, n2, l2 int) bool {
	hi1, lo1 := bits.Mul64(uint64(n1), uint64(max(l2, 1)))
	hi2, lo2 := bits.Mul64(uint64(n2), uint64(max(l1, 1)))
	return hi1 > hi2 || hi1 == hi2 && lo1 > lo2
}

// fingerprint is key's hash under the limiter's seed; never 0.
func (m *memory) fingerprint(key string) uint64 {
	return maphash.String(m.seed, key) | 1
}

// bury keeps what e counted, as it is dropped to make room. Keys that
// count nothing a new key would not (no attempt in the window, no
// lockout, no escalation) and keys counted only in refused Takes leave
// none.
func (m *memory) bury(e *memEntry, now time.Time) {
	if e.cheap || e.n == 0 && e.level == 0 && !now.Before(e.until) {
		return
	}
	if m.ghosts == nil {
		m.ghosts = make([]ghost, ghostSlots(m.maxKeys))
	}
	g := ghost{fp: m.fingerprint(e.key), window: e.window, n: e.n, limit: e.limit, level: e.level}
	g.start, g.last, g.until = unixNano(e.start), unixNano(e.last), unixNano(e.until)
	if !g.live(now) {
		return
	}
	a, b := m.slots(g.fp)
	for _, slot := range [2]*ghost{a, b} {
		if slot.fp == g.fp || !slot.live(now) {
			*slot = g
			return
		}
	}
	victim := a
	if a.spentMore(b) || !b.spentMore(a) && b.last < a.last {
		victim = b
	}
	if !victim.spentMore(&g) {
		*victim = g
	}
}

// slots returns the two slots of the ghost of a key whose fingerprint is
// fp (the same slot twice, now and then).
func (m *memory) slots(fp uint64) (*ghost, *ghost) {
	n := uint64(len(m.ghosts))
	return &m.ghosts[fp%n], &m.ghosts[(fp>>32)%n]
}

// unbury takes key's ghost out of the table, if it left one that still
// counts (ok).
func (m *memory) unbury(key string, now time.Time) (g ghost, ok bool) {
	if m.ghosts == nil {
		return ghost{}, false
	}
	fp := m.fingerprint(key)
	a, b := m.slots(fp)
	for _, slot := range [2]*ghost{a, b} {
		if slot.fp == fp {
			g, *slot = *slot, ghost{}
			return g, g.live(now)
		}
	}
	return ghost{}, false
}

// refundGhost is Refund for a key that was dropped: its ghost gives back
// one attempt counted in the window that started at start.
func (m *memory) refundGhost(key string, start time.Time, now time.Time) {
	if m.ghosts == nil {
		return
	}
	fp := m.fingerprint(key)
	a, b := m.slots(fp)
	for _, slot := range [2]*ghost{a, b} {
		if slot.fp == fp && slot.live(now) && slot.n > 0 && slot.start == unixNano(start) {
			slot.n--
			return
		}
	}
}

// haunt gives e, a key just created for a Take under rule, what its ghost
// g counted. An attempt count under another limit is scaled to this
// rule's, rounding up.
func haunt(e *memEntry, g ghost, rule Rule) {
	e.n, e.level = scaleCount(g.n, g.limit, rule.Limit), g.level
	e.start, e.last, e.until = fromUnixNano(g.start), fromUnixNano(g.last), fromUnixNano(g.until)
}

// scaleCount is n attempts of limit as attempts of to, rounding up: the
// same share of the budget spent, at most all of it.
func scaleCount(n, limit, to int) int {
	switch {
	case limit <= 0 || limit == to:
		return n
	case n >= limit:
		return to
	}
	hi, lo := bits.Mul64(uint64(n), uint64(to))
	q, r := bits.Div64(hi, lo, uint64(limit)) // n < limit, so the quotient is below to
	if r != 0 {
		q++
	}
	return int(q)
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}
