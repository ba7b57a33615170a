package providerlogin

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// TestREADMECodeBuilds builds every Go block marked
// "<!-- providerlogin-readme: program -->" in this module's README and in
// the root README's section about it, inside this module (through a build
// overlay, so nothing is written to the module's directory).
func TestREADMECodeBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds programs with the go command")
	}
	var blocks [][]byte
	for _, name := range []string{"README.md", "../README.md"} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile("(?s)<!-- providerlogin-readme: program -->\n```go\n(.*?)```").FindAllSubmatch(b, -1) {
			blocks = append(blocks, m[1])
		}
	}
	if len(blocks) < 2 {
		t.Fatalf("found %d marked Go blocks in the READMEs, want at least 2", len(blocks))
	}
	here, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for i, code := range blocks {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			tmp := t.TempDir()
			src := filepath.Join(tmp, "main.go")
			if err := os.WriteFile(src, code, 0o644); err != nil {
				t.Fatal(err)
			}
			pkg := fmt.Sprintf("readmecheck_%d", i)
			overlay, _ := json.Marshal(map[string]any{"Replace": map[string]string{filepath.Join(here, pkg, "main.go"): src}})
			ov := filepath.Join(tmp, "overlay.json")
			if err := os.WriteFile(ov, overlay, 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("go", "build", "-overlay", ov, "-o", os.DevNull, "./"+pkg)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("README block %d does not build: %v\n%s\n--- code ---\n%s", i, err, out, code)
			}
		})
	}
}
