package password

import (
	"errors"
	"strings"
	"testing"
)

func TestPolicyValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		p    Policy
		pw   string
		err  error
	}{
		{"empty", Policy{}, "", ErrTooShort},
		{"7 chars", Policy{}, "abcdefg", ErrTooShort},
		{"8 chars", Policy{}, "abcdefgh", nil},
		{"8 spaces", Policy{}, "        ", nil},
		// Characters, not bytes: 7 emoji are 28 bytes but 7 characters.
		{"7 emoji", Policy{}, strings.Repeat("🔑", 7), ErrTooShort},
		{"8 emoji", Policy{}, strings.Repeat("🔑", 8), nil},
		{"8 CJK", Policy{}, "密码密码密码密码", nil},
		{"Cyrillic and accents", Policy{}, "пароль-é-ü", nil},
		{"64 chars", Policy{}, strings.Repeat("x", 64), nil},
		{"256 four-byte chars = 1024 bytes", Policy{}, strings.Repeat("🔑", 256), nil},
		{"1024 bytes", Policy{}, strings.Repeat("y", MaxBytes), nil},
		{"1025 bytes", Policy{}, strings.Repeat("y", MaxBytes+1), ErrTooLong},
		{"invalid UTF-8", Policy{}, "abcdefgh\xff", ErrNotUTF8},
		{"min below the floor is the floor", Policy{MinLength: 3}, "abcdefg", ErrTooShort},
		{"recommended, 14", Policy{MinLength: 15}, strings.Repeat("z", 14), ErrTooShort},
		{"recommended, 15", Policy{MinLength: 15}, strings.Repeat("z", 15), nil},
		{"max 100, 100 chars", Policy{MaxLength: 100}, strings.Repeat("m", 100), nil},
		{"max 100, 101 chars", Policy{MaxLength: 100}, strings.Repeat("m", 101), ErrTooLong},
		{"max 100 counts characters", Policy{MaxLength: 100}, strings.Repeat("🔑", 100), nil},
		{"max below 64 is 64", Policy{MaxLength: 10}, strings.Repeat("m", 64), nil},
		{"max below 64 is 64, 65 chars", Policy{MaxLength: 10}, strings.Repeat("m", 65), ErrTooLong},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.p.Validate(tc.pw)
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
		})
	}
}

func TestPolicyLengthsHaveFloors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		p        Policy
		min, max int
	}{
		{Policy{}, 8, 0},
		{Policy{MinLength: 15, MaxLength: 128}, 15, 128},
		{Policy{MinLength: 2, MaxLength: 3}, 8, 64},
	}
	for _, tc := range tests {
		if tc.p.min() != tc.min || tc.p.max() != tc.max {
			t.Errorf("%+v: min, max = %d, %d; want %d, %d", tc.p, tc.p.min(), tc.p.max(), tc.min, tc.max)
		}
		if err := tc.p.Validate(strings.Repeat("a", tc.min-1)); !errors.Is(err, ErrTooShort) {
			t.Errorf("%+v: Min-1 characters: %v", tc.p, err)
		}
		if tc.max > 0 {
			if err := tc.p.Validate(strings.Repeat("a", tc.max+1)); !errors.Is(err, ErrTooLong) {
				t.Errorf("%+v: Max+1 characters: %v", tc.p, err)
			}
		}
	}
}
