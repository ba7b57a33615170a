package pgstore

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func TestKeyParam(t *testing.T) {
	t.Parallel()
	valid := strings.Repeat("0123456789abcdef", 4)
	tests := []struct {
		key string
		ok  bool
	}{
		{valid, true},
		{"", false},
		{valid[:63], false},
		{valid + "0", false},
		{strings.ToUpper(valid), false},
		{valid[:63] + "g", false},
		{`\x` + valid[:62], false},
		{valid[:63] + "\x00", false},
	}
	for _, tc := range tests {
		p, err := keyParam(tc.key)
		if tc.ok != (err == nil) {
			t.Errorf("keyParam(%q) = %x, %v; want ok %v", tc.key, p, err, tc.ok)
		}
		if err != nil && !errors.Is(err, errStoreKey) {
			t.Errorf("keyParam(%q) error %v is not errStoreKey", tc.key, err)
		}
		if tc.ok && keyString(p) != tc.key {
			t.Errorf("keyParam(%q) = %x", tc.key, p)
		}
	}
}

// FuzzKeyParam checks that keyParam accepts exactly the keys whose bytes
// encode back to the same key, so two different keys never name one row.
func FuzzKeyParam(f *testing.F) {
	f.Add(strings.Repeat("ab", 32))
	f.Add(strings.Repeat("AB", 32))
	f.Add("")
	f.Fuzz(func(t *testing.T, key string) {
		p, err := keyParam(key)
		if err != nil {
			if !errors.Is(err, errStoreKey) || p != nil {
				t.Fatalf("keyParam(%q) = %x, %v", key, p, err)
			}
			return
		}
		if len(p) != 32 || keyString(p) != key || hex.EncodeToString(p) != key {
			t.Fatalf("keyParam(%q) = %x, which does not round-trip", key, p)
		}
	})
}
