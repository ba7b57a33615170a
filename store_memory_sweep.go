package session

import "time"

// memoryShrinkMin is the smallest high-water mark at which a sweep
// re-allocates a map that has become mostly empty: smaller maps cost too
// little to bother.
const memoryShrinkMin = 1024

// defaultSweepInterval is how often a MemoryStore removes expired records.
const defaultSweepInterval = time.Minute

// Sweep frees every expired record now, and re-allocates the maps that are
// at a quarter or less of their high-water mark. It locks one shard at a
// time, so requests keep being served while it runs.
func (s *MemoryStore) sweep() {
	now := s.clock()
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for k, rec := range sh.records {
			if !now.Before(rec.Expires) {
				delete(sh.records, k)
				s.unindex(rec.UserID, k)
			}
		}
		if shrinkDue(sh.peak, len(sh.records)) {
			sh.records = resized(sh.records)
			sh.peak = len(sh.records)
		}
		sh.mu.Unlock()
	}
	s.usersMu.Lock()
	if shrinkDue(s.usersPeak, len(s.users)) {
		s.users = resized(s.users)
		s.usersPeak = len(s.users)
	}
	s.usersMu.Unlock()
}

// shrinkDue reports whether a map that once held peak entries and now holds
// n should be re-allocated.
func shrinkDue(peak, n int) bool {
	return peak >= memoryShrinkMin && n <= peak/4
}

// resized returns a copy of m in a map allocated for its current size
// (maps.Clone would keep the old capacity).
func resized[K comparable, V any](m map[K]V) map[K]V {
	out := make(map[K]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// maybeSweep starts a sweep in the background when one is due and none runs.
func (s *MemoryStore) maybeSweep(now time.Time) {
	if now.UnixNano() < s.nextSweep.Load() || !s.sweeping.CompareAndSwap(false, true) {
		return
	}
	s.nextSweep.Store(now.Add(s.sweepInterval).UnixNano())
	go func() {
		defer s.sweeping.Store(false)
		s.sweep()
	}()
}

// armTimer makes sure a sweep is scheduled while the store holds records.
// The timer holds no goroutine while it waits.
func (s *MemoryStore) armTimer() {
	if s.timerArmed.Load() {
		return
	}
	s.timerMu.Lock()
	defer s.timerMu.Unlock()
	if s.timerArmed.Load() {
		return
	}
	s.timerArmed.Store(true)
	if s.timer == nil {
		s.timer = time.AfterFunc(s.sweepInterval, s.timedSweep)
	} else {
		s.timer.Reset(s.sweepInterval)
	}
}

// timedSweep runs when the timer fires: it sweeps and re-arms the timer while
// records remain. The flag is cleared before the store is counted, so a
// Create that finds it still set has stored its record where the count sees
// it.
func (s *MemoryStore) timedSweep() {
	if !s.sweeping.CompareAndSwap(false, true) {
		s.timerMu.Lock()
		s.timer.Reset(s.sweepInterval) // a read or write is sweeping; look again later
		s.timerMu.Unlock()
		return
	}
	s.nextSweep.Store(s.clock().Add(s.sweepInterval).UnixNano())
	s.sweep()
	s.sweeping.Store(false)
	s.timerMu.Lock()
	defer s.timerMu.Unlock()
	s.timerArmed.Store(false)
	if s.count() > 0 {
		s.timerArmed.Store(true)
		s.timer.Reset(s.sweepInterval)
	}
}
