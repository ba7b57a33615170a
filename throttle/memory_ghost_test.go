package throttle

import (
	"math"
	"testing"
)

func TestScaleCountKeepsTheShareSpent(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ n, limit, to, want int }{
		{4, 10, 10, 4},
		{4, 10, 20, 8},
		{5, 10, 3, 2}, // 1.5, rounded up
		{1, 50, 10, 1},
		{10, 10, 3, 3},
		{12, 10, 3, 3}, // more than the limit: all of the new one
		{3, 0, 10, 3},  // no limit known
		{0, 10, 20, 0},
		{1, math.MaxInt, math.MaxInt - 1, 1},
		{math.MaxInt - 1, math.MaxInt, math.MaxInt, math.MaxInt - 1},
		{math.MaxInt / 2, math.MaxInt, 10, 5},
	} {
		if got := scaleCount(tt.n, tt.limit, tt.to); got != tt.want {
			t.Errorf("scaleCount(%d, %d, %d) = %d, want %d", tt.n, tt.limit, tt.to, got, tt.want)
		}
	}
}

func TestShareAboveComparesWithoutOverflow(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		n1, l1, n2, l2 int
		want           bool
	}{
		{2, 10, 1, 10, true},
		{1, 10, 2, 10, false},
		{1, 10, 1, 10, false},
		{1, 10, 5, 50, false},
		{3, 10, 5, 50, true},
		{math.MaxInt - 1, math.MaxInt, 1, 2, true},
		{1, math.MaxInt, 1, 2, false},
	} {
		if got := shareAbove(tt.n1, tt.l1, tt.n2, tt.l2); got != tt.want {
			t.Errorf("shareAbove(%d/%d, %d/%d) = %v, want %v", tt.n1, tt.l1, tt.n2, tt.l2, got, tt.want)
		}
	}
}
