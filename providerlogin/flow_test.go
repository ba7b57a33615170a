package providerlogin

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sessionauth/session"
)

// withSession runs fn inside a real session middleware, once per request,
// carrying the cookie from one request to the next.
func withSession(t *testing.T) func(fn func(s *session.Session)) {
	t.Helper()
	keys, _ := session.NewKeyRing(session.GenerateKey())
	m, err := session.New(session.Config{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	var cookies []*http.Cookie
	return func(fn func(s *session.Session)) {
		h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fn(session.FromContext(r.Context()))
			io.WriteString(w, "ok")
		}))
		req := httptest.NewRequest(http.MethodGet, "http://localhost/", nil)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if got := rec.Result().Cookies(); len(got) > 0 {
			cookies = got
		}
	}
}

func TestFlowsAreBoundedSingleUseAndExpire(t *testing.T) {
	t.Parallel()
	run := withSession(t)
	now := time.Now()
	var states []string
	for i := range maxFlows + 2 {
		f := flow{State: randomToken(), Provider: "p", Expires: now.Add(time.Minute).Unix(), Return: fmt.Sprint("/", i)}
		states = append(states, f.State)
		run(func(s *session.Session) { addFlow(s, f, now) })
	}
	run(func(s *session.Session) {
		if n := len(loadFlows(s, now)); n != maxFlows {
			t.Errorf("%d pending flows kept, want %d", n, maxFlows)
		}
	})
	run(func(s *session.Session) {
		if _, ok := takeFlow(s, states[0], now); ok {
			t.Error("the oldest flow was not pushed out")
		}
	})
	last := states[len(states)-1]
	run(func(s *session.Session) {
		if f, ok := takeFlow(s, last, now); !ok || f.Return != fmt.Sprint("/", maxFlows+1) {
			t.Errorf("takeFlow(newest) = %+v, %v", f, ok)
		}
	})
	run(func(s *session.Session) {
		if _, ok := takeFlow(s, last, now); ok {
			t.Error("a state worked twice")
		}
	})
	run(func(s *session.Session) {
		if _, ok := takeFlow(s, states[2], now.Add(2*time.Minute)); ok {
			t.Error("an expired flow was accepted")
		}
		if v := s.Get(flowsKey); v != "" {
			t.Errorf("expired flows kept: %q", v)
		}
	})
	run(func(s *session.Session) {
		if _, ok := takeFlow(s, "", now); ok {
			t.Error("an empty state matched")
		}
	})
}

func TestCorruptFlowsValueCountsAsNone(t *testing.T) {
	t.Parallel()
	run := withSession(t)
	for _, v := range []string{"{", "null", `[{"s":1}]`, strings.Repeat("[", maxFlowsValue+1)} {
		run(func(s *session.Session) { s.Set(flowsKey, v) })
		run(func(s *session.Session) {
			if _, ok := takeFlow(s, "x", time.Now()); ok {
				t.Errorf("value %.20q produced a flow", v)
			}
		})
	}
}
