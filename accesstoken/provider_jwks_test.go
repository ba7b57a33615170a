package accesstoken

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestProviderFetchesJWKSOnceAndCachesIt(t *testing.T) {
	t.Parallel()
	k := newIDPKey(t, "k1", "ES256", false)
	p := newIDP(t, k)
	pr := p.provider(func(c *ProviderConfig) { c.CacheSize = -1 })
	for i := range 20 {
		if _, err := pr.Verify(context.Background(), p.sign(k, p.claims(map[string]any{"jti": fmt.Sprint(i)}))); err != nil {
			t.Fatal(err)
		}
	}
	if n := p.hits.Load(); n != 1 {
		t.Fatalf("JWKS fetched %d times for 20 verifications, want 1", n)
	}
}

// TestProviderHonoursCacheControl checks when a known key's set is
// refreshed: at the answer's max-age, bounded to [MinCacheAge, MaxCacheAge],
// and in the background (the verification does not wait).
func TestProviderHonoursCacheControl(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cc   string
		want time.Duration
	}{
		{"public, max-age=120", 2 * time.Minute},
		{"max-age=5", defaultMinCacheAge},
		{"max-age=999999", defaultMaxCacheAge},
		{"no-store", defaultMinCacheAge},
		{"no-cache, max-age=600", defaultMinCacheAge},
		{"", defaultCacheAge},
		{"max-age=garbage", defaultMinCacheAge},
		{`max-age="300"`, 5 * time.Minute},
	} {
		t.Run(tc.cc, func(t *testing.T) {
			t.Parallel()
			k := newIDPKey(t, "k1", "EdDSA", false)
			p := newIDP(t, k)
			p.set(func(p *idp) { p.cacheControl = tc.cc })
			pr := p.provider(nil)
			if err := pr.Refresh(context.Background()); err != nil {
				t.Fatal(err)
			}
			t0 := p.clock.Now()
			tok := p.sign(k, p.claims(map[string]any{"exp": t0.Add(2 * time.Hour).Unix()}))
			p.clock.Set(t0.Add(tc.want - time.Second))
			if _, err := pr.Verify(context.Background(), tok); err != nil {
				t.Fatal(err)
			}
			pr.keys.mu.Lock()
			attempted := pr.keys.lastAttempt
			pr.keys.mu.Unlock()
			if !attempted.Equal(t0) || p.hits.Load() != 1 {
				t.Fatalf("refetched before max-age (last attempt %v, %d fetches)", attempted.Sub(t0), p.hits.Load())
			}
			p.clock.Set(t0.Add(tc.want))
			if _, err := pr.Verify(context.Background(), tok); err != nil {
				t.Fatal(err)
			}
			p.waitHits(2)
		})
	}
}

func TestCacheAgeParsing(t *testing.T) {
	t.Parallel()
	for cc, want := range map[string]time.Duration{
		"max-age=60":                  time.Minute,
		"MAX-AGE=60":                  time.Minute,
		"public,max-age=60":           time.Minute,
		"max-age=60, max-age=1":       time.Minute,
		"s-maxage=1, max-age=60":      time.Minute,
		"max-age=-1":                  0,
		"max-age=99999999999999":      365 * 24 * time.Hour,
		"private":                     7 * time.Second,
		"no-store":                    0,
		"max-age=60, must-revalidate": time.Minute,
	} {
		if got := cacheAge(cc, 7*time.Second); got != want {
			t.Errorf("cacheAge(%q) = %v, want %v", cc, got, want)
		}
	}
}

