package session

import (
	"context"
	"slices"
	"testing"
	"time"
)

// A login past the cap on a MemoryStore keeps the user's newest live
// sessions, the new one included, and ends the rest: expired records are
// ended and not counted, deleted ones are not counted, an index entry
// whose record is gone is dropped, and one whose record is another user's
// is neither counted nor touched. With one
// session past the cap (a login at the cap) the oldest is found without
// sorting; with several they are sorted; either way it must be the oldest,
// whatever order the index's map yields them in.
func TestMemoryStoreReplaceEndsTheOldestLiveSessions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		sessions int
		limit    int
		expired  []int // expire before the login
		deleted  []int
		gone     []int // the record vanishes, its index entry stays
		foreign  []int // the entry's record is another user's
		ended    []int // the user's records that must be gone (expired ones included)
	}{
		{name: "one past the cap", sessions: 5, limit: 5, ended: []int{1}},
		{name: "one past a cap of 32", sessions: 32, limit: 32, ended: []int{1}},
		{name: "several past", sessions: 6, limit: 3, ended: []int{1, 2, 3, 4}},
		{name: "expired ones not counted", sessions: 5, limit: 3, expired: []int{2, 4}, ended: []int{1, 2, 4}},
		{name: "expired ones ended, the live ones under the cap kept", sessions: 5, limit: 5, expired: []int{1, 3}, ended: []int{1, 3}},
		{name: "deleted ones not counted", sessions: 6, limit: 5, deleted: []int{6}, ended: []int{1}},
		{name: "entries without a record dropped, not counted", sessions: 6, limit: 5, gone: []int{6}, ended: []int{1}},
		{name: "another user's record not counted", sessions: 4, limit: 3, foreign: []int{3}, ended: []int{1}},
		{name: "a limit of one", sessions: 3, limit: 1, ended: []int{1, 2, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := &clock{t: time.Now()}
			s := newMemoryStore(time.Hour) // no sweep while the test runs
			s.now = clk.Now
			ctx := context.Background()
			keys := map[int]string{}
			for i := 1; i <= tt.sessions; i++ {
				keys[i] = memTestKey()
				user, exp := "u", clk.Now().Add(time.Hour)
				if slices.Contains(tt.expired, i) {
					exp = clk.Now().Add(time.Minute)
				}
				if slices.Contains(tt.foreign, i) {
					user = "someone-else"
				}
				if err := s.Replace(ctx, "", keys[i], Record{UserID: user, Expires: exp}, 0); err != nil {
					t.Fatal(err)
				}
				if slices.Contains(tt.foreign, i) { // the user's index names it, in its place in the order
					s.usersMu.Lock()
					s.users["u"][keys[i]] = s.users["someone-else"][keys[i]]
					s.usersMu.Unlock()
				}
			}
			for _, i := range tt.deleted {
				if err := s.Delete(ctx, keys[i]); err != nil {
					t.Fatal(err)
				}
			}
			for _, i := range tt.gone {
				sh := s.shard(keys[i])
				sh.mu.Lock()
				delete(sh.records, keys[i])
				sh.mu.Unlock()
			}
			clk.Advance(2 * time.Minute)
			newKey := memTestKey()
			if err := s.Replace(ctx, "", newKey, Record{UserID: "u", Expires: clk.Now().Add(time.Hour)}, tt.limit); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Get(ctx, newKey); err != nil {
				t.Fatalf("the new session: %v", err)
			}
			for i := 1; i <= tt.sessions; i++ {
				gone := !s.holds(keys[i])
				switch {
				case slices.Contains(tt.foreign, i) && gone:
					t.Errorf("another user's record under entry %d was deleted", i)
				case slices.Contains(tt.deleted, i) || slices.Contains(tt.foreign, i) || slices.Contains(tt.gone, i):
				case slices.Contains(tt.ended, i) != gone:
					t.Errorf("session %d ended %v, want %v (ended: %v)", i, gone, slices.Contains(tt.ended, i), tt.ended)
				}
			}
			list, err := s.ListUser(ctx, "u")
			if err != nil {
				t.Fatal(err)
			}
			live := 0
			for _, e := range list {
				if e.Record.UserID == "u" {
					live++
				}
			}
			if want := min(tt.limit, tt.sessions+1-len(tt.expired)-len(tt.deleted)-len(tt.gone)-len(tt.foreign)); live != want {
				t.Errorf("ListUser after the login = %d of the user's sessions, want %d", live, want)
			}
			s.usersMu.Lock()
			indexed := len(s.users["u"])
			s.usersMu.Unlock()
			if want := live + len(tt.foreign); indexed != want {
				t.Errorf("the index holds %d entries, want %d (the live ones and the other user's)", indexed, want)
			}
		})
	}
}

// holds reports whether s has a record under key, expired or not.
func (s *MemoryStore) holds(key string) bool {
	sh := s.shard(key)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	_, ok := sh.records[key]
	return ok
}
