package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestLoadConfigReadsEnvironmentAndNamesBadVariable(t *testing.T) {
	t.Parallel()
	key := "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" // 32 bytes, base64
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
		check   func(t *testing.T, c config)
	}{
		{"defaults", nil, "", func(t *testing.T, c config) {
			if c.Addr != "localhost:8080" || !c.KeysGenerated || c.Keys == nil || c.IdleTimeout != 0 || c.Lifetime != 0 ||
				c.DemoUser != "demo" || c.DemoPassword != defaultDemoPassword || c.DemoPasswordSet || c.InsecureCookies ||
				c.ShutdownTimeout != 10*time.Second {
				t.Fatalf("%+v", c)
			}
		}},
		{"everything", map[string]string{
			"ADDR": "127.0.0.1:9999", "SESSION_KEYS": key + ",ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=", "SESSION_IDLE_TIMEOUT": "45m",
			"SESSION_LIFETIME": "24h", "DEMO_USER": "Ann", "DEMO_PASSWORD": "another long passphrase", "INSECURE_COOKIES": "1",
			"SHUTDOWN_TIMEOUT": "25s", "TRUSTED_PROXIES": " 10.0.0.0/8, 192.168.1.7,2001:db8::/32 ",
		}, "", func(t *testing.T, c config) {
			if c.Addr != "127.0.0.1:9999" || c.KeysGenerated || c.Keys == nil || c.IdleTimeout != 45*time.Minute ||
				c.Lifetime != 24*time.Hour || c.DemoUser != "Ann" || !c.DemoPasswordSet || !c.InsecureCookies ||
				c.ShutdownTimeout != 25*time.Second {
				t.Fatalf("%+v", c)
			}
			if got := fmt.Sprint(c.TrustedProxies); got != "[10.0.0.0/8 192.168.1.7/32 2001:db8::/32]" {
				t.Fatalf("TrustedProxies %s", got)
			}
			// The device cookies are signed with the session secrets.
			if len(c.Secrets) != 2 || string(c.Secrets[0]) != "0123456789abcdef0123456789abcdef" || string(c.Secrets[1]) != "fedcba9876543210fedcba9876543210" {
				t.Fatalf("Secrets %q", c.Secrets)
			}
		}},
		{"generated key signs device cookies too", nil, "", func(t *testing.T, c config) {
			if len(c.Secrets) != 1 || len(c.Secrets[0]) != 32 || c.TrustedProxies != nil {
				t.Fatalf("Secrets %d, TrustedProxies %v", len(c.Secrets), c.TrustedProxies)
			}
		}},
		{"URL-safe unpadded keys", map[string]string{"SESSION_KEYS": "_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-", "DEMO_PASSWORD": "another long passphrase"}, "", func(t *testing.T, c config) {
			if len(c.Secrets) != 1 || len(c.Secrets[0]) != 33 || c.Secrets[0][0] != 0xff {
				t.Fatalf("Secrets %x", c.Secrets)
			}
		}},
		{"bad keys", map[string]string{"SESSION_KEYS": "c2hvcnQ="}, "SESSION_KEYS", nil},
		{"bad idle", map[string]string{"SESSION_IDLE_TIMEOUT": "30"}, "SESSION_IDLE_TIMEOUT", nil},
		{"bad shutdown timeout", map[string]string{"SHUTDOWN_TIMEOUT": "-1s"}, "SHUTDOWN_TIMEOUT", nil},
		{"tiny lifetime", map[string]string{"SESSION_LIFETIME": "1ms"}, "SESSION_LIFETIME", nil},
		{"bad proxy", map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8,proxy.internal"}, "TRUSTED_PROXIES: entry 2", nil},
		{"empty proxy entry", map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8,"}, "TRUSTED_PROXIES: entry 2", nil},
		{"bad insecure", map[string]string{"INSECURE_COOKIES": "yes please"}, "INSECURE_COOKIES", nil},
		{"bad demo user", map[string]string{"DEMO_USER": "a b"}, "DEMO_USER", nil},
		{"weak demo password", map[string]string{"DEMO_PASSWORD": "pw12345"}, "DEMO_PASSWORD", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := loadConfig(envFunc(tc.env))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one about %s", err, tc.wantErr)
				}
				for _, secret := range []string{"SESSION_KEYS", "DEMO_PASSWORD"} {
					if v := tc.env[secret]; v != "" && strings.Contains(err.Error(), v) {
						t.Fatalf("error %q repeats %s", err, secret)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}
