package accesstoken

import (
	"fmt"
	"time"
)

// KeyRing holds an Issuer's keys: the first one given to NewKeyRing signs;
// every key is published in the JWKS and verifies. It also carries the
// schedule of Issuer.Rotate, so it is only ever replaced, never changed.
type KeyRing struct {
	entries []ringEntry
}

type ringEntry struct {
	key *PrivateKey
	// static keys (NewKeyRing's keys after the first) are published and
	// verify for as long as the ring lives, and never sign.
	static bool
	// signFrom is when a rotating key starts signing; zero for the first key.
	signFrom time.Time
}

// NewKeyRing returns a ring whose first key signs; the others are published
// and verify but never sign: the next key, published before it signs, and
// the previous one, kept until its last token has expired. The same key
// twice is an error.
func NewKeyRing(keys ...*PrivateKey) (*KeyRing, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no keys", ErrInvalidKey)
	}
	r := &KeyRing{}
	for i, k := range keys {
		if k == nil {
			return nil, fmt.Errorf("%w: nil key", ErrInvalidKey)
		}
		if r.has(k.KeyID()) {
			return nil, fmt.Errorf("%w: key %s given twice", ErrInvalidKey, k.KeyID())
		}
		r.entries = append(r.entries, ringEntry{key: k, static: i > 0})
	}
	return r, nil
}

func (r *KeyRing) has(kid string) bool {
	for _, e := range r.entries {
		if e.key.KeyID() == kid {
			return true
		}
	}
	return false
}

// signingIndex returns the index of the key that signs at t: the rotating
// key with the latest start at or before t.
func (r *KeyRing) signingIndex(t time.Time) int {
	idx, first := -1, -1
	for i, e := range r.entries {
		if e.static {
			continue
		}
		if first < 0 {
			first = i
		}
		if !e.signFrom.After(t) {
			idx = i
		}
	}
	if idx < 0 { // a clock that went back before every start
		return first
	}
	return idx
}

// signing returns the key that signs at t.
func (r *KeyRing) signing(t time.Time) *PrivateKey {
	return r.entries[r.signingIndex(t)].key
}

// published reports whether entry i is published (and verifies) at t:
// static keys always; rotating keys from when Rotate added them until
// retain after their successor started signing.
func (r *KeyRing) published(i int, t time.Time, retain time.Duration) bool {
	e := r.entries[i]
	if e.static {
		return true
	}
	for _, later := range r.entries[i+1:] {
		if later.static {
			continue
		}
		// later is the next rotating key: e retires retain after it signs.
		return later.signFrom.Add(retain).After(t)
	}
	return true // the newest rotating key
}

// publishedKeys returns the keys published at t, the signing key first.
func (r *KeyRing) publishedKeys(t time.Time, retain time.Duration) []*PrivateKey {
	s := r.signingIndex(t)
	out := []*PrivateKey{r.entries[s].key}
	for i := range r.entries {
		if i != s && r.published(i, t, retain) {
			out = append(out, r.entries[i].key)
		}
	}
	return out
}

// lookup returns the verification key for kid at t, or nil when no
// published key has that ID.
func (r *KeyRing) lookup(kid string, t time.Time, retain time.Duration) *verifyKey {
	for i, e := range r.entries {
		if e.key.pub.kid == kid {
			if r.published(i, t, retain) {
				return e.key.pub
			}
			return nil
		}
	}
	return nil
}

// rotate returns a ring where next is published from t on and signs from
// t+lead (or lead after the latest scheduled start), and keys retired by t
// are gone.
func (r *KeyRing) rotate(next *PrivateKey, t time.Time, lead, retain time.Duration) (*KeyRing, error) {
	if next == nil {
		return nil, fmt.Errorf("%w: nil key", ErrInvalidKey)
	}
	if r.has(next.KeyID()) {
		return nil, fmt.Errorf("%w: key %s is already in the ring", ErrInvalidKey, next.KeyID())
	}
	start := t
	out := &KeyRing{}
	for i, e := range r.entries {
		if !e.static && e.signFrom.After(start) {
			start = e.signFrom
		}
		if r.published(i, t, retain) {
			out.entries = append(out.entries, e)
		}
	}
	out.entries = append(out.entries, ringEntry{key: next, signFrom: start.Add(lead)})
	return out, nil
}
