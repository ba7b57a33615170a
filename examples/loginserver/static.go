package main

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"time"
)

// staticFS holds the pages' one stylesheet and one script. They are files
// rather than inline blocks so that the Content-Security-Policy can allow
// 'self' and nothing inline.
//
//go:embed static
var staticFS embed.FS

// assetVersion is a hash of the static files, put in their URLs by the
// layout (app.css?v=...), so a new build's pages never get an old cached
// file.
var assetVersion = func() string {
	h := sha256.New()
	fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := staticFS.ReadFile(p)
			h.Write([]byte(p))
			h.Write(b)
		}
		return err
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}()

// staticFile is GET /static/{name}: app.css or app.js, cacheable for a day
// (the URL changes with the content).
func staticFile(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	b, err := staticFS.ReadFile("static/" + path.Base(name))
	if err != nil || path.Base(name) != name {
		writeError(w, http.StatusNotFound, "not found")
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=86400")
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
}
