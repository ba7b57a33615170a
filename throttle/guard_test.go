package throttle_test

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/sessionauth/session/throttle"
)

// NewGuard checks its whole configuration: every refusal wraps
// ErrInvalidConfig, names the field at fault, and names the package once.
func TestNewGuardRefusesInvalidConfig(t *testing.T) {
	t.Parallel()
	key := [][]byte{testDeviceKey}
	tests := []struct {
		name  string
		cfg   throttle.GuardConfig
		field string
	}{
		{"no keys", throttle.GuardConfig{}, "DeviceKeys"},
		{"short key", throttle.GuardConfig{DeviceKeys: [][]byte{testDeviceKey, []byte("short")}}, "DeviceKeys[1]"},
		{"cookie name", throttle.GuardConfig{DeviceKeys: key, DeviceCookieName: "a b"}, "DeviceCookieName"},
		{"__Host- without Secure", throttle.GuardConfig{DeviceKeys: key, DeviceCookieName: "__Host-x", DisableSecureCookie: true}, "DeviceCookieName"},
		{"lifetime", throttle.GuardConfig{DeviceKeys: key, DeviceLifetime: 500 * 24 * time.Hour}, "DeviceLifetime"},
		{"proxy prefix", throttle.GuardConfig{DeviceKeys: key, TrustedProxies: []netip.Prefix{{}}}, "TrustedProxies"},
		{"address rule", throttle.GuardConfig{DeviceKeys: key, Address: throttle.Rule{Limit: -1}}, "Address: Limit"},
		{"account rule", throttle.GuardConfig{DeviceKeys: key, Account: throttle.Rule{Lockout: time.Hour, MaxLockout: time.Minute}}, "Account: MaxLockout"},
		{"device rule", throttle.GuardConfig{DeviceKeys: key, Device: throttle.Rule{Window: -time.Second}}, "Device: Window"},
		{"register rule", throttle.GuardConfig{DeviceKeys: key, Register: throttle.Rule{Lockout: 200 * 365 * 24 * time.Hour}}, "Register: Lockout"},
		{"one slot", throttle.GuardConfig{DeviceKeys: key, HashSlots: 1}, "HashSlots"},
		{"register slots", throttle.GuardConfig{DeviceKeys: key, HashSlots: 4, RegisterSlots: 4}, "RegisterSlots"},
		{"slot wait", throttle.GuardConfig{DeviceKeys: key, SlotWait: -time.Second}, "SlotWait"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g, err := throttle.NewGuard(tc.cfg)
			if !errors.Is(err, throttle.ErrInvalidConfig) || g != nil {
				t.Fatalf("NewGuard = %v, %v; want ErrInvalidConfig", g, err)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.field) || strings.Count(msg, "throttle:") != 1 {
				t.Fatalf("error %q: want the field %q and the package named once", msg, tc.field)
			}
		})
	}
}

// A Rule is configuration: Validate refuses it with ErrInvalidConfig, as
// NewGuard does, and the limiters refuse a request carrying it.
func TestRuleValidateIsAConfigError(t *testing.T) {
	t.Parallel()
	good := throttle.Rule{Limit: 1, Window: time.Millisecond, Lockout: time.Millisecond, MaxLockout: time.Millisecond}
	if err := good.Validate(); err != nil {
		t.Fatalf("the smallest valid rule: %v", err)
	}
	for _, bad := range []throttle.Rule{
		{},
		{Limit: 1, Window: time.Millisecond, Lockout: time.Millisecond},
		{Limit: 1, Window: 101 * 365 * 24 * time.Hour, Lockout: time.Millisecond, MaxLockout: time.Millisecond},
	} {
		err := bad.Validate()
		if !errors.Is(err, throttle.ErrInvalidConfig) || strings.Count(err.Error(), "throttle:") != 1 {
			t.Fatalf("Validate(%+v) = %v; want ErrInvalidConfig, the package named once", bad, err)
		}
	}
}
