// Package e2e holds the real-browser tests of examples/loginserver, and of a
// cookie-only session filled to the browser's cookie size limit. They start
// the servers on loopback and drive Debian's Chromium through the DevTools
// protocol with chromedp.
//
// It is a separate module so that chromedp stays out of the root module's
// dependencies. Run it with
//
//	apt-get install -y chromium   # once
//	cd e2e && go test ./...
//
// Without Chromium the tests skip, except when CI=true, where they fail.
// Screenshots are written to e2e/out/ (ignored by git).
package e2e
