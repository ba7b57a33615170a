package password

import (
	"errors"
	"strings"
	"testing"
)

func TestParamsValidate(t *testing.T) {
	t.Parallel()
	with := func(f func(*Params)) Params {
		var p Params
		f(&p)
		return p
	}
	tests := []struct {
		name string
		p    Params
		ok   bool
	}{
		{"zero: the defaults", Params{}, true},
		{"defaults spelled out", Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}, true},
		{"OWASP 46 MiB × 1, the rest default", Params{Memory: 47104, Time: 1}, true},
		{"OWASP 7 MiB × 5", with(func(p *Params) { p.Memory, p.Time = 7168, 5 }), true},
		{"7 MiB × 4 is below the floor", with(func(p *Params) { p.Memory, p.Time = 7168, 4 }), false},
		{"6 MiB × 16", with(func(p *Params) { p.Memory, p.Time = 6144, 16 }), false},
		{"256 MiB", with(func(p *Params) { p.Memory = 256 * 1024 }), true},
		{"over 256 MiB", with(func(p *Params) { p.Memory = 256*1024 + 1 }), false},
		{"17 passes", with(func(p *Params) { p.Time = 17 }), false},
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
			if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrInvalidConfig)) {
				t.Fatalf("Validate(%+v) = %v, want ok=%v", tc.p, err, tc.ok)
			}
		})
	}
}

// A zero field of Params takes its default, for hashing as for the rehash
// bar: Params{Time: 3} hashes with 19 MiB, one lane, a 16-byte salt and a
// 32-byte key, and holds default hashes (2 passes) to 3 passes.
func TestParamsZeroFieldsTakeDefaults(t *testing.T) {
	t.Parallel()
	p := Params{Time: 3}
	h, err := p.Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := parseArgon2(h)
	if err != nil {
		t.Fatal(err)
	}
	if parsed.memory != 19456 || parsed.time != 3 || parsed.threads != 1 || len(parsed.salt) != 16 || len(parsed.key) != 32 {
		t.Fatalf("Params{Time: 3} made m=%d t=%d p=%d salt %d key %d; want m=19456 t=3 p=1 salt 16 key 32",
			parsed.memory, parsed.time, parsed.threads, len(parsed.salt), len(parsed.key))
	}
	def, err := Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if match, rehash, err := p.Verify("correct horse battery staple", def); !match || !rehash || err != nil {
		t.Fatalf("Params{Time: 3}.Verify(a default hash) = %v, %v, %v; want a match that needs a rehash", match, rehash, err)
	}
}

// Invalid Params are a configuration error, named once and naming the
// field, from Validate, Hash and Verify alike.
func TestParamsInvalidIsAConfigError(t *testing.T) {
	t.Parallel()
	p := Params{Memory: 64}
	_, hashErr := p.Hash("password")
	_, _, verifyErr := p.Verify("password", refArgon2idM256)
	for name, err := range map[string]error{"Validate": p.Validate(), "Hash": hashErr, "Verify": verifyErr} {
		if !errors.Is(err, ErrInvalidConfig) || strings.Count(err.Error(), "password:") != 1 || !strings.Contains(err.Error(), "Memory") {
			t.Errorf("%s with 64 KiB: %v; want ErrInvalidConfig naming Memory, the package once", name, err)
		}
	}
}