// TestProviderRotationRefetchesUnknownKidAtBoundedRate rotates the
// provider's key: a token under the new kid triggers one fetch, but no more
// than one per RefetchInterval, however many unknown kids arrive.
func TestProviderRotationRefetchesUnknownKidAtBoundedRate(t *testing.T) {
	t.Parallel()
	old, next := newIDPKey(t, "2024-01", "ES256", false), newIDPKey(t, "2024-02", "ES256", false)
	p := newIDP(t, old)
	pr := p.provider(nil)
	if _, err := pr.Verify(context.Background(), p.sign(old, p.claims(nil))); err != nil {
		t.Fatal(err)
	}
	p.set(func(p *idp) { p.published = append(p.published, next) })
	fresh := p.sign(next, p.claims(nil))

	// Right after a fetch the rate limit holds the unknown kid off.
	if _, err := pr.Verify(context.Background(), fresh); !errors.Is(err, errUnknownKey) {
		t.Fatalf("within RefetchInterval: %v, want errUnknownKey", err)
	}
	p.clock.Advance(defaultRefetchInterval)
	if _, err := pr.Verify(context.Background(), fresh); err != nil {
		t.Fatalf("after RefetchInterval the new kid still fails: %v", err)
	}
	if n := p.hits.Load(); n != 2 {
		t.Fatalf("%d fetches, want 2", n)
	}

	// A flood of made-up kids, concurrent and sequential, over 35 s of clock.
	p.clock.Advance(defaultRefetchInterval)
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok := craft(`{"alg":"ES256","kid":"bogus-`+fmt.Sprint(i)+`"}`, p.claims(nil), signWith(t, next.priv, "ES256"))
			pr.Verify(context.Background(), tok)
		}()
	}
	wg.Wait()
	for i := range 35 {
		p.clock.Advance(time.Second)
		tok := craft(`{"alg":"ES256","kid":"seq-`+fmt.Sprint(i)+`"}`, p.claims(nil), signWith(t, next.priv, "ES256"))
		if _, err := pr.Verify(context.Background(), tok); !errors.Is(err, errUnknownKey) {
			t.Fatalf("made-up kid: %v", err)
		}
	}
	// 36 s of clock since the concurrent burst: at most 1 + 3 more fetches.
	if n := p.hits.Load() - 2; n > 4 {
		t.Fatalf("%d fetches for 85 unknown kids in 36 s, want at most 4", n)
	}

	// The old key leaves the set: once the cache refreshes, its tokens fail.
	p.set(func(p *idp) { p.published = []*idpKey{next} })
	p.clock.Advance(defaultMaxCacheAge)
	stale := p.sign(old, p.claims(nil))
	pr.Verify(context.Background(), fresh) // known kid, stale set: background refresh
	p.waitHits(p.hits.Load())
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := pr.Verify(context.Background(), stale)
		if errors.Is(err, errUnknownKey) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a removed key still verifies: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestProviderKeepsVerifyingWhileJWKSDown breaks the endpoint in two ways
// (5xx, connection refused): known keys keep verifying from the cache past
// their max-age, unknown kids get ErrKeysUnavailable (503), and after
// MaxStale the cache is given up. It runs in a testing/synctest bubble, so
// synctest.Wait lets each background fetch finish.
func TestProviderKeepsVerifyingWhileJWKSDown(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"500", "connection refused"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				k := newIDPKey(t, "k1", "ES256", false)
				p := newMemIDP(t, k)
				pr := p.provider(func(c *ProviderConfig) { c.CacheSize = -1 })
				defer waitFetch(pr)
				if err := pr.Refresh(context.Background()); err != nil {
					t.Fatal(err)
				}
				if mode == "500" {
					p.set(func(p *idp) { p.status = http.StatusInternalServerError })
				} else {
					p.refuse.Store(true)
				}
				p.clock.Advance(3 * time.Hour) // far past max-age
				claims := map[string]any{"exp": p.clock.Now().Add(time.Hour).Unix()}
				for range 3 {
					if _, err := pr.Verify(context.Background(), p.sign(k, p.claims(claims))); err != nil {
						t.Fatalf("cached key refused while the endpoint is down: %v", err)
					}
					p.clock.Advance(defaultRefetchInterval)
					synctest.Wait() // the background fetch has failed
				}
				if err := pr.Refresh(context.Background()); !errors.Is(err, ErrKeysUnavailable) {
					t.Fatalf("Refresh: %v", err)
				}
				unknown := craft(`{"alg":"ES256","kid":"k2"}`, p.claims(nil), signWith(t, k.priv, "ES256"))
				_, err := pr.Verify(context.Background(), unknown)
				if !errors.Is(err, ErrKeysUnavailable) || errors.Is(err, ErrInvalidToken) {
					t.Fatalf("unknown kid while down: %v, want ErrKeysUnavailable only", err)
				}
				h := pr.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
				r := httptest.NewRequest("GET", "/", nil)
				r.Header.Set("Authorization", "Bearer "+unknown)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
					t.Fatalf("middleware while down: %d, want 503 with Retry-After", w.Code)
				}

				p.clock.Advance(defaultMaxStale)
				if _, err := pr.Verify(context.Background(), p.sign(k, p.claims(map[string]any{"exp": p.clock.Now().Add(time.Hour).Unix()}))); !errors.Is(err, ErrKeysUnavailable) {
					t.Fatalf("after MaxStale: %v, want ErrKeysUnavailable", err)
				}
			})
		})
	}
}

