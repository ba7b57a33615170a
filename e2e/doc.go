// Package e2e holds the real-browser tests of examples/loginserver. They
// build the example server, start it on loopback, and drive Debian's
// Chromium through the DevTools protocol with chromedp: signing up, signing
// in (and a wrong password), two devices signing each other out, changing
// the password, and every page at a laptop's 1280 px and a phone's 390 px
// width, light and dark, each checked by axe-core (which fails the test on
// any serious or critical violation) and screenshotted; the notices'
// colours, the visible keyboard focus and the show-password button with
// and without JavaScript; signing in with the local demo provider,
// cancelling there, linking it to the password account and signing in
// through it; minting an access token and calling the API with it; and a
// restart on PostgreSQL (DATABASE_URL, by default the machine's
// postgres://postgres@127.0.0.1:5432/test, a schema per test) that keeps
// every account signed in.
// One more test serves a cookie-only session filled to the browser's cookie
// size limit and checks that Chromium keeps it.
//
// It is a separate module so that chromedp stays out of the root module's
// dependencies. Run it with
//
//	apt-get install -y chromium   # once
//	cd e2e && go test ./...
//
// Without Chromium the tests skip, except when CI=true, where they fail.
// axe-core comes from $AXE_CORE_JS, or is installed once with npm into the
// user's cache directory (npm install --prefix DIR axe-core@4); without npm
// the accessibility checks skip, except under CI=true.
// Each step saves a PNG screenshot into the directory named by the
// SCREENSHOT_DIR environment variable (by default a temporary directory
// that is removed after the test):
//
//	SCREENSHOT_DIR=/tmp/screens go test ./...
package e2e
