package redistest

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// A test binary that dies without stopping its servers (a panic skips its
// Cleanup functions) takes them with it: the child below starts a server,
// prints its address and exits at once.
func TestServersDieWithTheTestBinary(t *testing.T) {
	if os.Getenv("REDISTEST_ORPHAN_CHILD") == "1" {
		s, err := Start(os.TempDir())
		if err != nil {
			os.Stdout.WriteString("error " + err.Error() + "\n")
			os.Exit(2)
		}
		os.Stdout.WriteString("addr " + s.Addr + "\n")
		os.Exit(3) // no Stop
	}
	if !Need(t, "redis-server") {
		return
	}
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^TestServersDieWithTheTestBinary$", "-test.count=1")
	cmd.Env = append(os.Environ(), "REDISTEST_ORPHAN_CHILD=1")
	out, _ := cmd.Output()
	addr := ""
	for sc := bufio.NewScanner(strings.NewReader(string(out))); sc.Scan(); {
		if a, ok := strings.CutPrefix(sc.Text(), "addr "); ok {
			addr = a
		}
	}
	if addr == "" {
		t.Fatalf("the child started no server: %q", out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for ping(addr) == nil {
		if time.Now().After(deadline) {
			c := redis.NewClient(&redis.Options{Addr: addr})
			c.ShutdownNoSave(context.Background()) // it is ours: do not leave it running
			c.Close()
			t.Fatalf("the server at %s still answers 10 s after the test binary that started it died", addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
