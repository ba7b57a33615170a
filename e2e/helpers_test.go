package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/device"
)

const (
	demoUser     = "e2e-user"
	demoPassword = "an e2e passphrase that is long"
	cookieName   = "__Host-sid"
)

// binDir holds the server built for the tests; TestMain removes it.
var binDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// buildServer builds examples/loginserver once per test run.
var buildServer = sync.OnceValues(func() (string, error) {
	dir, err := filepath.Abs("../examples/loginserver") // a module of its own
	if err != nil {
		return "", err
	}
	if binDir, err = os.MkdirTemp("", "loginserver-e2e-"); err != nil {
		return "", err
	}
	bin := filepath.Join(binDir, "loginserver")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build in examples/loginserver: %v\n%s", err, out)
	}
	return bin, nil
})

// chromiumPath finds the browser, or skips (fails under CI=true).
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM_PATH"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "Chromium not found (install it with `apt-get install -y chromium`, or set CHROMIUM_PATH)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// lockedBuffer collects the server's log output.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// startServer runs examples/loginserver on a free loopback port until the
// test ends (then SIGTERM, and it must exit with status 0) and returns its
// base URL (http://localhost:PORT) and its log.
func startServer(t *testing.T, extraEnv ...string) (string, *lockedBuffer) {
	t.Helper()
	base, logs, _ := startServerOn(t, freePort(t), extraEnv...)
	return base, logs
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startServerOn is startServer on a given port; stop shuts the server down
// (SIGTERM; it must exit with status 0) before the test ends, so that it
// can be started again on the same port.
func startServerOn(t *testing.T, port int, extraEnv ...string) (base string, logs *lockedBuffer, stop func()) {
	t.Helper()
	bin, err := buildServer()
	if err != nil {
		t.Fatal(err)
	}

	logs = &lockedBuffer{}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(),
		fmt.Sprintf("ADDR=127.0.0.1:%d", port),
		"DEMO_USER="+demoUser,
		"DEMO_PASSWORD="+demoPassword,
		"REDIS_URL=", "SESSION_KEYS=", "INSECURE_COOKIES=", "TRUSTED_PROXIES=",
		// The browser opens localhost: the provider's callback must come
		// back there, to the origin of the session cookie.
		fmt.Sprintf("BASE_URL=http://localhost:%d", port),
		"OIDC_ISSUER=", "OAUTH2_ISSUER=", "DEMO_PROVIDER_ADDR=",
	)
	cmd.Env = append(cmd.Env, extraEnv...)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop = func() { once.Do(func() { stopServer(t, cmd, logs) }) }
	t.Cleanup(stop)
	// Chromium treats http://localhost as a secure context, so it keeps the
	// Secure, __Host- session cookie over plain HTTP.
	base = fmt.Sprintf("http://localhost:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return base, logs, stop
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not up after 30s: %v\n%s", err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stopServer sends SIGTERM (a graceful shutdown) and waits: the server must
// exit with status 0 within 15 s.
func stopServer(t *testing.T, cmd *exec.Cmd, logs *lockedBuffer) {
	t.Helper()
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("server exited with %v", err)
		}
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Error("server did not shut down within 15s of SIGTERM")
	}
	if t.Failed() {
		t.Logf("server log:\n%s", logs.String())
	}
}

// newBrowser starts headless Chromium with a fresh profile; its first tab
// is a desktop browser, 1024 px wide.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1024, 768),
	}
	// One bound for the whole test, so a hung browser cannot hang CI.
	ctx, cancelTimeout := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancelTimeout)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(browser); err != nil { // start the browser
		t.Fatalf("start Chromium (%s): %v", path, err)
	}
	return browser
}

// newPhone opens a second device in the same browser: its own browser
// context (cookie jar), emulating an iPhone 13 (390 x 844, Safari's user
// agent).
func newPhone(t *testing.T, browser context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	must(t, "emulate an iPhone", chromedp.Do(ctx, chromedp.Emulate(device.IPhone13)))
	return ctx
}

// newDesktop opens another desktop browser with its own cookie jar.
func newDesktop(t *testing.T, browser context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	must(t, "set the window size", chromedp.Do(ctx, chromedp.EmulateViewport(1024, 768)))
	return ctx
}

