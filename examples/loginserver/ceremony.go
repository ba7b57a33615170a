package main

import (
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/sessionauth/session/throttle"
)

// ceremonyRule is the budget of one client address (an IPv4 address or an
// IPv6 /64) for starting a sign-in that needs no password: "Sign in with"
// (POST /auth/NAME/login) and a passkey sign-in (POST
// /passkey/signin/begin, which the sign-in page also calls for autofill).
// Each start by a signed-out browser stores a session for its challenge or
// state, kept for the session idle timeout; without a budget, one client
// could fill the session store with them. 300 starts in 10 minutes is far
// more than a crowd behind one address makes by hand.
var ceremonyRule = throttle.Rule{Limit: 300, Window: 10 * time.Minute, Lockout: time.Minute, MaxLockout: 15 * time.Minute}

// ceremonyBudget answers a start past ceremonyRule with 429 and
// Retry-After, and one the counts cannot be reached for (Redis down) with
// 503, before next stores anything. Other requests pass through.
func (a *app) ceremonyBudget(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !startsCeremony(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		res, err := a.limiter.Take(r.Context(), []throttle.Request{{Key: "ceremony|" + addressKey(a.guard.ClientAddr(r)), Rule: ceremonyRule}})
		switch {
		case err != nil:
			a.log.ErrorContext(r.Context(), "sign-in start: throttle unavailable", "error", err)
			a.answer(w, r, errThrottleDown, "signin", a.signInData(""))
			return
		case !res[0].Allowed:
			p := errCeremonyThrottled(retrySeconds(res[0].RetryAfter))
			a.log.WarnContext(r.Context(), "sign-in start throttled", "network", a.clientNetwork(r), "retry_after_s", p.retryAfter)
			a.answer(w, r, p, "signin", a.signInData(""))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// startsCeremony reports whether a POST to path starts a sign-in that
// stores its state in a new session.
func startsCeremony(path string) bool {
	return path == "/passkey/signin/begin" || strings.HasPrefix(path, "/auth/") && strings.HasSuffix(path, "/login")
}

// addressKey is the address a budget counts: the IPv4 address, or the
// IPv6 /64 (one customer's network); "" for none.
func addressKey(ip netip.Addr) string {
	if !ip.IsValid() {
		return ""
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}
