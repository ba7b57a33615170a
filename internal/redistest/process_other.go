//go:build !linux

package redistest

import "os/exec"

// dieWithTestBinary does nothing where the kernel has no parent-death
// signal: a server outlives a test binary that dies without calling Stop.
func dieWithTestBinary(cmd *exec.Cmd) {}
