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
