package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// readme returns README.md.
func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// readmeBlocks returns the README's fenced code blocks: info string and body.
func readmeBlocks(t *testing.T) [][2]string {
	t.Helper()
	var blocks [][2]string
	for _, m := range regexp.MustCompile("(?ms)^```([a-z]*)\n(.*?)^```").FindAllStringSubmatch(readme(t), -1) {
		blocks = append(blocks, [2]string{m[1], m[2]})
	}
	return blocks
}

// tableColumn returns the first column of the rows of the README table
// whose header row starts with header, without its backquotes.
func tableColumn(t *testing.T, header string) []string {
	t.Helper()
	text := readme(t)
	i := strings.Index(text, "| "+header+" |")
	if i < 0 {
		t.Fatalf("README has no table headed %q", header)
	}
	var col []string
	for _, line := range strings.Split(text[i:], "\n")[2:] {
		if !strings.HasPrefix(line, "|") {
			break
		}
		cell := strings.TrimSpace(strings.Split(line, "|")[1])
		col = append(col, cell)
	}
	return col
}

// Every code block of the README is run by a test here, by the root
// package's README test (Go fragments) or by .ci/run: a new block that
// nothing runs fails this test.
func TestReadmeEveryBlockIsRun(t *testing.T) {
	t.Parallel()
	ci, err := os.ReadFile("../../.ci/run")
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range readmeBlocks(t) {
		info, body := b[0], b[1]
		first := strings.SplitN(body, "\n", 2)[0]
		switch {
		case info == "go": // TestREADMECodeCompiles in the root package
		case strings.HasPrefix(first, "curl "): // TestReadmeCurlSessionRuns
		case strings.HasPrefix(first, "level="): // TestReadmeStartupLogIsWhatTheServerPrints
		case first == "cd examples/loginserver && go run .":
			if !strings.Contains(string(ci), "cd examples/loginserver && go run .") {
				t.Errorf("block %d: .ci/run does not run %q", i, first)
			}
		case strings.HasPrefix(first, "cd examples/loginserver && go test"):
			for _, cmd := range []string{"go test -race -count=1 ./...", "cd e2e && go test"} {
				if !strings.Contains(string(ci), cmd) {
					t.Errorf("block %d: .ci/run does not run %q", i, cmd)
				}
			}
		default:
			t.Errorf("README block %d (%q) is run by no test", i, first)
		}
	}
}

// The README's curl sessions work as written against the server, each
// against a fresh one: the account API's and the access tokens'.
func TestReadmeCurlSessionRuns(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("curl"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("curl not found (apt-get install -y curl)")
		}
		t.Skip("curl not found (apt-get install -y curl)")
	}
	var scripts []string
	for _, b := range readmeBlocks(t) {
		if strings.HasPrefix(b[1], "curl ") {
			scripts = append(scripts, b[1])
		}
	}
	if len(scripts) != 2 {
		t.Fatalf("README has %d curl sessions, want 2", len(scripts))
	}
	wants := [][]string{
		{`"username":"demo"`, `"current":true`, `"device":"curl"`},
		{`"token_type":"Bearer"`, `"username":"demo"`, `"session_id":"`, `"keys":[{`},
	}
	for i, script := range scripts {
		addr, _, _ := startRun(t, map[string]string{"ADDR": "localhost:0"})
		_, port, _ := strings.Cut(addr, ":")
		script = strings.ReplaceAll(script, "http://localhost:8080", "http://localhost:"+port)
		// -f: an HTTP error fails the script; -v on stderr shows what
		// token= captured without printing it; echo: one answer per line.
		cmd := exec.Command("bash", "-euo", "pipefail", "-c", `curl() { command curl -sS -f "$@" | tee -a answers; echo; }`+"\n"+script)
		cmd.Dir = t.TempDir()
		out, err := cmd.CombinedOutput()
		answers, _ := os.ReadFile(filepath.Join(cmd.Dir, "answers"))
		if err != nil {
			t.Fatalf("README curl session %d fails: %v\n%s\n%s", i+1, err, out, answers)
		}
		for _, want := range wants[i] {
			if !strings.Contains(string(answers), want) {
				t.Errorf("session %d: the answers lack %q:\n%s", i+1, want, answers)
			}
		}
	}
}

