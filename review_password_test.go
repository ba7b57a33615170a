package session

import (
	"fmt"
	"testing"
	"time"
)

// Regression (found in review, fixed): when MaxKeys is reached, Throttle evicts the least recently failed key even while it is locked, so flooding failures on fresh keys (e.g. made-up usernames from many IPv6 /64s) lifts an account's lockout early (S46).
func TestReview_S46_ThrottleNeverEvictsALockedKey(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	th := NewThrottle(ThrottleConfig{MaxFailures: 3, MaxKeys: 4, Now: func() time.Time { return now }})
	for range 3 {
		th.Fail("user:victim")
	}
	if _, ok := th.Check("user:victim"); ok {
		t.Fatal("victim not locked after 3 failures")
	}
	now = now.Add(time.Second)
	for i := range 4 {
		th.Fail(fmt.Sprintf("user:nobody%d", i)) // one failure each, none locked
	}
	if _, ok := th.Check("user:victim"); ok {
		t.Fatal("the victim's lockout was lifted by evicting it to make room for unlocked keys")
	}
}
