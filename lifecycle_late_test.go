package session

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

// A change after the response headers went out is saved into the stored
// session (only the cookie can no longer change), even when the client has
// gone meanwhile (net/http cancels the request's context). A request
// without one cannot get one any more: Set says so instead of dropping the
// value silently, as it does when the session could not be read.
func TestChangesAfterHeadersAreSaved(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		signedIn  bool
		storeDown bool
		gone      bool    // the client closed the connection after the body
		want      []error // what the late Set wraps; none: nil
	}{
		{name: "stored session", signedIn: true},
		{name: "stored session, client gone", signedIn: true, gone: true},
		{name: "anonymous request", want: []error{ErrHeadersWritten}},
		{name: "session not readable", signedIn: true, storeDown: true, want: []error{ErrHeadersWritten, ErrStoreUnavailable}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, nil)
			var c string
			if tt.signedIn {
				c = h.login("alice")
			}
			h.store.fail.Store(tt.storeDown)
			var setErr error
			ctx, clientGone := context.WithCancel(context.Background())
			defer clientGone()
			app := h.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.gone {
					FromContext(r.Context()).UserID() // loaded while the client is there
				}
				w.Write([]byte("body first"))
				if tt.gone {
					clientGone()
				}
				setErr = FromContext(r.Context()).Set("late", "yes")
				if err := h.m.Login(w, r, "bob"); !errors.Is(err, ErrHeadersWritten) {
					t.Errorf("Login after the body = %v", err)
				}
			}))
			r := httptest.NewRequestWithContext(ctx, "GET", "/", nil)
			if c != "" {
				r.AddCookie(&http.Cookie{Name: h.m.cookie.Name, Value: c})
			}
			writes := h.store.writes()
			app.ServeHTTP(httptest.NewRecorder(), r)
			h.store.fail.Store(false)
			for _, want := range tt.want {
				if !errors.Is(setErr, want) {
					t.Errorf("late Set = %v; want it to wrap %v", setErr, want)
				}
			}
			if len(tt.want) > 0 {
				if n := h.store.writes() - writes; n != 0 {
					t.Errorf("a late Set that reported an error made %d store writes", n)
				}
				return
			}
			if setErr != nil {
				t.Errorf("late Set on a stored session = %v; want nil", setErr)
			}
			if got := h.do("GET", "/get?k=late", c).Body.String(); got != "yes" || h.whoami(c) != "alice" {
				t.Fatalf("late change lost: %q", got)
			}
		})
	}
}
