package pgtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Bouncer is a PgBouncer in transaction pooling mode on a free loopback
// port, in front of one PostgreSQL server; stopped by its PID when the test
// ends.
type Bouncer struct {
	// Port is the loopback TCP port PgBouncer listens on.
	Port int
}

// StartBouncer starts PgBouncer in transaction pooling mode in front of the
// server at upstream (a URL; its host, port and user are used), with at most
// poolSize server connections per database. settings are more lines of its
// [pgbouncer] section ("server_login_retry = 1"). It skips (fails under
// CI=true) when pgbouncer is not installed.
func StartBouncer(tb testing.TB, upstream string, poolSize int, settings ...string) *Bouncer {
	tb.Helper()
	bin := bouncerBinary(tb)
	up, err := pgx.ParseConfig(upstream)
	if err != nil {
		tb.Fatal(err)
	}
	own, err := currentOwner()
	if err != nil {
		Unavailable(tb, "cannot run pgbouncer: "+err.Error())
	}
	port, err := FreePort()
	if err != nil {
		tb.Fatal(err)
	}
	dir := own.tempDir(tb, "pgstore-bouncer-")
	// auth_type=any: clients are not authenticated (the loopback test
	// server trusts everyone too); every database logs in upstream as the
	// upstream URL's user.
	ini := fmt.Sprintf(`[databases]
* = host=%s port=%d user=%s

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = any
pool_mode = transaction
default_pool_size = %d
max_client_conn = 200
server_reset_query =
logfile = %s
`, up.Host, up.Port, up.User, port, poolSize, filepath.Join(dir, "pgbouncer.log"))
	for _, l := range settings {
		ini += l + "\n"
	}
	cfg := filepath.Join(dir, "pgbouncer.ini")
	if err := os.WriteFile(cfg, []byte(ini), 0o644); err != nil {
		tb.Fatal(err)
	}
	cmd := own.command(dir, syscall.SIGKILL, bin, "-q", cfg)
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start pgbouncer: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	tb.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	if err := waitTCP("127.0.0.1:"+strconv.Itoa(port), done, 10*time.Second); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "pgbouncer.log"))
		tb.Fatalf("pgbouncer: %v\n%s", err, log)
	}
	return &Bouncer{Port: port}
}

func bouncerBinary(tb testing.TB) string {
	bin, err := exec.LookPath("pgbouncer")
	if err != nil {
		bin = "/usr/sbin/pgbouncer" // Debian's, not on a non-root PATH
		if _, err := os.Stat(bin); err != nil {
			Unavailable(tb, "pgbouncer is not installed (apt-get install pgbouncer)")
		}
	}
	return bin
}

// BouncerVersion returns the installed PgBouncer's major and minor version
// ("PgBouncer 1.18.0" is 1, 18).
func BouncerVersion(tb testing.TB) (major, minor int) {
	out, err := exec.Command(bouncerBinary(tb), "--version").Output()
	if err != nil {
		tb.Fatalf("pgbouncer --version: %v", err)
	}
	if _, err := fmt.Sscanf(string(out), "PgBouncer %d.%d", &major, &minor); err != nil {
		tb.Fatalf("pgbouncer --version said %q: %v", out, err)
	}
	return major, minor
}

// URL is the address of database db through PgBouncer.
func (b *Bouncer) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", b.Port, db)
}
