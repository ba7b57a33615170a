package session

import (
	"cmp"
	"context"
	"slices"
	"sync"
)

// Replace deletes oldKey (unless it is ""), creates rec under key as Create
// does, and, when rec.UserID is not "" and limit > 0, ends the user's oldest
// live sessions, in the order they were created in this store, until at
// most limit remain, the new one included (it implements Replacer). Replace
// calls for one user run one at a time, so concurrent logins never leave
// more than limit sessions. Cost: past the cap, a look at each of the
// user's records.
func (s *MemoryStore) Replace(ctx context.Context, oldKey, key string, rec Record, limit int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	capped := rec.UserID != "" && limit > 0
	if capped {
		mu := s.userLock(rec.UserID)
		mu.Lock()
		defer mu.Unlock()
	}
	if oldKey != "" {
		s.remove(oldKey)
	}
	if err := s.Create(ctx, key, rec); err != nil {
		return err
	}
	if capped {
		s.trim(rec.UserID, key, limit)
	}
	return nil
}

// userLock returns the lock Replace holds for userID (FNV-1a of the ID).
func (s *MemoryStore) userLock(userID string) *sync.Mutex {
	h := uint32(2166136261)
	for i := 0; i < len(userID); i++ {
		h ^= uint32(userID[i])
		h *= 16777619
	}
	return &s.userLocks[h%uint32(len(s.userLocks))]
}

// trim ends userID's oldest live sessions until at most limit remain, keep
// (the one just created) always among them. Expired records of the user's
// are ended, and index entries whose record is gone dropped, on the way;
// an entry whose record is another user's is left alone.
//
// It looks at every other record of the user's once, ending the expired
// ones, and then ends the oldest of the live ones past limit - 1: found
// with one pass when there is one (a login at the cap, as a rule), sorted
// otherwise. (Sorting them all, newest first, took about 40 % of a login
// at the cap: each swap of two keys in a heap slice costs write barriers
// while the collector runs.)
func (s *MemoryStore) trim(userID, keep string, limit int) {
	s.usersMu.Lock()
	set := s.users[userID]
	if len(set) <= limit {
		s.usersMu.Unlock()
		return
	}
	entries := make([]memoryEntry, 0, len(set))
	for k, o := range set {
		if k != keep {
			entries = append(entries, memoryEntry{k, o})
		}
	}
	s.usersMu.Unlock()
	now := s.clock()
	live := entries[:0]
	for _, e := range entries {
		sh := s.shard(e.key)
		sh.mu.Lock()
		rec, ok := sh.records[e.key]
		switch {
		case ok && rec.UserID == userID && now.Before(rec.Expires):
			live = append(live, e)
		case ok && rec.UserID == userID:
			delete(sh.records, e.key) // expired
			s.unindex(userID, e.key)
		case !ok:
			s.unindex(userID, e.key)
		}
		sh.mu.Unlock()
	}
	past := len(live) - (limit - 1) // live sessions to end, besides keep
	switch {
	case past <= 0:
		return
	case past == 1:
		oldest := 0
		for i, e := range live {
			if e.order < live[oldest].order {
				oldest = i
			}
		}
		s.removeOf(userID, live[oldest].key)
	default:
		slices.SortFunc(live, func(a, b memoryEntry) int { return cmp.Compare(a.order, b.order) }) // oldest first
		for _, e := range live[:past] {
			s.removeOf(userID, e.key)
		}
	}
}

// memoryEntry is a store key in a user's index and its creation order.
type memoryEntry struct {
	key   string
	order uint64
}
