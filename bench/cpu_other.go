//go:build !unix

package bench

import "time"

// ProcessCPU returns 0: process CPU time is measured on Unix only.
func ProcessCPU() time.Duration { return 0 }