// TestProviderJWKSSlowColdStart makes the endpoint hang with no keys
// cached: a verification waits exactly FetchTimeout, or less when the
// request's own deadline comes first (virtual time, testing/synctest).
func TestProviderJWKSSlowColdStart(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		k := newIDPKey(t, "k1", "EdDSA", false)
		p := newMemIDP(t, k)
		p.set(func(p *idp) { p.delay = 10 * time.Second })
		pr := p.provider(func(c *ProviderConfig) { c.FetchTimeout = 300 * time.Millisecond; c.CacheSize = -1 })
		defer waitFetch(pr)
		tok := p.sign(k, p.claims(map[string]any{"exp": p.clock.Now().Add(24 * time.Hour).Unix()}))

		start := time.Now()
		if _, err := pr.Verify(context.Background(), tok); !errors.Is(err, ErrKeysUnavailable) {
			t.Fatalf("cold start against a hung endpoint: %v", err)
		}
		if d := time.Since(start); d != 300*time.Millisecond {
			t.Fatalf("cold start waited %v; FetchTimeout is 300ms", d)
		}

		p.clock.Advance(defaultRefetchInterval)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		start = time.Now()
		_, err := pr.Verify(ctx, tok)
		if d := time.Since(start); !errors.Is(err, ErrKeysUnavailable) || d != 50*time.Millisecond {
			t.Fatalf("request deadline of 50ms: %v after %v", err, d)
		}
	})
}

// TestProviderJWKSSlowWithStaleCache: keys past their max-age keep
// verifying at once while the refresh hangs (here for 10 s, with a 5 s
// FetchTimeout), and ten verifications start one refresh (virtual time,
// testing/synctest).
func TestProviderJWKSSlowWithStaleCache(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		k := newIDPKey(t, "k1", "EdDSA", false)
		p := newMemIDP(t, k)
		pr := p.provider(func(c *ProviderConfig) { c.FetchTimeout = 5 * time.Second; c.CacheSize = -1 })
		defer waitFetch(pr)
		if err := pr.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
		tok := p.sign(k, p.claims(map[string]any{"exp": p.clock.Now().Add(24 * time.Hour).Unix()}))
		p.set(func(p *idp) { p.delay = 10 * time.Second })
		p.clock.Advance(2 * time.Hour) // stale
		start := time.Now()
		for range 10 {
			if _, err := pr.Verify(context.Background(), tok); err != nil {
				t.Fatal(err)
			}
		}
		if d := time.Since(start); d != 0 {
			t.Fatalf("10 verifications with a stale cache took %v: they waited for the slow refresh", d)
		}
		synctest.Wait() // the refresh is running, blocked in the slow answer
		if n := p.hits.Load(); n != 2 {
			t.Fatalf("%d refreshes started, want 1", n-1)
		}
	})
}

