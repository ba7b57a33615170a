package session

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
)

// liveSessions returns the public IDs of userID's live records, read from
// the MemoryStore's shards (not through ListUser, which is under test).
func liveSessions(mem *MemoryStore, userID string) []string {
	now := mem.clock()
	var ids []string
	for i := range mem.shards {
		sh := &mem.shards[i]
		sh.mu.RLock()
		for k, rec := range sh.records {
			if rec.UserID == userID && now.Before(rec.Expires) {
				ids = append(ids, publicID(k))
			}
		}
		sh.mu.RUnlock()
	}
	slices.Sort(ids)
	return ids
}

// One user's logins, renewals, logouts and device listings, run
// concurrently on a MemoryStore, then LogoutAll, then more of the same,
// never leave more live sessions than MaxSessionsPerUser, and the device
// list always shows every live session.
func TestConcurrentLoginsStayWithinTheCapAndListed(t *testing.T) {
	t.Parallel()
	const (
		user    = "alice"
		max     = 4
		clients = 8
		devices = 12
		ops     = 60
		rounds  = 2
	)
	ring, err := NewKeyRing(testKeyA)
	if err != nil {
		t.Fatal(err)
	}
	mem := NewMemoryStore()
	m, err := New(Config{Store: mem, Keys: ring, MaxSessionsPerUser: max})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) { _ = m.Login(w, r, user) })
	mux.HandleFunc("/renew", func(w http.ResponseWriter, r *http.Request) { _ = m.Renew(w, r) })
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) { _ = m.Logout(w, r) })
	app := m.Middleware(mux)
	do := func(path, cookie string) string {
		r := httptest.NewRequest("POST", path, nil)
		if cookie != "" {
			r.AddCookie(&http.Cookie{Name: m.cookie.Name, Value: cookie})
		}
		w := httptest.NewRecorder()
		app.ServeHTTP(w, r)
		for _, c := range w.Result().Cookies() {
			if c.Name == m.cookie.Name {
				return c.Value
			}
		}
		return cookie
	}
	ctx := context.Background()
	for round := range rounds {
		// Devices share cookies, so two requests of one device (a login
		// and a renewal of the same session) run at once, as in a browser
		// with several tabs.
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			devices = make([]string, devices)
		)
		for c := range clients {
			wg.Go(func() {
				for i := range ops {
					d := (c*31 + i*17) % len(devices)
					mu.Lock()
					cookie := devices[d]
					mu.Unlock()
					switch (c + i*7) % 10 {
					case 0, 1, 2, 3:
						cookie = do("/login", cookie)
					case 4, 5, 6:
						cookie = do("/renew", cookie)
					case 7:
						do("/logout", cookie)
						cookie = ""
					case 8:
						cookie = do("/login", "") // a new device
					default:
						if _, err := m.ListSessions(ctx, user); err != nil {
							t.Errorf("ListSessions: %v", err)
						}
					}
					mu.Lock()
					devices[d] = cookie
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		live := liveSessions(mem, user)
		list, err := m.ListSessions(ctx, user)
		if err != nil {
			t.Fatal(err)
		}
		var listed []string
		for _, s := range list {
			listed = append(listed, s.ID)
		}
		slices.Sort(listed)
		if len(live) > max || fmt.Sprint(listed) != fmt.Sprint(live) {
			t.Fatalf("round %d: %d live sessions with MaxSessionsPerUser %d; ListSessions lists %d of them (%d in all); want at most %d, all listed",
				round, len(live), max, countIn(listed, live), len(listed), max)
		}
		if round == 0 {
			if err := m.LogoutAll(ctx, user); err != nil {
				t.Fatal(err)
			}
			if live := liveSessions(mem, user); len(live) != 0 {
				t.Fatalf("%d sessions live after LogoutAll", len(live))
			}
		}
	}
}

// deleteHook is a MemoryStore (with every method of it, Replace included)
// whose Delete runs hook first.
type deleteHook struct {
	*MemoryStore
	hook func(key string)
}

func (d *deleteHook) Delete(ctx context.Context, key string) error {
	d.hook(key)
	return d.MemoryStore.Delete(ctx, key)
}

// A login that ends the oldest session past the cap while that session is
// being renewed does not leave the user with one session too many, hidden
// from the device list: the renewal's new session counts. (Before Replace
// took the limit, the login listed the sessions, the renewal then created
// its new one and deleted the old, and the login's delete of the old one
// found nothing: MaxSessionsPerUser+1 live, MaxSessionsPerUser listed.)
func TestLoginPastTheCapDuringARenewalStaysWithinTheCap(t *testing.T) {
	t.Parallel()
	const user, max = "alice", 3
	ring, err := NewKeyRing(testKeyA)
	if err != nil {
		t.Fatal(err)
	}
	store := &deleteHook{MemoryStore: NewMemoryStore(), hook: func(string) {}}
	m, err := New(Config{Store: store, Keys: ring, MaxSessionsPerUser: max, StoreTimeout: -1})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		if err := m.Login(w, r, user); err != nil {
			t.Errorf("Login: %v", err)
		}
	})
	renewed := make(chan error, 1)
	mux.HandleFunc("/renew", func(w http.ResponseWriter, r *http.Request) { renewed <- m.Renew(w, r) })
	app := m.Middleware(mux)
	do := func(path, cookie string) string {
		r := httptest.NewRequest("POST", path, nil)
		if cookie != "" {
			r.AddCookie(&http.Cookie{Name: m.cookie.Name, Value: cookie})
		}
		w := httptest.NewRecorder()
		app.ServeHTTP(w, r)
		for _, c := range w.Result().Cookies() {
			if c.Name == m.cookie.Name {
				return c.Value
			}
		}
		return ""
	}
	oldest := do("/login", "")
	v, ok := m.signer.verify(oldest)
	if !ok {
		t.Fatal("the first login's cookie does not verify")
	}
	for range max - 1 {
		do("/login", "")
	}
	// The next login ends the oldest session. If it does so with a Delete
	// of its own, the renewal of that session runs right before it.
	var first atomic.Bool
	trimming, resume := make(chan struct{}), make(chan struct{})
	store.hook = func(key string) {
		if key == v.storeKey && first.CompareAndSwap(false, true) {
			close(trimming)
			<-resume
		}
	}
	loggedIn := make(chan struct{})
	go func() {
		defer close(loggedIn)
		do("/login", "")
	}()
	select {
	case <-trimming:
		do("/renew", oldest) // its own Delete of the old key passes
		close(resume)
		<-loggedIn
	case <-loggedIn:
		do("/renew", oldest)
	}
	t.Logf("Renew: %v", <-renewed)
	live := liveSessions(store.MemoryStore, user)
	list, err := m.ListSessions(context.Background(), user)
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, s := range list {
		listed = append(listed, s.ID)
	}
	slices.Sort(listed)
	if len(live) > max || fmt.Sprint(listed) != fmt.Sprint(live) {
		t.Fatalf("%d live sessions with MaxSessionsPerUser %d, ListSessions lists %d of them (%d in all); want at most %d, all listed",
			len(live), max, countIn(listed, live), len(listed), max)
	}
}

func countIn(ids, in []string) int {
	n := 0
	for _, id := range ids {
		if slices.Contains(in, id) {
			n++
		}
	}
	return n
}