// The start-up lines the README shows are what the server prints.
func TestReadmeStartupLogIsWhatTheServerPrints(t *testing.T) {
	t.Parallel()
	var shown string
	for _, b := range readmeBlocks(t) {
		if strings.HasPrefix(b[1], "level=") {
			shown = b[1]
		}
	}
	addr, logs, stop := startRun(t, map[string]string{"ADDR": "localhost:0"})
	stop()
	_, port, _ := strings.Cut(addr, ":")
	for _, line := range strings.Split(strings.TrimSpace(shown), "\n") {
		line = strings.TrimSuffix(line, " ...")
		line = strings.ReplaceAll(line, "localhost:8080", "localhost:"+port)
		if !strings.Contains(logs.String(), line) {
			t.Errorf("the server does not print %q; it printed:\n%s", line, logs)
		}
	}
}

// The configuration table lists exactly the variables loadConfig reads.
func TestReadmeConfigurationTableIsComplete(t *testing.T) {
	t.Parallel()
	var read []string
	loadConfig(func(k string) string { read = append(read, k); return "" })
	var documented []string
	for _, cell := range tableColumn(t, "variable") {
		documented = append(documented, strings.Trim(cell, "`"))
	}
	// And no file reads a variable loadConfig does not: every getenv and
	// os.Getenv of a constant name is one of them.
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`(?i)getenv\("([A-Z0-9_]+)"\)`).FindAllStringSubmatch(string(src), -1) {
			if !slices.Contains(read, m[1]) {
				t.Errorf("%s reads %s, which loadConfig does not", f, m[1])
			}
		}
	}
	slices.Sort(read)
	read = slices.Compact(read)
	slices.Sort(documented)
	if !slices.Equal(read, documented) {
		t.Fatalf("loadConfig reads %v; the README documents %v", read, documented)
	}
}

// Every endpoint of the API table is routed to a handler for its method.
func TestReadmeEndpointsAreRouted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b, anon := e.browser("192.0.2.1:1"), e.browser("192.0.2.2:1")
	b.mustLogin()
	// The pages of the pages table answer GET, signed in or out.
	for _, cell := range tableColumn(t, "page") {
		path, _, _ := strings.Cut(strings.Trim(cell, "`"), "`")
		if r, ra := b.page(path), anon.page(path); r.StatusCode != http.StatusOK && ra.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d signed in, %d signed out", path, r.StatusCode, ra.StatusCode)
		}
	}
	rows := tableColumn(t, "endpoint")
	if len(rows) < 8 {
		t.Fatalf("%d endpoints in the README", len(rows))
	}
	for _, cell := range rows {
		method, path, ok := strings.Cut(strings.Trim(cell, "`"), " ")
		if !ok {
			t.Fatalf("endpoint cell %q", cell)
		}
		path = strings.ReplaceAll(path, "{id}", "0123456789abcdef")
		req := httptest.NewRequest(method, path, strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/json")
		r := b.do(req)
		if r.StatusCode == http.StatusNotFound && !strings.Contains(r.body, "no such session") || r.StatusCode == http.StatusMethodNotAllowed {
			t.Errorf("%s %s: %d %s", method, path, r.StatusCode, r.body)
		}
	}
}

// The file table lists every source file and template, and nothing else.
func TestReadmeFileTableListsEveryFile(t *testing.T) {
	t.Parallel()
	var listed []string
	for _, cell := range tableColumn(t, "file") {
		for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(cell, -1) {
			listed = append(listed, m[1])
		}
	}
	var files []string
	goFiles, _ := filepath.Glob("*.go")
	for _, f := range goFiles {
		if !strings.HasSuffix(f, "_test.go") {
			files = append(files, f)
		}
	}
	files = append(files, "templates/", "static/")
	slices.Sort(listed)
	slices.Sort(files)
	if !slices.Equal(listed, files) {
		t.Fatalf("README lists %v; the directory has %v", listed, files)
	}
	for _, tmpl := range []string{"layout", "signin", "signup", "account", "password", "error"} {
		if _, err := os.Stat(fmt.Sprintf("templates/%s.html", tmpl)); err != nil {
			t.Error(err)
		}
	}
}
