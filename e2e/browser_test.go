package e2e

import (
	"bytes"
	"context"
	"fmt"
	"iter"
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

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

const (
	demoUser     = "e2e-user"
	demoPassword = "an e2e passphrase that is long"
	cookieName   = "__Host-sid"
)

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

// startServer builds examples/loginserver, runs it on a free loopback port
// and returns its base URL (http://localhost:PORT) and its log.
func startServer(t *testing.T) (string, *lockedBuffer) {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "loginserver")
	build := exec.Command("go", "build", "-o", bin, "./examples/loginserver")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./examples/loginserver: %v\n%s", err, out)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	logs := &lockedBuffer{}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(),
		fmt.Sprintf("ADDR=127.0.0.1:%d", port),
		"DEMO_USER="+demoUser,
		"DEMO_PASSWORD="+demoPassword,
		"REDIS_URL=", "SESSION_KEYS=", "INSECURE_COOKIES=",
	)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM) // graceful shutdown
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
	})

	// Chromium treats http://localhost as a secure context, so it keeps the
	// Secure, __Host- session cookie over plain HTTP.
	base := fmt.Sprintf("http://localhost:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return base, logs
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not up after 30s: %v\n%s", err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// newBrowser starts headless Chromium with a fresh profile.
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
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1024, 768),
	}
	// One bound for the whole test, so a hung browser cannot hang CI.
	ctx, cancelTimeout := context.WithTimeout(context.Background(), 2*time.Minute)
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

// signIn fills in and submits the form, then waits for the signed-in page.
func signIn(t *testing.T, ctx context.Context, base string) {
	t.Helper()
	must(t, "sign in", chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#login-form")),
		chromedp.SendKeys(chromedp.CSS("input#username"), demoUser),
		chromedp.SendKeys(chromedp.CSS("input#password"), demoPassword),
		chromedp.Click(chromedp.CSS("#submit")),
		chromedp.WaitVisible(chromedp.CSS("#signed-in")),
	))
}

func signedIn(t *testing.T, ctx context.Context) bool {
	t.Helper()
	return run(t, ctx, "look for #signed-in", chromedp.Evaluate[bool](`document.querySelector('#signed-in') !== null`))
}

func sessionRows(t *testing.T, ctx context.Context) int {
	t.Helper()
	return run(t, ctx, "count sessions", chromedp.Evaluate[int](`document.querySelectorAll('#sessions tbody tr').length`))
}

// logBFCache logs why the browser did not restore the page from its
// back/forward cache, when it says so before the events' context ends. Where
// that cache is used, the no-store header of the signed-in page keeps it out
// (Chrome evicts no-store pages when cookies change); where it is not (this
// headless build reports BrowsingInstanceNotSwapped), the back-button check
// covers the HTTP cache.
func logBFCache(t *testing.T, events iter.Seq2[page.EventBackForwardCacheNotUsed, error]) {
	t.Helper()
	for ev, err := range events {
		if err != nil {
			return
		}
		for _, x := range ev.NotRestoredExplanations {
			t.Logf("back/forward cache not used: %s %s", x.Type, x.Reason)
		}
		return
	}
}

func TestBrowserSignInOutFlow(t *testing.T) {
	ctx := newBrowser(t) // first: skips before building anything when Chromium is missing
	base, logs := startServer(t)

	// Sign in through the form and see the signed-in page.
	signIn(t, ctx, base)
	if name := run(t, ctx, "read username", chromedp.Text(chromedp.CSS("span#username"))); name != demoUser {
		t.Fatalf("signed-in page names %q, want %q", name, demoUser)
	}
	if n := sessionRows(t, ctx); n != 1 {
		t.Fatalf("%d sessions listed, want 1", n)
	}
	if cur := run(t, ctx, "current marker", chromedp.Text(chromedp.CSS("#sessions tr.current .tag"))); cur != "this device" {
		t.Fatalf("current session marker %q", cur)
	}
	shot := run(t, ctx, "screenshot", chromedp.FullScreenshot(100))
	must(t, "mkdir out", os.MkdirAll("out", 0o755))
	must(t, "write screenshot", os.WriteFile(filepath.Join("out", "signed-in.png"), shot, 0o644))

	// The session cookie exists, with the safe attributes, but page scripts
	// cannot read it (HttpOnly).
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{base + "/"}})
	must(t, "Network.getCookies", err)
	var session *network.Cookie
	for _, c := range res.Cookies {
		if c.Name == cookieName {
			session = c
		}
	}
	if session == nil {
		t.Fatalf("browser holds no %s cookie; cookies: %+v", cookieName, res.Cookies)
	}
	if !session.HTTPOnly || !session.Secure || session.SameSite != network.CookieSameSiteLax || session.Path != "/" || !session.Session {
		t.Fatalf("cookie attributes: httpOnly=%v secure=%v sameSite=%q path=%q session=%v",
			session.HTTPOnly, session.Secure, session.SameSite, session.Path, session.Session)
	}
	if dc := run(t, ctx, "document.cookie", chromedp.Evaluate[string](`document.cookie`)); strings.Contains(dc, cookieName) || strings.Contains(dc, session.Value) {
		t.Fatalf("document.cookie exposes the session cookie: %q", dc)
	}

	// Reload: still signed in.
	must(t, "reload", chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#signed-in"))))

	// A second browser context (its own cookie jar) signs in too; both see
	// two sessions.
	ctx2, cancel2 := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer cancel2()
	signIn(t, ctx2, base)
	if n := sessionRows(t, ctx2); n != 2 {
		t.Fatalf("second context lists %d sessions, want 2", n)
	}
	must(t, "reload first", chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#signed-in"))))
	if n := sessionRows(t, ctx); n != 2 {
		t.Fatalf("first context lists %d sessions, want 2", n)
	}

	// Sign out everywhere from the second; the first is signed out too.
	must(t, "sign out everywhere", chromedp.Do(ctx2,
		chromedp.Click(chromedp.CSS("#logout-all")),
		chromedp.WaitVisible(chromedp.CSS("#login-form")),
	))
	must(t, "reload first after logout-all", chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("body"))))
	if signedIn(t, ctx) {
		t.Fatal("first context still signed in after sign-out everywhere from the second")
	}

	// Sign in again, sign out; the back button must not show the signed-in
	// page from a cache.
	signIn(t, ctx, base)
	must(t, "sign out", chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#logout")),
		chromedp.WaitVisible(chromedp.CSS("#login-form")),
	))
	evCtx, evCancel := context.WithTimeout(ctx, 5*time.Second)
	notCached := chromedp.Events(evCtx, page.BackForwardCacheNotUsed)
	must(t, "back", chromedp.Do(ctx, chromedp.NavigateBack(), chromedp.WaitVisible(chromedp.CSS("body"))))
	logBFCache(t, notCached)
	evCancel()
	if signedIn(t, ctx) {
		t.Fatal("the back button shows the signed-in page after sign-out")
	}
	if !run(t, ctx, "look for the form", chromedp.Evaluate[bool](`document.querySelector('#login-form') !== null`)) {
		t.Fatal("after back, the page shows neither the signed-in page nor the sign-in form")
	}
	res, err = chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{base + "/"}})
	must(t, "Network.getCookies", err)
	for _, c := range res.Cookies {
		if c.Name == cookieName {
			t.Fatal("session cookie still in the browser after sign-out")
		}
	}

	// The server never logged the password or the cookie.
	out := logs.String()
	if strings.Contains(out, demoPassword) || strings.Contains(out, session.Value) {
		t.Fatal("server log contains the password or the session cookie")
	}
}
