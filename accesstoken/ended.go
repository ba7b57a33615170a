package accesstoken

import (
	"sync"
	"time"
)

// endedSessions remembers session IDs that Strict found ended, until the
// exp of the token that showed them, so a client that keeps sending a dead
// session's token costs no further store call. A session ID never comes
// back to life (it is derived from the session's random token), so the
// memory can only ever refuse what the store would refuse.
type endedSessions struct {
	mu  sync.Mutex
	ids map[string]time.Time
	max int
}

func newEndedSessions(max int) *endedSessions {
	return &endedSessions{ids: make(map[string]time.Time), max: max}
}

func (e *endedSessions) has(sid string, now time.Time) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	until, ok := e.ids[sid]
	return ok && now.Before(until)
}

// add remembers sid until until, dropping expired and then arbitrary
// entries when full, as tokenCache does.
func (e *endedSessions) add(sid string, until, now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.ids) >= e.max {
		for k, u := range e.ids {
			if !now.Before(u) {
				delete(e.ids, k)
			}
		}
		for k := range e.ids {
			if len(e.ids) <= e.max-e.max/8-1 {
				break
			}
			delete(e.ids, k)
		}
	}
	if cur, ok := e.ids[sid]; !ok || until.After(cur) {
		e.ids[sid] = until
	}
}
