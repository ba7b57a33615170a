package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
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
	ctx, cancelTimeout := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancelTimeout)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start Chromium (%s): %v", path, err)
	}
	return browser
}

// lockedBuffer collects the server's log.
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

// startExample runs the example in-process on free loopback ports, with
// its demo providers, and returns its base URL (http://localhost:PORT).
func startExample(t *testing.T) string {
	t.Helper()
	env := map[string]string{"ADDR": "127.0.0.1:0", "PROVIDER_ADDR": "127.0.0.1:0"}
	ctx, cancel := context.WithCancel(context.Background())
	logs := &lockedBuffer{}
	baseCh := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, func(k string) string { return env[k] }, logs, func(b string) { baseCh <- b })
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("example exited with %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("example did not shut down within 15s")
		}
		if t.Failed() {
			t.Logf("example log:\n%s", logs.String())
		}
	})
	select {
	case base := <-baseCh:
		return base
	case err := <-done:
		t.Fatalf("example did not start: %v\n%s", err, logs.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("example not up after 30s\n%s", logs.String())
	}
	return ""
}

// screenshots saves numbered PNGs into SCREENSHOT_DIR (default: a
// temporary directory).
type screenshots struct {
	t   *testing.T
	dir string
	n   int
}

func newScreenshots(t *testing.T) *screenshots {
	dir := os.Getenv("SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return &screenshots{t: t, dir: dir}
}

func (s *screenshots) take(ctx context.Context, name string) {
	s.t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG (lower qualities give JPEG)
	must(s.t, "screenshot "+name, err)
	s.n++
	path := filepath.Join(s.dir, fmt.Sprintf("%02d-%s.png", s.n, name))
	must(s.t, "write "+path, os.WriteFile(path, png, 0o644))
	s.t.Logf("screenshot %s", path)
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	must(t, "read "+sel, err)
	return strings.TrimSpace(s)
}

func location(t *testing.T, ctx context.Context) string {
	t.Helper()
	u, err := chromedp.Run(ctx, chromedp.Location())
	must(t, "location", err)
	return u
}

func TestBrowserSignInWithProviderAndSignOut(t *testing.T) {
	ctx := newBrowser(t) // first: skips before starting anything without Chromium
	base := startExample(t)
	shots := newScreenshots(t)

	// 1. A signed-out visitor opens a protected page and is sent home,
	// which offers the providers and remembers where to come back to.
	must(t, "open /account", chromedp.Do(ctx,
		chromedp.Navigate(base+"/account"),
		chromedp.WaitVisible(chromedp.CSS("#signin-demo")),
	))
	if got := text(t, ctx, "#return-to"); got != "/account" {
		t.Fatalf("home page will return to %q, want /account", got)
	}
	shots.take(ctx, "home-signed-out")

	// 2. "Sign in with Demo ID" leads to the provider's login page.
	must(t, "click Sign in with Demo ID", chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#signin-demo")),
		chromedp.WaitVisible(chromedp.CSS("#op-login")),
	))
	if u := location(t, ctx); !strings.HasPrefix(u, "http://127.0.0.1:") || !strings.Contains(u, "code_challenge_method=S256") {
		t.Fatalf("provider page at %s", u)
	}
	if got := text(t, ctx, "#client-name"); got != "Sign-in example" {
		t.Errorf("provider page names the client %q", got)
	}
	shots.take(ctx, "provider-login-page")

	must(t, "fill in the provider's form", chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#username"), demoUser),
		chromedp.SendKeys(chromedp.CSS("#password"), demoPassword),
	))
	shots.take(ctx, "provider-login-filled")

	// 3. Back at the app, signed in, on the page first asked for.
	must(t, "sign in at the provider", chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#approve")),
		chromedp.WaitVisible(chromedp.CSS("#signed-in")),
	))
	if u := location(t, ctx); u != base+"/account" {
		t.Fatalf("landed on %s, want %s/account", u, base)
	}
	if got := text(t, ctx, "#email"); got != "demo@example.test" {
		t.Errorf("account page shows email %q", got)
	}
	if got := text(t, ctx, "#provider"); got != "demo" {
		t.Errorf("account page shows provider %q", got)
	}
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{base + "/"}})
	must(t, "Network.getCookies", err)
	var sid *network.Cookie
	for _, c := range res.Cookies {
		if c.Name == "__Host-sid" {
			sid = c
		}
	}
	if sid == nil || !sid.HTTPOnly || !sid.Secure || sid.SameSite != network.CookieSameSiteLax {
		t.Fatalf("session cookie %+v: want __Host-sid, HttpOnly, Secure, SameSite=Lax", sid)
	}
	shots.take(ctx, "signed-in-account")
	if got := text(t, ctx, "#proved-with"); got != "pwd" {
		t.Errorf("account page shows the proof %q, want pwd", got)
	}

	// 3b. "Confirm it's you": the provider asks for the password again,
	// although its session is live (prompt=login), and the browser comes
	// back to /account, same user, under a new session cookie.
	userID := text(t, ctx, "#user-id")
	must(t, "click Confirm it's you", chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#confirm")),
		chromedp.WaitVisible(chromedp.CSS("#op-login")),
	))
	if u := location(t, ctx); !strings.Contains(u, "prompt=login") || !strings.Contains(u, "max_age=0") {
		t.Fatalf("confirmation at %s: want prompt=login and max_age=0", u)
	}
	shots.take(ctx, "confirm-at-provider")
	must(t, "confirm at the provider", chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#username"), demoUser),
		chromedp.SendKeys(chromedp.CSS("#password"), demoPassword),
		chromedp.Click(chromedp.CSS("#approve")),
		chromedp.WaitVisible(chromedp.CSS("#signed-in")),
	))
	if u := location(t, ctx); u != base+"/account" {
		t.Fatalf("after confirming, at %s, want %s/account", u, base)
	}
	if got := text(t, ctx, "#user-id"); got != userID {
		t.Fatalf("after confirming, user %q, want %q", got, userID)
	}
	res, err = chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{base + "/"}})
	must(t, "Network.getCookies", err)
	for _, c := range res.Cookies {
		if c.Name == "__Host-sid" && c.Value == sid.Value {
			t.Error("the session cookie did not change with the confirmation")
		}
	}
	shots.take(ctx, "confirmed-account")

	// 4. Sign out: our session ends, the provider's too (RP-initiated
	// logout), and the browser comes back home signed out.
	must(t, "sign out", chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#signout")),
		chromedp.WaitVisible(chromedp.CSS("#signin-demo")),
	))
	if u := location(t, ctx); u != base+"/" {
		t.Errorf("after sign-out at %s, want %s/", u, base)
	}
	shots.take(ctx, "signed-out")

	must(t, "open /account signed out", chromedp.Do(ctx,
		chromedp.Navigate(base+"/account"),
		chromedp.WaitVisible(chromedp.CSS("#signed-out")),
	))
	// The provider session ended too: signing in asks for the password.
	must(t, "sign in again", chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#signin-demo")),
		chromedp.WaitVisible(chromedp.CSS("#op-login")),
	))

	// 5. Cancelling at the provider ends on a clear page, not a 500.
	must(t, "cancel at the provider", chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#cancel")),
		chromedp.WaitVisible(chromedp.CSS("#signin-error")),
	))
	if got := text(t, ctx, "#signin-error p"); !strings.Contains(got, "cancelled") {
		t.Errorf("cancel page says %q", got)
	}
	shots.take(ctx, "cancelled-at-provider")

	// 6. The plain OAuth 2 provider through the same handler.
	must(t, "sign in with Demo Hub", chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.Click(chromedp.CSS("#signin-hub")),
		chromedp.WaitVisible(chromedp.CSS("#op-login")),
		chromedp.SendKeys(chromedp.CSS("#username"), demoUser),
		chromedp.SendKeys(chromedp.CSS("#password"), demoPassword),
		chromedp.Click(chromedp.CSS("#approve")),
		chromedp.WaitVisible(chromedp.CSS("#signed-in")),
	))
	if got := text(t, ctx, "#provider"); got != "hub" {
		t.Errorf("signed in with provider %q, want hub", got)
	}
	shots.take(ctx, "signed-in-with-hub")
}
