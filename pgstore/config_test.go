package pgstore

import (
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// New checks its whole configuration: a nil pool, more than one Config and
// every unusable field are ErrInvalidConfig, naming the field, with the
// package named once.
func TestNewRefusesInvalidConfig(t *testing.T) {
	t.Parallel()
	pool := lazyPool(t)
	tests := []struct {
		name  string
		cfg   []Config
		field string
	}{
		{"two Configs", []Config{{}, {}}, "2 Configs"},
		{"table over 51 bytes", []Config{{Table: strings.Repeat("x", maxTableLen+1)}}, "Table"},
		{"NUL in table", []Config{{Table: "nul\x00"}}, "Table"},
		{"schema over 63 bytes", []Config{{Schema: strings.Repeat("s", 64)}}, "Schema"},
		{"NUL in schema", []Config{{Schema: "a\x00b"}}, "Schema"},
		{"negative batch", []Config{{CleanupBatch: -1}}, "CleanupBatch"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := New(pool, tc.cfg...)
			if !errors.Is(err, ErrInvalidConfig) || s != nil {
				t.Fatalf("New = %v, %v; want ErrInvalidConfig", s, err)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.field) || strings.Count(msg, "pgstore:") != 1 {
				t.Fatalf("error %q: want %q, and the package named once", msg, tc.field)
			}
		})
	}
	if _, err := New(nil); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("New(nil) = %v, want ErrInvalidConfig", err)
	}
	s, err := New(pool, Config{Schema: "auth", Table: strings.Repeat("x", maxTableLen), CleanupInterval: -1})
	if err != nil {
		t.Fatalf("a %d-byte table name in a schema: %v", maxTableLen, err)
	}
	if s.stop != nil {
		t.Fatal("a negative CleanupInterval started a cleaner")
	}
}

// The zero Config is the documented default: table "http_sessions" in the
// search_path, QueryExecModeCacheStatement (prepared statements), a cleaner every five minutes deleting
// 1,000 rows per statement.
func TestNewZeroConfigIsTheDefault(t *testing.T) {
	t.Parallel()
	for name, cfg := range map[string][]Config{"no Config": nil, "zero Config": {{}}} {
		s, err := New(lazyPool(t), cfg...)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		s.Close()
		if len(s.table) != 1 || s.table[0] != "http_sessions" || s.mode != pgx.QueryExecModeCacheStatement || s.cleanupBatch != 1000 || s.stop == nil {
			t.Fatalf("%s: table %v, mode %v, batch %d, cleaner %v", name, s.table, s.mode, s.cleanupBatch, s.stop != nil)
		}
	}
}
