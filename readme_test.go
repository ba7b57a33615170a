package session

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestREADMECodeCompiles builds every Go block of README.md that follows a
// "readme-test" marker, against this checkout of the module. A "fragment"
// block is compiled inside a function that provides the names the README
// leaves to the reader (cfg, newMyStore); a fragment that starts with
// "func" is compiled at top level. Only "declared and not used" is forgiven
// in fragments. A "test" block is a test file; its tests run.
func TestREADMECodeCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("builds programs with the go command")
	}
	var blocks [][][]byte
	for _, name := range []string{"README.md", "examples/loginserver/README.md"} {
		readme, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		blocks = append(blocks, regexp.MustCompile("(?s)<!-- readme-test: ([a-z-]+) -->\n```go\n(.*?)```").FindAllSubmatch(readme, -1)...)
	}
	if len(blocks) < 6 {
		t.Fatalf("found %d readme-test blocks in the READMEs, want at least 6", len(blocks))
	}
	root, _ := filepath.Abs(".")
	sum, err := os.ReadFile("go.sum")
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range blocks {
		kind, code := string(b[1]), string(b[2])
		t.Run(fmt.Sprintf("%d-%s", i, kind), func(t *testing.T) {
			t.Parallel()
			if kind == "fragment" {
				code = wrapFragment(code)
			}
			dir := t.TempDir()
			gomod := "module readmetest\n\ngo 1.26\n\nrequire github.com/sessionauth/session v0.0.0\n\nreplace github.com/sessionauth/session => " + root + "\n"
			must(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644))
			must(t, os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644))
			if kind == "test" {
				// A test file: its test runs, beside an empty main.
				must(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nfunc main() {}\n"), 0o644))
				must(t, os.WriteFile(filepath.Join(dir, "readme_test.go"), []byte(code), 0o644))
			} else {
				must(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(code), 0o644))
			}
			cmd := exec.Command("go", "mod", "tidy")
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("go mod tidy: %v\n%s", err, out)
			}
			cmd = exec.Command("go", "vet", ".")
			if kind == "test" {
				cmd = exec.Command("go", "test", "-count=1", ".")
			}
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			if err == nil {
				return
			}
			for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				if kind == "fragment" && (strings.Contains(line, "declared and not used") || strings.HasPrefix(line, "#")) {
					continue
				}
				t.Fatalf("README block %d (%s) does not build: %v\n%s\n--- code ---\n%s", i, kind, err, out, code)
			}
		})
	}
}

func wrapFragment(code string) string {
	var top, body string
	if strings.HasPrefix(code, "func ") {
		top = code
	} else {
		body = code
	}
	return `package main

import (
	"testing"
	"time"

	"github.com/sessionauth/session"
	"github.com/sessionauth/session/storetest"
)

var (
	_          = storetest.Run
	_          = time.Second
	newMyStore func(*testing.T) session.Store
)

func main() {}

` + top + `
func fragment(cfg *session.Config) {
` + body + `
}
`
}
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Coverage for S10: the README gives the three-step multi-instance rollout in
// order: [old,new] everywhere, then [new,old], then drop old.
func TestS10_READMEDocumentsRolloutOrder(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	steps := []string{"SESSION_KEYS=old,new", "SESSION_KEYS=new,old", "SESSION_KEYS=new`"}
	at := 0
	for _, s := range steps {
		i := strings.Index(readme[at:], s)
		if i < 0 {
			t.Fatalf("README lacks rollout step %q after offset %d", s, at)
		}
		at += i + len(s)
	}
}

