package providerlogin

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A discovery document that redirects to another host is refused: that
// host's document, repeating the configured issuer, would name its own
// token endpoint and key set, and whoever controls the redirect would sign
// in as anyone.
func TestDiscoveryRefusesARedirectToAnotherOrigin(t *testing.T) {
	t.Parallel()
	hostile := newHostileOP(t)
	// The real issuer only redirects its discovery document.
	real := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/.well-known/openid-configuration" {
			http.Redirect(w, r, hostile.srv.URL+"/.well-known/openid-configuration", http.StatusFound)
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(real.Close)
	hostile.set(func(op *hostileOP) { op.issuer = real.URL }) // the document and tokens claim the real issuer
	a := hostileApp(t, real.URL, nil, nil)

	err := a.h.Discover(t.Context())
	b := newBrowser(t)
	res := b.post(a.base+"/auth/hostile/login", nil)
	if res.status == http.StatusSeeOther {
		q := mustParse(t, res.location).Query()
		hostile.set(func(op *hostileOP) { op.nonce = q.Get("nonce") })
		b.get(a.base + "/auth/hostile/callback?" + url.Values{"code": {"c"}, "state": {q.Get("state")}}.Encode())
	}
	if who := b.whoami(a); who != "anonymous" {
		t.Fatalf("Discover err=%v; login redirected to %s; signed in as %q with keys and tokens from %s", err, res.location, who, hostile.srv.URL)
	}
}

// A token endpoint that redirects (307) does not get the token request
// re-posted elsewhere: its code, PKCE verifier and client secret go to the
// token endpoint only.
func TestTokenRequestIsNotForwardedToAnotherOrigin(t *testing.T) {
	t.Parallel()
	var leaked atomic.Value
	thief := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		leaked.Store(r.PostForm.Encode())
		http.Error(w, "no", http.StatusBadRequest)
	}))
	t.Cleanup(thief.Close)
	op := newHostileOP(t)
	op.set(func(op *hostileOP) {
		op.doc = func(d map[string]any) { d["token_endpoint_auth_methods_supported"] = []string{"client_secret_post"} }
		op.token = func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, thief.URL+"/token", http.StatusTemporaryRedirect)
		}
	})
	a := hostileApp(t, op.issuer, nil, nil)
	b := newBrowser(t)
	b.get(hostileCallback(t, a, b, op))
	if v, _ := leaked.Load().(string); v != "" {
		t.Fatalf("token request re-posted to %s: %s", thief.URL, v)
	}
}

// With a Config.HTTPClient that has no Timeout, a key set answer that
// stalls (go-oidc fetches it apart from any request's context) is cut off
// after providerTimeout, so sign-ins work again once the provider is
// healthy. It waits providerTimeout.
func TestAHungJWKSFetchDoesNotOutliveItsSignIn(t *testing.T) {
	t.Parallel()
	op := newHostileOP(t)
	release := make(chan struct{}) // registered after the server: closed before it shuts down
	t.Cleanup(func() { close(release) })
	var hang atomic.Bool
	hang.Store(true)
	op.set(func(op *hostileOP) {
		op.jwks = func(w http.ResponseWriter, r *http.Request) {
			if hang.Load() {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusOK)
				w.(http.Flusher).Flush()
				select { // a provider that stalls mid-answer
				case <-release:
				case <-r.Context().Done():
				}
				return
			}
			w.Write(op.publicJWKS())
		}
	})
	a := hostileApp(t, op.issuer, func(c *Config) { c.HTTPClient = &http.Client{Transport: http.DefaultTransport} }, nil)

	callback := func(b *browser, timeout time.Duration) (int, error) {
		ctx, cancel := context.WithTimeout(t.Context(), timeout)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, hostileCallback(t, a, b, op), nil)
		res, err := b.c.Do(req)
		if err != nil {
			return 0, err
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode, nil
	}
	// First sign-in: the provider stalls; this one may fail.
	callback(newBrowser(t), time.Second)
	// The provider recovers; wait past providerTimeout (10 s), which bounds
	// every other call to a provider.
	hang.Store(false)
	time.Sleep(providerTimeout + time.Second)
	b := newBrowser(t)
	status, err := callback(b, 4*time.Second)
	if err != nil || status != http.StatusSeeOther || b.whoami(a) == "anonymous" {
		t.Fatalf("sign-in after the provider recovered: status %d, err %v (the JWKS fetch stalled %v ago is still in flight)", status, err, providerTimeout+time.Second)
	}
}

// A provider cannot make a sign-in read an unbounded key set or OpenID
// user-info answer (go-oidc reads them whole).
func TestJWKSAndUserInfoReadsAreBounded(t *testing.T) {
	t.Parallel()
	const size = 64 << 20
	chunk := []byte(strings.Repeat(" ", 64<<10))
	stream := func(sent *atomic.Int64) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			for sent.Load() < size {
				n, err := w.Write(chunk)
				sent.Add(int64(n))
				if err != nil {
					return
				}
			}
		}
	}
	t.Run("jwks", func(t *testing.T) {
		var sent atomic.Int64
		op := newHostileOP(t)
		op.set(func(op *hostileOP) { op.jwks = stream(&sent) })
		a := hostileApp(t, op.issuer, nil, nil)
		b := newBrowser(t)
		b.get(hostileCallback(t, a, b, op))
		if n := sent.Load(); n > 8<<20 {
			t.Fatalf("the app read %d MiB of JWKS", n>>20)
		}
	})
	t.Run("userinfo", func(t *testing.T) {
		var sent atomic.Int64
		op := newHostileOP(t)
		op.set(func(op *hostileOP) { op.userinfo = stream(&sent) })
		a := hostileApp(t, op.issuer, nil, func(c *OIDCConfig) { c.FetchUserInfo = true })
		b := newBrowser(t)
		b.get(hostileCallback(t, a, b, op))
		if n := sent.Load(); n > 8<<20 {
			t.Fatalf("the app read %d MiB of user info", n>>20)
		}
	})
}