func TestProviderKeepsOldKeysOnBadAnswers(t *testing.T) {
	t.Parallel()
	k := newIDPKey(t, "k1", "ES256", false)
	p := newIDP(t, k)
	pr := p.provider(func(c *ProviderConfig) { c.CacheSize = -1 })
	if err := pr.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	tok := p.sign(k, p.claims(map[string]any{"exp": p.clock.Now().Add(24 * time.Hour).Unix()}))
	for name, body := range map[string]string{
		"not JSON":         "<html>",
		"no keys":          `{"keys":[]}`,
		"only a symmetric": `{"keys":[{"kty":"oct","kid":"k1","k":"c2VjcmV0"}]}`,
		"keys not a list":  `{"keys":{"kid":"k1"}}`,
		"duplicate keys":   `{"keys":[],"keys":[]}`,
		"too large":        `{"keys":[],"pad":"` + strings.Repeat("x", maxJWKSBody) + `"}`,
	} {
		p.set(func(p *idp) { p.body = []byte(body) })
		p.clock.Advance(defaultRefetchInterval)
		if err := pr.Refresh(context.Background()); !errors.Is(err, ErrKeysUnavailable) {
			t.Errorf("%s: Refresh = %v, want ErrKeysUnavailable", name, err)
		}
		if _, err := pr.Verify(context.Background(), tok); err != nil {
			t.Errorf("%s: the cached key was dropped: %v", name, err)
		}
	}
}

// TestProviderCacheSurvivesRefreshOfSameKeys: a refresh that brings back
// the same key keeps cached verifications under it.
func TestProviderCacheSurvivesRefreshOfSameKeys(t *testing.T) {
	t.Parallel()
	k := newIDPKey(t, "k1", "ES256", false)
	p := newIDP(t, k)
	pr := p.provider(nil)
	tok := p.sign(k, p.claims(nil))
	if _, err := pr.Verify(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	p.clock.Advance(defaultRefetchInterval)
	if err := pr.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, ok := pr.v.cache.get(tok, p.clock.Now(), pr.keys); !ok {
		t.Fatal("the cached verification was lost on a refresh that kept the key")
	}
	// A key that changes material under the same kid invalidates it.
	p.set(func(p *idp) { p.published = []*idpKey{newIDPKey(t, "k1", "ES256", false)} })
	p.clock.Advance(defaultRefetchInterval)
	pr.Refresh(context.Background())
	if _, err := pr.Verify(context.Background(), tok); !errors.Is(err, errSignature) {
		t.Fatalf("token of a replaced key: %v, want errSignature", err)
	}
}

func TestProviderFollowsNoRedirect(t *testing.T) {
	t.Parallel()
	k := newIDPKey(t, "k1", "ES256", false)
	p := newIDP(t, k)
	redirect := httptest.NewServer(http.RedirectHandler(p.srv.URL+"/jwks", http.StatusFound))
	t.Cleanup(redirect.Close)
	pr, err := NewProvider(ProviderConfig{JWKSURL: redirect.URL, Issuer: idpIssuer, Audience: idpAudience, now: p.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := pr.Refresh(context.Background()); !errors.Is(err, ErrKeysUnavailable) {
		t.Fatalf("Refresh through a redirect: %v", err)
	}
	if n := p.hits.Load(); n != 0 {
		t.Fatalf("the redirect was followed (%d fetches)", n)
	}
}

func TestProviderLogsFetchFailuresWithoutPassword(t *testing.T) {
	t.Parallel()
	k := newIDPKey(t, "k1", "ES256", false)
	p := newIDP(t, k)
	p.set(func(p *idp) { p.status = http.StatusBadGateway })
	var logs strings.Builder
	var mu sync.Mutex
	pr, err := NewProvider(ProviderConfig{
		JWKSURL: strings.Replace(p.srv.URL, "http://", "http://user:hunter2@", 1), Issuer: idpIssuer, Audience: idpAudience,
		Logger: slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	pr.Refresh(context.Background())
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "status 502") || strings.Contains(logs.String(), "hunter2") {
		t.Fatalf("log: %s", logs.String())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *strings.Builder
}

func (l lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// waitFetch waits for pr's running JWKS fetch, if any, to end: in a
// testing/synctest bubble the bubble's function must not return while one
// is still blocked on the virtual clock.
func waitFetch(pr *Provider) {
	pr.keys.mu.Lock()
	done := pr.keys.inflight
	pr.keys.mu.Unlock()
	if done != nil {
		<-done
	}
}
