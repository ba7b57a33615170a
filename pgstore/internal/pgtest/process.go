package pgtest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// serviceUser is who runs the servers when the tests run as root, which
// neither initdb, postgres nor pgbouncer accept.
const serviceUser = "postgres"

// owner is the user the servers run as: nil for the current user, or the
// postgres account when running as root.
type owner struct {
	cred     *syscall.Credential
	uid, gid int
}

func currentOwner() (owner, error) {
	if os.Geteuid() != 0 {
		return owner{uid: -1, gid: -1}, nil
	}
	u, err := user.Lookup(serviceUser)
	if err != nil {
		return owner{}, fmt.Errorf("running as root and no %q user to run the server as: %w", serviceUser, err)
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err := errors.Join(err1, err2); err != nil {
		return owner{}, err
	}
	return owner{cred: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, uid: uid, gid: gid}, nil
}

// tempDir makes a private directory the owner can write; removed when tb ends.
func (o owner) tempDir(tb testing.TB, pattern string) string {
	tb.Helper()
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	if o.cred != nil {
		if err := os.Chown(dir, o.uid, o.gid); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

// command returns a command that runs as the owner, in dir, and is killed
// with sig if the test binary dies first.
func (o owner) command(dir string, sig syscall.Signal, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + dir, "LANG=C.UTF-8", "LC_ALL=C.UTF-8"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: o.cred, Pdeathsig: sig, Setpgid: true}
	return cmd
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitTCP waits until something accepts connections on addr, or the process
// behind exited (exited is closed), or the timeout passes.
func waitTCP(addr string, exited <-chan struct{}, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("exited before it accepted connections")
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("nothing accepted connections on %s within %v", addr, timeout)
}

// postgresBin finds a PostgreSQL server program: on PATH, else in the newest
// /usr/lib/postgresql/*/bin (Debian's layout).
func postgresBin(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi > vj
	})
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found on PATH or in /usr/lib/postgresql/*/bin", name)
}
