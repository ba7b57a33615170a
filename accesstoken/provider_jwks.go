package accesstoken

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/json"
)

// Bounds on what a provider's JWKS may hold.
const (
	maxJWKSBody = 512 << 10 // bytes read from the JWKS endpoint at most
	maxJWKSKeys = 100       // keys kept from one answer at most
)

// remoteKeys is a provider's key set, fetched from its JWKS URL and cached.
//
//   - Keys are fresh for the answer's Cache-Control max-age, bounded to
//     [minAge, maxAge] (defaultAge without one). A verification that finds
//     its key in a stale set uses it at once and starts a refresh in the
//     background.
//   - A kid not in the set triggers a fetch that the verification waits for
//     (bounded by the fetch timeout and the request's context).
//   - Fetches start at most once per refetchEvery, whatever the reason, and
//     never two at once: a flood of tokens with made-up kids costs the
//     provider one request per interval.
//   - When fetching fails, the cached keys keep verifying for up to
//     staleFor past their freshness; then they are dropped.
type remoteKeys struct {
	url          string
	logURL       string // url without a password, for logs
	client       *http.Client
	timeout      time.Duration
	minAge       time.Duration
	maxAge       time.Duration
	defaultAge   time.Duration
	refetchEvery time.Duration
	staleFor     time.Duration
	now          func() time.Time
	log          *slog.Logger

	set atomic.Pointer[keySet]

	mu          sync.Mutex
	lastAttempt time.Time     // start of the last fetch
	lastFailed  bool          // the last completed fetch failed
	inflight    chan struct{} // closed when the running fetch ends; nil when none
}

// keySet is one fetched JWKS.
type keySet struct {
	keys       map[string]*verifyKey
	fetched    time.Time
	freshUntil time.Time
}

func (r *remoteKeys) usable(s *keySet, now time.Time) bool {
	return s != nil && now.Before(s.freshUntil.Add(r.staleFor))
}

// key implements keySource.
func (r *remoteKeys) key(ctx context.Context, kid string) (*verifyKey, error) {
	now := r.now()
	s := r.set.Load()
	if r.usable(s, now) {
		if k, ok := s.keys[kid]; ok {
			if !now.Before(s.freshUntil) {
				r.startFetch(now, false) // refresh in the background
			}
			return k, nil
		}
	}
	done := r.startFetch(now, false)
	if done == nil { // rate limit: no fetch allowed yet
		return nil, r.missing(now)
	}
	select {
	case <-done:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", ErrKeysUnavailable, ctx.Err())
	}
	now = r.now()
	if s := r.set.Load(); r.usable(s, now) {
		if k, ok := s.keys[kid]; ok {
			return k, nil
		}
	}
	return nil, r.missing(now)
}

// missing is the error for a kid not found: ErrKeysUnavailable when we have
// no usable keys or the last fetch failed (we cannot tell), else
// errUnknownKey.
func (r *remoteKeys) missing(now time.Time) error {
	r.mu.Lock()
	failed := r.lastFailed
	r.mu.Unlock()
	if failed || !r.usable(r.set.Load(), now) {
		return ErrKeysUnavailable
	}
	return invalid(errUnknownKey)
}

// current implements keySource. Like key, it starts a background refresh
// when the set is past its max-age, so that tokens served from the
// verification cache also get a removed key noticed.
func (r *remoteKeys) current(k *verifyKey) bool {
	s, now := r.set.Load(), r.now()
	if !r.usable(s, now) {
		return false
	}
	if !now.Before(s.freshUntil) {
		r.startFetch(now, false)
	}
	return s.keys[k.kid] == k
}

// startFetch starts a fetch unless the rate limit forbids it (force skips
// the limit), and returns a channel closed when the running fetch ends, or
// nil when none runs.
func (r *remoteKeys) startFetch(now time.Time, force bool) <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.inflight != nil {
		return r.inflight
	}
	if !force && !r.lastAttempt.IsZero() && now.Sub(r.lastAttempt) < r.refetchEvery {
		return nil
	}
	r.lastAttempt = now
	done := make(chan struct{})
	r.inflight = done
	go func() {
		err := r.fetch()
		r.mu.Lock()
		r.lastFailed = err != nil
		r.inflight = nil
		r.mu.Unlock()
		close(done)
	}()
	return done
}

