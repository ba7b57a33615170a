package passkey

import (
	"bytes"
	"cmp"
	"context"
	"slices"
	"sync"
	"time"
)

// NewMemoryStore returns a Store that keeps passkeys in this process's
// memory: for tests and single-process development. Everything is lost at
// restart. Cost: a map lookup per call, and a copy of what it returns.
func NewMemoryStore() Store {
	return &memoryStore{byID: make(map[string]*Credential), byUser: make(map[string][]string)}
}

type memoryStore struct {
	mu     sync.Mutex
	byID   map[string]*Credential
	byUser map[string][]string // credential IDs, in creation order
}

func cloneCredential(c Credential) Credential {
	c.ID = bytes.Clone(c.ID)
	c.UserHandle = bytes.Clone(c.UserHandle)
	c.PublicKey = bytes.Clone(c.PublicKey)
	c.AAGUID = bytes.Clone(c.AAGUID)
	c.Transports = slices.Clone(c.Transports)
	return c
}

func (s *memoryStore) Create(ctx context.Context, c Credential) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := string(c.ID)
	if _, ok := s.byID[id]; ok {
		return ErrExists
	}
	c = cloneCredential(c)
	s.byID[id] = &c
	s.byUser[c.UserID] = append(s.byUser[c.UserID], id)
	return nil
}

func (s *memoryStore) Get(ctx context.Context, id []byte) (Credential, error) {
	if err := ctx.Err(); err != nil {
		return Credential{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.byID[string(id)]
	if !ok {
		return Credential{}, ErrNotFound
	}
	return cloneCredential(*c), nil
}

func (s *memoryStore) ListUser(ctx context.Context, userID string) ([]Credential, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Credential, 0, len(s.byUser[userID]))
	for _, id := range s.byUser[userID] {
		out = append(out, cloneCredential(*s.byID[id]))
	}
	slices.SortStableFunc(out, func(a, b Credential) int { return cmp.Compare(a.Created.UnixNano(), b.Created.UnixNano()) })
	return out, nil
}

// own returns userID's credential id, or nil. s.mu is held.
func (s *memoryStore) own(userID string, id []byte) *Credential {
	c, ok := s.byID[string(id)]
	if !ok || c.UserID != userID {
		return nil
	}
	return c
}

func (s *memoryStore) Rename(ctx context.Context, userID string, id []byte, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.own(userID, id)
	if c == nil {
		return ErrNotFound
	}
	c.Name = name
	return nil
}

func (s *memoryStore) Use(ctx context.Context, id []byte, signCount uint32, backedUp bool, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.byID[string(id)]
	if !ok {
		return ErrNotFound
	}
	if !counterAccepts(c.SignCount, signCount) {
		return ErrCounterRegression
	}
	c.SignCount, c.BackedUp, c.LastUsed = signCount, backedUp, at
	return nil
}

func (s *memoryStore) Delete(ctx context.Context, userID string, id []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.own(userID, id) == nil {
		return ErrNotFound
	}
	delete(s.byID, string(id))
	ids := slices.DeleteFunc(s.byUser[userID], func(v string) bool { return v == string(id) })
	if len(ids) == 0 {
		delete(s.byUser, userID)
	} else {
		s.byUser[userID] = ids
	}
	return nil
}