// darkMode switches prefers-color-scheme for the tab.
func darkMode(t *testing.T, ctx context.Context, on bool) {
	t.Helper()
	scheme := "light"
	if on {
		scheme = "dark"
	}
	_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
	})
	must(t, "emulate "+scheme+" mode", err)
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func run[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	must(t, what, err)
	return v
}

// screenshotDir is where screenshots go: $SCREENSHOT_DIR, or a temporary
// directory of the test.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("SCREENSHOT_DIR")
	if dir == "" {
		return t.TempDir()
	}
	must(t, "create SCREENSHOT_DIR", os.MkdirAll(dir, 0o755))
	return dir
}

// shooter saves full-page PNG screenshots as <dir>/<name>.png.
type shooter struct {
	t   *testing.T
	dir string
}

func newShooter(t *testing.T) *shooter { return &shooter{t: t, dir: screenshotDir(t)} }

func (s *shooter) shot(ctx context.Context, name string) {
	s.t.Helper()
	png := run(s.t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
	path := filepath.Join(s.dir, name+".png")
	must(s.t, "write "+path, os.WriteFile(path, png, 0o644))
	s.t.Logf("screenshot %s", path)
}

// open navigates to url and waits for sel.
func open(t *testing.T, ctx context.Context, url, sel string) {
	t.Helper()
	must(t, "open "+url, chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(sel))))
}

// fill types into the inputs (by id, in order) and clicks #submit, then
// waits for sel on the page that answers.
func fill(t *testing.T, ctx context.Context, fields [][2]string, sel string) {
	t.Helper()
	var steps []chromedp.Action[chromedp.Void]
	for _, f := range fields {
		steps = append(steps, clearInput(f[0]), chromedp.SendKeys(chromedp.CSS("input#"+f[0]), f[1]))
	}
	// What sel matches on this page is removed first, so that only the page
	// the submit leads to can satisfy the wait (an error page followed by
	// another error page would otherwise be read before it arrives).
	steps = append(steps, removeAll(sel), chromedp.Click(chromedp.CSS("#submit")), chromedp.WaitVisible(chromedp.CSS(sel)))
	must(t, "fill in and submit "+fmt.Sprint(fields), chromedp.Do(ctx, steps...))
}

// removeAll removes the elements matching the CSS selector sel.
func removeAll(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](fmt.Sprintf(`(document.querySelectorAll(%q).forEach(e => e.remove()), true)`, sel))(ctx, t)
		return err
	})
}

// clearInput empties the input with the given id (a page re-rendered after
// an error keeps what was typed in some fields).
func clearInput(id string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](fmt.Sprintf(`(document.getElementById(%q).value = "") === ""`, id))(ctx, t)
		return err
	})
}

// signIn signs in through the form and waits for the account page.
func signIn(t *testing.T, ctx context.Context, base, user, password string) {
	t.Helper()
	open(t, ctx, base+"/", "#login-form")
	fill(t, ctx, [][2]string{{"username", user}, {"password", password}}, "#signed-in")
}

func signedIn(t *testing.T, ctx context.Context) bool {
	t.Helper()
	return run(t, ctx, "look for #signed-in", chromedp.Evaluate[bool](`document.querySelector('#signed-in') !== null`))
}

// text returns the text of the first element matching sel ("" if none).
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return run(t, ctx, "text of "+sel, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q) || {innerText: ""}).innerText`, sel)))
}

// focused returns the id of the element that has the focus. A page that was
// just loaded may apply its autofocus a moment after its text is there, so
// it waits (up to two seconds) for some element other than the body to
// have the focus.
func focused(t *testing.T, ctx context.Context) string {
	t.Helper()
	var id string
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		id = run(t, ctx, "active element", chromedp.Evaluate[string](`document.activeElement ? document.activeElement.id : ""`))
		if id != "" || time.Now().After(deadline) {
			return id
		}
	}
}

// sessionRows returns the text of each row of the sessions table.
func sessionRows(t *testing.T, ctx context.Context) []string {
	t.Helper()
	return run(t, ctx, "session rows", chromedp.Evaluate[[]string](`[...document.querySelectorAll('#sessions tbody tr')].map(r => r.innerText.replace(/\s+/g, ' ').trim())`))
}

func wantText(t *testing.T, ctx context.Context, sel, want string) {
	t.Helper()
	if got := text(t, ctx, sel); !strings.Contains(got, want) {
		t.Fatalf("%s says %q, want it to contain %q", sel, got, want)
	}
}
