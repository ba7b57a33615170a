package pgstore

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sessionauth/session"
	"github.com/sessionauth/session/pgstore/internal/pgtest"
	"github.com/sessionauth/session/storetest"
)

func TestStoreConformance(t *testing.T) {
	s, _ := newTestStore(t, nil)
	storetest.Run(t, func(*testing.T) session.Store { return s })
}

func TestReplace(t *testing.T) {
	t.Parallel()
	s, _ := newTestStore(t, nil)
	ctx := testContext(t)
	later := time.Now().Add(time.Hour)
	tests := []struct {
		name    string
		prepare func(oldKey, newKey string)
		wantErr error
	}{
		{"old exists", func(o, _ string) { s.Create(ctx, o, session.Record{UserID: "u", Expires: later}) }, nil},
		{"old missing", func(string, string) {}, nil},
		{"new live", func(o, n string) {
			s.Create(ctx, o, session.Record{UserID: "u", Expires: later})
			s.Create(ctx, n, session.Record{UserID: "v", Expires: later, Data: []byte("keep")})
		}, session.ErrExists},
		{"new expired", func(_, n string) {
			s.Create(ctx, n, session.Record{UserID: "v", Expires: time.Now().Add(-time.Second)})
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			oldKey, newKey := storetest.NewKey(), storetest.NewKey()
			tc.prepare(oldKey, newKey)
			err := s.Replace(ctx, oldKey, newKey, session.Record{UserID: "u", Expires: later, Data: []byte("new")})
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Replace = %v, want %v", err, tc.wantErr)
			}
			if _, err := s.Get(ctx, oldKey); !errors.Is(err, session.ErrNotFound) {
				t.Fatalf("old key after Replace: %v, want ErrNotFound", err)
			}
			got, err := s.Get(ctx, newKey)
			if err != nil {
				t.Fatal(err)
			}
			want := "new"
			if tc.wantErr != nil {
				want = "keep"
			}
			if string(got.Data) != want {
				t.Fatalf("new key holds %q, want %q", got.Data, want)
			}
		})
	}
	t.Run("same key", func(t *testing.T) {
		k := storetest.NewKey()
		s.Create(ctx, k, session.Record{UserID: "u", Expires: later, Data: []byte("old")})
		if err := s.Replace(ctx, k, k, session.Record{UserID: "w", Expires: later, Data: []byte("new")}); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Get(ctx, k); err != nil || string(got.Data) != "new" || got.UserID != "w" {
			t.Fatalf("Get = %+v, %v", got, err)
		}
	})
}

func TestInvalidKeysAreRefusedWithoutARoundTrip(t *testing.T) {
	t.Parallel()
	var n pgtest.Counter
	s, _ := newTestStore(t, func(c *pgxpool.Config) { c.ConnConfig.Tracer = &n })
	ctx := testContext(t)
	n0 := n.Load()
	valid := storetest.NewKey()
	for _, key := range []string{"", "abc", strings.ToUpper(valid), valid[:63] + "g", valid + "0", valid[:62] + "\x00\x00"} {
		rec := session.Record{Expires: time.Now().Add(time.Hour)}
		errs := map[string]error{
			"Get":     func() error { _, err := s.Get(ctx, key); return err }(),
			"Create":  s.Create(ctx, key, rec),
			"Update":  s.Update(ctx, key, rec),
			"Touch":   s.Touch(ctx, key, rec.Expires),
			"Delete":  s.Delete(ctx, key),
			"Replace": s.Replace(ctx, valid, key, rec),
		}
		for op, err := range errs {
			if !errors.Is(err, ErrInvalidKey) {
				t.Errorf("%s(%q) = %v, want ErrInvalidKey", op, key, err)
			}
			if err != nil && key != "" && strings.Contains(err.Error(), key) {
				t.Errorf("%s error contains the key", op)
			}
		}
	}
	if got := n.Load() - n0; got != 0 {
		t.Fatalf("%d statements sent for invalid keys, want 0", got)
	}
}

func TestEmptyDataRoundTrips(t *testing.T) {
	t.Parallel()
	s, _ := newTestStore(t, nil)
	ctx := testContext(t)
	k := storetest.NewKey()
	if err := s.Create(ctx, k, session.Record{Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, k)
	if err != nil || got.Data == nil || len(got.Data) != 0 || got.UserID != "" {
		t.Fatalf("Get = %+v, %v; want empty, non-nil Data and no user", got, err)
	}
}
