package main

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// throttled returns the 429 to answer when a key is locked, or nil. It never
// sleeps: a locked client gets its answer at once.
//
// Three keys: the address (many failures, any accounts), the account from
// this address, and the account from anywhere. The account-wide lock stops
// only addresses that have already failed for this account, so an attacker
// who keeps an account locked from elsewhere never locks out its owner, while
// each attacking address still gets only a handful of guesses.
func (a *app) throttled(r *http.Request, k loginKeys) *problem {
	wait, ok := a.addrs.Check(k.addr)
	if k.pair != "" {
		keys := []string{k.pair}
		if a.accounts.Failing(k.pair) {
			keys = append(keys, k.user)
		}
		w2, ok2 := a.accounts.Check(keys...)
		wait, ok = max(wait, w2), ok && ok2
	}
	if ok {
		return nil
	}
	p := errThrottled(wait)
	a.log.WarnContext(r.Context(), "login throttled", "network", clientNetwork(r), "retry_after_s", p.retryAfter)
	return p
}

// loginKeys are the throttle keys of one sign-in attempt; user and pair are
// "" for a username that cannot exist.
type loginKeys struct{ user, pair, addr string }

func newLoginKeys(name string, validName bool, addr string) loginKeys {
	k := loginKeys{addr: "addr:" + addr}
	if validName {
		k.user = "user:" + name
		k.pair = "user:" + name + "|addr:" + addr
	}
	return k
}

// acquireHashSlot bounds concurrent password hashing, which bounds memory
// (19 MiB each) and CPU under a flood of logins.
func (a *app) acquireHashSlot(ctx context.Context) (release func(), ok bool) {
	release = sync.OnceFunc(func() { <-a.hashSlots })
	select { // a free slot wins even if the wait below has already run out
	case a.hashSlots <- struct{}{}:
		return release, true
	default:
	}
	t := time.NewTimer(a.slotWait)
	defer t.Stop()
	select {
	case a.hashSlots <- struct{}{}:
		return release, true
	case <-t.C:
		return nil, false
	case <-ctx.Done():
		return nil, false
	}
}
