package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/sessionauth/session"
)

const cookieOnlyUser = "browser-user"

// startCookieOnlyServer serves a cookie-only Manager on loopback:
//
//	/fill    signs in and fills the session with the largest value that fits
//	/check   says who is signed in and how long the value is
//	/logout  logs out
func startCookieOnlyServer(t *testing.T) string {
	t.Helper()
	keys, err := session.NewKeyRing(session.GenerateKey())
	must(t, "key ring", err)
	m, err := session.New(session.Config{Keys: keys, CookieOnly: true})
	must(t, "session.New", err)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /fill", func(w http.ResponseWriter, r *http.Request) {
		if err := m.Login(w, r, cookieOnlyUser); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		s := session.FromContext(r.Context())
		lo, hi := 0, 4096 // the largest n for which Set succeeds is in [lo, hi)
		for hi-lo > 1 {
			mid := (lo + hi) / 2
			switch err := s.Set("fill", strings.Repeat("x", mid)); {
			case err == nil:
				lo = mid
			case errors.Is(err, session.ErrCookieTooLarge):
				hi = mid
			default:
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
		}
		if err := s.Set("fill", strings.Repeat("x", lo)); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "filled %d", lo)
	})
	mux.HandleFunc("GET /check", func(w http.ResponseWriter, r *http.Request) {
		s := session.FromContext(r.Context())
		fmt.Fprintf(w, "user=%s fill=%d", s.UserID(), len(s.Get("fill")))
	})
	mux.HandleFunc("GET /logout", func(w http.ResponseWriter, r *http.Request) {
		if err := m.Logout(w, r); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, "bye")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, "listen", err)
	srv := httptest.NewUnstartedServer(m.Middleware(mux))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	// http://localhost is a secure context: Chromium keeps the __Host- cookie.
	return fmt.Sprintf("http://localhost:%d", ln.Addr().(*net.TCPAddr).Port)
}

func bodyText(t *testing.T, ctx context.Context, url string) string {
	t.Helper()
	must(t, "navigate "+url, chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("body"))))
	return run(t, ctx, "read body", chromedp.Text(chromedp.CSS("body")))
}

// TestBrowserKeepsTheLargestCookieOnlySession fills a cookie-only session
// to the last byte Session.Set allows and checks that Chromium keeps the
// cookie and sends it back whole: the size check never lets through a
// cookie the browser would silently drop.
func TestBrowserKeepsTheLargestCookieOnlySession(t *testing.T) {
	ctx := newBrowser(t)
	base := startCookieOnlyServer(t)

	filled := bodyText(t, ctx, base+"/fill")
	var n int
	if _, err := fmt.Sscanf(filled, "filled %d", &n); err != nil || n < 2000 {
		t.Fatalf("/fill answered %q", filled)
	}
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{base + "/"}})
	must(t, "Network.getCookies", err)
	var c *network.Cookie
	for _, x := range res.Cookies {
		if x.Name == cookieName {
			c = x
		}
	}
	if c == nil {
		t.Fatalf("the browser dropped the %d-byte-value session cookie; cookies: %+v", n, res.Cookies)
	}
	t.Logf("value of %d bytes in a cookie of %d bytes (name and value)", n, len(c.Name)+len(c.Value))
	if got, want := bodyText(t, ctx, base+"/check"), fmt.Sprintf("user=%s fill=%d", cookieOnlyUser, n); got != want {
		t.Fatalf("/check = %q, want %q", got, want)
	}

	// Logout removes the cookie from the browser.
	if got := bodyText(t, ctx, base+"/logout"); got != "bye" {
		t.Fatalf("/logout = %q", got)
	}
	if got := bodyText(t, ctx, base+"/check"); got != "user= fill=0" {
		t.Fatalf("after logout /check = %q", got)
	}
}
