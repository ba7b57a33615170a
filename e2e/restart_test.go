package e2e

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"
)

// testDatabaseURL returns a DATABASE_URL on a schema of its own (dropped
// when the test ends) in the PostgreSQL at $DATABASE_URL, by default the
// machine's postgres://postgres@127.0.0.1:5432/test. Without PostgreSQL the
// test skips, except under CI=true, where it fails.
func testDatabaseURL(t *testing.T) string {
	t.Helper()
	base := os.Getenv("DATABASE_URL")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/test"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		msg := fmt.Sprintf("PostgreSQL not reachable at DATABASE_URL (%v)", err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	defer conn.Close(ctx)
	schema := "e2e_" + strings.ToLower(rand.Text()[:10])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, base); err == nil {
			c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			c.Close(ctx)
		}
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}

// On PostgreSQL (DATABASE_URL, SESSION_KEYS set), restarting the server
// loses nothing: the browsers stay signed in, a signed-up account signs in
// again with its password, and the provider linked to the demo account
// still signs into it.
func TestRestartOnPostgreSQLKeepsEveryAccountSignedIn(t *testing.T) {
	browser := newBrowser(t)
	port, providerPort := freePort(t), freePort(t)
	env := []string{"DATABASE_URL=" + testDatabaseURL(t),
		"SESSION_KEYS=ZTJlLXJlc3RhcnQtc2Vzc2lvbi1rZXlzLWxvbmctZW5vdWdoIQ",
		fmt.Sprintf("DEMO_PROVIDER_ADDR=127.0.0.1:%d", providerPort)}
	base, logs, stop := startServerOn(t, port, env...)
	if !strings.Contains(logs.String(), "accounts, provider links and passkeys are kept in PostgreSQL") {
		t.Fatalf("not on PostgreSQL:\n%s", logs)
	}
	shots := newShooter(t)

	// The laptop: the demo account, with the provider linked.
	laptop := openScreen(t, browser, screens[0])
	signIn(t, laptop, base, demoUser, demoPassword)
	demoID := text(t, laptop, "#user-id")
	must(t, "link", chromedp.Do(laptop, chromedp.Click(chromedp.CSS("#link-demo"))))
	atProvider(t, laptop, false, "#signed-in")
	wantText(t, laptop, "#method-demo", "Linked")
	// The phone: a new account.
	const newUser, newPassword = "restart-person", "a restart passphrase, long enough"
	phone := openScreen(t, browser, screens[2])
	open(t, phone, base+"/signup", "#signup-form")
	fill(t, phone, [][2]string{{"username", newUser}, {"password", newPassword}}, "#signed-in")
	newID := text(t, phone, "#user-id")

	stop()
	startServerOn(t, port, env...)

	for name, tab := range map[string]context.Context{"laptop": laptop, "phone": phone} {
		must(t, "reload the "+name, chromedp.Do(tab, chromedp.Reload(), chromedp.WaitReady(chromedp.CSS("body"))))
		if !signedIn(t, tab) {
			t.Fatalf("the %s was signed out by the restart", name)
		}
	}
	wantText(t, laptop, "#method-demo", "Linked")
	shots.shot(laptop, "restart-laptop-still-signed-in")
	if got := text(t, phone, "#user-id"); got != newID {
		t.Fatalf("the phone's account after the restart: %s, want %s", got, newID)
	}

	// Fresh browsers: the new account's password, and the provider into
	// the demo account.
	fresh := openScreen(t, browser, screens[0])
	signIn(t, fresh, base, newUser, newPassword)
	viaProvider := openScreen(t, browser, screens[1])
	open(t, viaProvider, base+"/", "#signin-demo")
	must(t, "sign in with the provider", chromedp.Do(viaProvider, chromedp.Click(chromedp.CSS("#signin-demo"))))
	atProvider(t, viaProvider, false, "#signed-in")
	if got := text(t, viaProvider, "#user-id"); got != demoID {
		t.Fatalf("after the restart the provider signs into %s, want the demo account %s", got, demoID)
	}
}
