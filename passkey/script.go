package passkey

import (
	_ "embed"
	"net/http"
)

// script is the browser script the Handler serves at passkey.js.
//
//go:embed passkey.js
var script []byte

func serveScript(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	w.Write(script)
}
