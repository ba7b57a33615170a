package session

import "time"

// monoEpoch is the reference of the package's monotonic times. Hot paths
// that only measure intervals (the store guard's deadlines and breaker, the
// verified-value cache) read the monotonic clock alone with time.Since,
// about half the cost of time.Now, which reads the wall clock as well.
var monoEpoch = time.Now()

// monoNow returns the monotonic time: nanoseconds since monoEpoch.
func monoNow() int64 { return int64(time.Since(monoEpoch)) }

// monoTime returns the time.Time of the monotonic time n, for APIs that
// take one (context deadlines); it carries the monotonic reading, so
// time.Until and timers use it and a wall-clock step does not move it.
func monoTime(n int64) time.Time { return monoEpoch.Add(time.Duration(n)) }