// TestREADMEQuickstartRuns runs the quickstart as the README tells a reader
// to: its code in a new module, started by the README's run line (a fresh
// SESSION_KEYS), then signs in, reads /me and checks that a cross-site POST
// is refused. Only the listening port is changed, to a free one.
func TestREADMEQuickstartRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a program with the go command")
	}
	t.Parallel()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	code := regexp.MustCompile("(?s)<!-- readme-test: quickstart -->\n```go\n(.*?)```").FindSubmatch(readme)
	run := regexp.MustCompile("(?s)<!-- readme-run: quickstart -->\n```\n(.*?)\n```").FindSubmatch(readme)
	if code == nil || run == nil {
		t.Fatal("README lacks the quickstart code or its run line")
	}
	if !strings.Contains(string(run[1]), "SESSION_KEYS=$(") {
		t.Fatalf("the run line does not generate SESSION_KEYS: %q", run[1])
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	src := strings.Replace(string(code[1]), `"localhost:8080"`, `"`+addr+`"`, 1)

	dir := t.TempDir()
	root, _ := filepath.Abs(".")
	sum, err := os.ReadFile("go.sum")
	if err != nil {
		t.Fatal(err)
	}
	gomod := "module example.com/app\n\ngo 1.26\n\nrequire github.com/sessionauth/session v0.0.0\n\nreplace github.com/sessionauth/session => " + root + "\n"
	must(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644))
	tidy := exec.Command("go", "mod", "tidy")
	tidy.Dir = dir
	if out, err := tidy.CombinedOutput(); err != nil {
		t.Fatalf("go mod tidy: %v\n%s", err, out)
	}

	var out bytes.Buffer
	cmd := exec.Command("bash", "-c", string(run[1]))
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // go run and the program it started
		cmd.Wait()
	})

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 5 * time.Second}
	base := "http://" + addr
	deadline := time.Now().Add(90 * time.Second)
	for {
		res, err := client.Get(base + "/me")
		if err == nil {
			res.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the quickstart did not start: %v\n%s", err, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	req, _ := http.NewRequest("POST", base+"/login", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("a cross-site POST /login answered %d, want 403", res.StatusCode)
	}
	res, err = client.Post(base+"/login", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(body) != "signed in as 42" {
		t.Fatalf("POST /login then /me: %d %q\n%s", res.StatusCode, body, out.String())
	}
}

// TestREADMEStepUpConfirmReturnsOnlyToThisSite runs the README's step-up
// routes and posts its confirm page hostile "return" values: the redirect
// must stay on this site as a browser reads it, which drops tabs and
// newlines from a URL before parsing it ("/\t/evil.example" is
// "//evil.example" to a browser).
func TestREADMEStepUpConfirmReturnsOnlyToThisSite(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program with the go command")
	}
	t.Parallel()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	code := regexp.MustCompile("(?s)<!-- readme-test: step-up -->\n```go\n(.*?)```").FindSubmatch(readme)
	if code == nil {
		t.Fatal("README lacks the step-up code")
	}
	dir := t.TempDir()
	root, _ := filepath.Abs(".")
	sum, err := os.ReadFile("go.sum")
	if err != nil {
		t.Fatal(err)
	}
	gomod := "module example.com/app\n\ngo 1.26\n\nrequire github.com/sessionauth/session v0.0.0\n\nreplace github.com/sessionauth/session => " + root + "\n"
	must(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "main.go"), code[1], 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "confirm_test.go"), []byte(`package main

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/sessionauth/session"
)

func TestConfirmReturn(t *testing.T) {
	ring, _ := session.NewKeyRing(make([]byte, 32))
	m, _ := session.New(session.Config{Keys: ring, StepUpURL: "/confirm"})
	h := routes(m, func(*http.Request) (string, bool) { return "alice", true })
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/login", nil))
	cookies := w.Result().Cookies()
	for _, ret := range []string{"/%09/evil.example", "/%0D%0A/evil.example", "%09//evil.example", "/%5Cevil.example", "//evil.example", "https://evil.example/"} {
		r := httptest.NewRequest("POST", "/confirm?return="+ret, nil)
		for _, c := range cookies {
			r.AddCookie(c)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if c := w.Result().Cookies(); len(c) > 0 {
			cookies = c // StepUp renewed the session
		}
		loc := w.Header().Get("Location")
		// What a browser makes of it (WHATWG URL: leading and trailing C0
		// controls and spaces trimmed, tabs and newlines removed).
		seen := strings.Map(func(r rune) rune {
			if r == '\t' || r == '\n' || r == '\r' {
				return -1
			}
			return r
		}, strings.TrimLeft(loc, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f "))
		u, err := url.Parse(strings.ReplaceAll(seen, "\\", "/"))
		if w.Code != http.StatusSeeOther || err != nil || u.Host != "" || u.Scheme != "" || !strings.HasPrefix(u.Path, "/") {
			t.Errorf("return=%s: %d, Location %q leaves the site", ret, w.Code, loc)
		}
	}
	// Where RequireRecentAuth sends a page (GET /confirm?return=/password)
	// and where the confirmation sends it back (GET /password) are pages.
	for _, target := range []string{"/confirm?return=%2Fpassword", "/password"} {
		r := httptest.NewRequest("GET", target, nil)
		for _, c := range cookies {
			r.AddCookie(c)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "<form") {
			t.Errorf("GET %s: %d %q, want a page with a form", target, w.Code, w.Body.String())
		}
	}
}
`), 0o644))
	tidy := exec.Command("go", "mod", "tidy")
	tidy.Dir = dir
	if out, err := tidy.CombinedOutput(); err != nil {
		t.Fatalf("go mod tidy: %v\n%s", err, out)
	}
	cmd := exec.Command("go", "test", "-count=1", ".")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the README's confirm page redirects off the site: %v\n%s", err, out)
	}
}

// TestSecurityItemNumbersAreUnique: SECURITY.md's item numbers are what
// tests and reviews point at, so each names one row.
func TestSecurityItemNumbersAreUnique(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("SECURITY.md")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\| ([SB][0-9]+(?:, [SB][0-9]+)*) \|`).FindAllStringSubmatch(string(b), -1) {
		for _, n := range strings.Split(m[1], ", ") {
			if seen[n] {
				t.Errorf("SECURITY.md numbers two items %s", n)
			}
			seen[n] = true
		}
	}
	if len(seen) < 60 {
		t.Fatalf("found %d numbered items in SECURITY.md; the pattern no longer matches its tables", len(seen))
	}
}
