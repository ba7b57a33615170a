package redisring

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"
)

func TestDropsShardsTellsTheDefaultHeartbeatFromOthers(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		fn   func(context.Context, *redis.Client) bool
		want bool
	}{
		{"default", nil, true},
		{"KeepShards", KeepShards, false},
		{"a closure of the app's", func(context.Context, *redis.Client) bool { return true }, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:1"}, HeartbeatFn: tt.fn})
			defer r.Close()
			if got := DropsShards(r); got != tt.want {
				t.Fatalf("DropsShards = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestIsNilKnowsEveryNilClient(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		client redis.UniversalClient
		want   bool
	}{
		"nil":                {nil, true},
		"nil *Client":        {(*redis.Client)(nil), true},
		"nil *ClusterClient": {(*redis.ClusterClient)(nil), true},
		"nil *Ring":          {(*redis.Ring)(nil), true},
		"a client":           {redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}), false},
	} {
		if got := IsNil(tc.client); got != tc.want {
			t.Errorf("%s: IsNil = %v, want %v", name, got, tc.want)
		}
	}
}