// refresh fetches now, ignoring the rate limit (joining a running fetch),
// and reports the outcome.
func (r *remoteKeys) refresh(ctx context.Context) error {
	select {
	case <-r.startFetch(r.now(), true):
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrKeysUnavailable, ctx.Err())
	}
	r.mu.Lock()
	failed := r.lastFailed
	r.mu.Unlock()
	if failed {
		return ErrKeysUnavailable
	}
	return nil
}

// fetch reads the JWKS once and, if it holds at least one usable key,
// replaces the set. It runs detached from any request, bounded by timeout.
func (r *remoteKeys) fetch() error {
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	err := r.fetchOnce(ctx)
	if err != nil && r.log != nil {
		r.log.Warn("accesstoken: fetching the provider's JWKS failed; verifying with cached keys", "url", r.logURL, "err", err)
	}
	return err
}

func (r *remoteKeys) fetchOnce(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: status %d", errJWKS, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBody+1))
	if err != nil {
		return err
	}
	if len(body) > maxJWKSBody {
		return fmt.Errorf("%w: larger than %d bytes", errJWKS, maxJWKSBody)
	}
	keys, err := parseJWKS(body)
	if err != nil {
		return err
	}
	if old := r.set.Load(); old != nil {
		for kid, k := range keys {
			if prev, ok := old.keys[kid]; ok && prev.alg == k.alg && samePublicKey(prev.pub, k.pub) {
				keys[kid] = prev // keeps cached verifications under this key valid
			}
		}
	}
	now := r.now()
	age := cacheAge(resp.Header.Get("Cache-Control"), r.defaultAge)
	age = min(max(age, r.minAge), r.maxAge)
	r.set.Store(&keySet{keys: keys, fetched: now, freshUntil: now.Add(age)})
	return nil
}

func samePublicKey(a, b any) bool {
	eq, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(b)
}

// parseJWKS keeps the usable signature keys of a JWKS: public RSA (2048
// bits or more), ECDSA and Ed25519 keys with a kid, whose `use`, if any, is
// "sig". Symmetric keys, keys it cannot parse and repeated kids (after the
// first) are skipped; a set with no usable key is an error.
func parseJWKS(body []byte) (map[string]*verifyKey, error) {
	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("%w: %w", errJWKS, err)
	}
	keys := make(map[string]*verifyKey)
	for _, data := range raw.Keys {
		if len(keys) == maxJWKSKeys {
			break
		}
		var jwk jose.JSONWebKey
		if err := json.Unmarshal(data, &jwk); err != nil {
			continue
		}
		if jwk.KeyID == "" || (jwk.Use != "" && jwk.Use != "sig") || keys[jwk.KeyID] != nil {
			continue
		}
		pub := jwk.Public()
		k := &verifyKey{kid: jwk.KeyID, alg: jose.SignatureAlgorithm(jwk.Algorithm), pub: pub.Key}
		switch p := pub.Key.(type) {
		case *rsa.PublicKey:
			if p.N.BitLen() < minRSABits {
				continue
			}
		case *ecdsa.PublicKey, ed25519.PublicKey:
		default:
			continue
		}
		keys[jwk.KeyID] = k
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no usable signature key", errJWKS)
	}
	return keys, nil
}

// cacheAge reads max-age from a Cache-Control value: no-store and no-cache
// mean 0 (the minimum applies), no max-age means def.
func cacheAge(cc string, def time.Duration) time.Duration {
	age, found := def, false
	for _, d := range strings.Split(cc, ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), "=")
		switch strings.ToLower(name) {
		case "no-store", "no-cache":
			return 0
		case "max-age":
			if found {
				continue // the first max-age wins
			}
			n, err := strconv.ParseInt(strings.Trim(value, `"`), 10, 64)
			if err != nil || n < 0 {
				return 0
			}
			found = true
			age = time.Duration(min(n, int64(365*24*3600))) * time.Second
		}
	}
	return age
}
