package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// axeVersion is the axe-core release the accessibility checks use; the test
// installs it with npm into a cache directory when it is not there yet.
const axeVersion = "4"

// axeSource returns axe.min.js: from $AXE_CORE_JS when set, else from
// <user cache dir>/sessionauth-e2e/axe-core, installed there with
// `npm install --prefix DIR axe-core@4` the first time. Without npm (and
// no file) the test skips, except under CI=true, where it fails.
var axeSource = sync.OnceValues(func() (string, error) {
	path := os.Getenv("AXE_CORE_JS")
	if path == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			cache = os.TempDir()
		}
		dir := filepath.Join(cache, "sessionauth-e2e", "axe-core")
		path = filepath.Join(dir, "node_modules", "axe-core", "axe.min.js")
		if _, err := os.Stat(path); err != nil {
			npm, err := exec.LookPath("npm")
			if err != nil {
				return "", fmt.Errorf("axe-core is not installed and npm is not found (apt-get install -y npm, or set AXE_CORE_JS to axe.min.js)")
			}
			install := exec.Command(npm, "install", "--no-audit", "--no-fund", "--prefix", dir, "axe-core@"+axeVersion)
			if out, err := install.CombinedOutput(); err != nil {
				return "", fmt.Errorf("npm install axe-core: %v\n%s", err, out)
			}
		}
	}
	b, err := os.ReadFile(path)
	return string(b), err
})

// axeViolation is one rule axe-core found broken, with the elements that
// break it.
type axeViolation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"`
	Help    string   `json:"help"`
	Targets []string `json:"targets"`
}

// checkAccessibility runs axe-core on the page in ctx (every rule it runs by
// default, WCAG 2.x A and AA among them) and fails the test on any serious
// or critical violation; lesser ones are logged. It returns every
// violation.
func checkAccessibility(t *testing.T, ctx context.Context, page string) []axeViolation {
	t.Helper()
	src, err := axeSource()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	run(t, ctx, "inject axe-core", chromedp.Evaluate[bool](src+";\ntrue"))
	const check = `axe.run(document, {resultTypes: ['violations']}).then(r => JSON.stringify(r.violations.map(v => ({
		id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map(n => n.target.join(' '))}))))`
	out := run(t, ctx, "run axe-core", chromedp.Evaluate[string](check, chromedp.EvalAwaitPromise))
	var vs []axeViolation
	must(t, "decode axe-core's answer", json.Unmarshal([]byte(out), &vs))
	for _, v := range vs {
		msg := fmt.Sprintf("%s: axe-core %s (%s): %s: %s", page, v.ID, v.Impact, v.Help, strings.Join(v.Targets, ", "))
		if v.Impact == "serious" || v.Impact == "critical" {
			t.Error(msg)
		} else {
			t.Log(msg)
		}
	}
	return vs
}
