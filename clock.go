package session

import "time"

// monoEpoch is the reference of the package's monotonic times. Code that
// only measures intervals (the verified-value cache's expiry, a store call's
// deadline for Err, the observer's latencies) reads the monotonic clock
// alone with time.Since, about half the cost of time.Now, which reads the
// wall clock as well.
var monoEpoch = time.Now()

// monoNow returns the monotonic time: nanoseconds since monoEpoch.
func monoNow() int64 { return int64(time.Since(monoEpoch)) }

// monoTime returns the time.Time of the monotonic time n. It carries the
// monotonic reading, so comparisons with other readings, time.Until and
// timers use it and a wall-clock step does not move it; its wall-clock part
// is monoEpoch's plus n, which does not follow wall-clock steps.
func monoTime(n int64) time.Time { return monoEpoch.Add(time.Duration(n)) }

// monoAt is the monotonic time of now, a time.Now reading, without reading
// the clock again; a time without a monotonic reading (a test's clock) is
// not trusted, and the clock is read.
func monoAt(now time.Time) int64 {
	if now == now.Round(0) {
		return monoNow()
	}
	return int64(now.Sub(monoEpoch))
}
