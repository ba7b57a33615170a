package password

import (
	"errors"
	"testing"
)

func TestParamsValidate(t *testing.T) {
	t.Parallel()
	with := func(f func(*Params)) Params {
		p := DefaultParams()
		f(&p)
		return p
	}
	tests := []struct {
		name string
		p    Params
		ok   bool
	}{
		{"default", DefaultParams(), true},
		{"zero", Params{}, false},
		{"OWASP 7 MiB × 5", with(func(p *Params) { p.Memory, p.Time = 7168, 5 }), true},
		{"7 MiB × 4 is below the floor", with(func(p *Params) { p.Memory, p.Time = 7168, 4 }), false},
		{"6 MiB × 16", with(func(p *Params) { p.Memory, p.Time = 6144, 16 }), false},
		{"256 MiB", with(func(p *Params) { p.Memory = 256 * 1024 }), true},
		{"over 256 MiB", with(func(p *Params) { p.Memory = 256*1024 + 1 }), false},
		{"17 passes", with(func(p *Params) { p.Time = 17 }), false},
		{"no lanes", with(func(p *Params) { p.Threads = 0 }), false},
		{"17 lanes", with(func(p *Params) { p.Threads = 17 }), false},
		{"8-byte salt", with(func(p *Params) { p.SaltLen = 8 }), false},
		{"65-byte salt", with(func(p *Params) { p.SaltLen = 65 }), false},
		{"16-byte key", with(func(p *Params) { p.KeyLen = 16 }), false},
		{"64-byte key", with(func(p *Params) { p.KeyLen = 64 }), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.p.Validate()
			if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrInvalidParams)) {
				t.Fatalf("Validate(%+v) = %v, want ok=%v", tc.p, err, tc.ok)
			}
		})
	}
}
