package providerlogin

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/sessionauth/session"
)

// flowsKey is the session value holding the visitor's pending sign-ins.
const flowsKey = "providerlogin.flows"

// maxFlows bounds the pending sign-ins kept per visitor (several tabs); a
// new one pushes the oldest out.
const maxFlows = 4

// maxFlowsValue bounds the stored value decoded on a callback.
const maxFlowsValue = 16 << 10

// flow is one sign-in in progress, kept in the visitor's session between
// the login redirect and the callback. It holds secrets (the PKCE verifier
// and nonce) and so lives only server-side, in the session store.
type flow struct {
	State    string `json:"s"`
	Provider string `json:"p"` // the Provider's name: mix-up defence
	Issuer   string `json:"i"` // the issuer it was started against
	Verifier string `json:"v"` // PKCE code_verifier
	Nonce    string `json:"n"`
	Return   string `json:"r"` // checked return path
	Expires  int64  `json:"e"` // Unix seconds
	// MaxAge is the max_age sent, in seconds; nil when none was.
	MaxAge *int64 `json:"m,omitempty"`
	// StepUp is the user ID signed in when a step-up started ("" for a
	// sign-in): the callback records a fresh proof for this user only.
	StepUp string `json:"u,omitempty"`
}

// randomToken returns 32 random bytes, base64url: 43 characters.
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// loadFlows returns the unexpired pending flows. A value that does not
// decode counts as none.
func loadFlows(s *session.Session, now time.Time) []flow {
	raw := s.Get(flowsKey)
	if raw == "" || len(raw) > maxFlowsValue {
		return nil
	}
	var fs []flow
	if json.Unmarshal([]byte(raw), &fs) != nil {
		return nil
	}
	live := fs[:0]
	for _, f := range fs {
		if f.Expires > now.Unix() {
			live = append(live, f)
		}
	}
	return live
}

// saveFlows stores fs, or deletes the value when there are none.
func saveFlows(s *session.Session, fs []flow) {
	if len(fs) == 0 {
		s.Delete(flowsKey)
		return
	}
	b, _ := json.Marshal(fs) // plain strings and ints: cannot fail
	s.Set(flowsKey, string(b))
}

// addFlow stores f beside the visitor's other pending flows, dropping
// expired ones and, past maxFlows, the oldest.
func addFlow(s *session.Session, f flow, now time.Time) {
	fs := loadFlows(s, now)
	if len(fs) >= maxFlows {
		fs = fs[len(fs)-maxFlows+1:]
	}
	saveFlows(s, append(fs, f))
}

// takeFlow removes the flow with the given state and returns it: a state
// works once. Expired flows are dropped on the way (re-saving an unchanged
// list is not a write). The comparison is constant-time.
func takeFlow(s *session.Session, state string, now time.Time) (flow, bool) {
	if s.Get(flowsKey) == "" {
		return flow{}, false
	}
	fs := loadFlows(s, now)
	var found flow
	ok := false
	rest := make([]flow, 0, len(fs))
	for _, f := range fs {
		if !ok && state != "" && subtle.ConstantTimeCompare([]byte(f.State), []byte(state)) == 1 {
			found, ok = f, true
			continue
		}
		rest = append(rest, f)
	}
	saveFlows(s, rest)
	return found, ok
}
