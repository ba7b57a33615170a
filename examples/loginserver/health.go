package main

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// healthz is GET /healthz, the liveness probe: 200 while the process serves
// HTTP. It does not look at the store: an outage of Redis must not make an
// orchestrator restart every instance.
func (a *app) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz is GET /readyz, the readiness probe: 200 when the session store
// answers, 503 while it cannot be reached (then sign-in and every page that
// needs a session answer 503 too). The body says which, never why: the cause
// goes to the log when readiness changes.
func (a *app) readyz(w http.ResponseWriter, r *http.Request) {
	if err := a.ready.check(r.Context()); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "session store unreachable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// readiness runs the store's ping at most once per readinessTTL, however
// often the probe comes, with a deadline of readinessTimeout; concurrent
// probes share one ping. It logs when the answer changes.
type readiness struct {
	ping    func(context.Context) error
	onFlip  func(err error)
	mu      sync.Mutex
	checked time.Time
	err     error
}

const (
	readinessTTL     = time.Second
	readinessTimeout = 500 * time.Millisecond
)

func (rd *readiness) check(ctx context.Context) error {
	rd.mu.Lock()
	defer rd.mu.Unlock()
	if !rd.checked.IsZero() && time.Since(rd.checked) < readinessTTL {
		return rd.err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), readinessTimeout)
	defer cancel()
	err := rd.ping(ctx)
	if (err == nil) != (rd.err == nil) || rd.checked.IsZero() && err != nil {
		rd.onFlip(err)
	}
	rd.checked, rd.err = time.Now(), err
	return err
}
