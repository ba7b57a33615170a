package session

import (
	"bytes"
	"encoding/base64"
	"testing"
	"time"
)

// macTestSigner returns a signer with two keys (the second retired) and a
// value signed by each.
func macTestSigner(t testing.TB) (s *signer, byFirst, bySecond string) {
	ring, err := NewKeyRing(testKeyA, testKeyB)
	if err != nil {
		t.Fatal(err)
	}
	s = ring.newSigner("sid", time.Hour)
	old, err := NewKeyRing(testKeyB)
	if err != nil {
		t.Fatal(err)
	}
	tok := bytes.Repeat([]byte{7}, tokenLen)
	if byFirst, err = s.sign(tok); err != nil {
		t.Fatal(err)
	}
	if bySecond, err = old.newSigner("sid", time.Hour).sign(tok); err != nil {
		t.Fatal(err)
	}
	return s, byFirst, bySecond
}

func TestMacIndexFindsTheSigningKeyAndRefusesTheRest(t *testing.T) {
	t.Parallel()
	s, byFirst, bySecond := macTestSigner(t)
	other, _, _ := macTestSigner(t)
	other.namePipe = []byte("other|") // the same keys for another cookie name
	flip := func(v string, i int) string {
		b := []byte(v)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	tests := []struct {
		name  string
		s     *signer
		value string
		want  int
	}{
		{"signing key", s, byFirst, 0},
		{"retired key", s, bySecond, 1},
		{"last character changed", s, flip(byFirst, len(byFirst)-6), -1},
		{"first character changed", s, flip(byFirst, 0), -1},
		{"another cookie name", other, byFirst, -1},
		{"truncated", s, byFirst[:40], -1},
		{"not base64", s, "%%%%", -1},
		{"no separators", s, base64.URLEncoding.EncodeToString([]byte("abcdef")), -1},
		{"one separator", s, base64.URLEncoding.EncodeToString([]byte("1|abcdef")), -1},
		{"empty", s, "", -1},
	}
	for _, tc := range tests {
		if got := tc.s.macIndex(tc.value); got != tc.want {
			t.Errorf("%s: macIndex = %d, want %d", tc.name, got, tc.want)
		}
	}
}

// Refusing a forged value allocates nothing.
func TestMacIndexRefusesWithoutAllocating(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop entries at random")
	}
	s, byFirst, _ := macTestSigner(t)
	forged := []byte(byFirst)
	forged[len(forged)-6] ^= 1
	v := string(forged)
	s.macIndex(v) // fill the pools
	if n := testing.AllocsPerRun(100, func() { s.macIndex(v) }); n != 0 {
		t.Fatalf("macIndex of a forged value: %v allocations, want 0", n)
	}
}

// FuzzMacIndexAgreesWithDecode: macIndex never turns away a value that
// securecookie's Decode accepts (it may only save Decode's work on values
// Decode refuses), and with a MAC found, the key is Decode's.
func FuzzMacIndexAgreesWithDecode(f *testing.F) {
	s, byFirst, bySecond := macTestSigner(f)
	for _, v := range []string{byFirst, bySecond, byFirst[:50], "", "MTIzfGFiY3xkZWY="} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, value string) {
		if len(value) > maxCookieLen {
			return
		}
		got := s.macIndex(value)
		for i, c := range s.codecs {
			var b []byte
			if c.Decode(s.name, value, &b) == nil && got != i {
				t.Fatalf("Decode accepts %q under key %d, macIndex says %d", value, i, got)
			}
		}
	})
}
