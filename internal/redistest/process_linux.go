package redistest

import (
	"os/exec"
	"syscall"
)

// dieWithTestBinary has the kernel kill the server when the process that
// started it dies, so that a test binary that panics or exits early (its
// Cleanup and Stop never run) leaves no server behind.
func dieWithTestBinary(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
