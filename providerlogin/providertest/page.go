package providertest

import (
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
)

func urlUnescape(s string) (string, error) { return url.QueryUnescape(s) }

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

type pageData struct {
	Provider, Title, Client, Error, Message string
	Form                                    bool
}

func (s *Server) page(w http.ResponseWriter, code int, d pageData) {
	d.Provider = s.name
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Frame-Options", "DENY")
	w.WriteHeader(code)
	pageTemplate.Execute(w, d)
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>
body{font-family:system-ui,sans-serif;background:#1f2937;color:#111;margin:0;display:flex;min-height:100vh;align-items:center;justify-content:center}
main{background:#fff;border-radius:12px;padding:2rem 2.5rem;width:22rem;box-shadow:0 10px 30px #0006}
h1{font-size:1.3rem;margin:0 0 .3rem}.brand{color:#7c3aed;font-weight:700;letter-spacing:.05em;text-transform:uppercase;font-size:.8rem}
label{display:block;margin:.8rem 0 .2rem;font-size:.9rem}input{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem;border:1px solid #bbb;border-radius:6px}
.row{display:flex;gap:.6rem;margin-top:1.2rem}button{flex:1;padding:.6rem;font-size:1rem;border-radius:6px;border:0;cursor:pointer}
#approve{background:#7c3aed;color:#fff}#cancel{background:#e5e7eb}.error{color:#b91c1c}.client{color:#555;font-size:.95rem}
</style></head><body><main>
<div class="brand">{{.Provider}}</div>
<h1 id="title">{{.Title}}</h1>
{{if .Client}}<p class="client"><b id="client-name">{{.Client}}</b> wants you to sign in.</p>{{end}}
{{if .Error}}<p class="error" id="error">{{.Error}}</p>{{end}}
{{if .Message}}<p id="message">{{.Message}}</p>{{end}}
{{if .Form}}<form method="post" id="op-login">
<label for="username">Username</label><input id="username" name="username" autocomplete="username" autofocus>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password">
<div class="row"><button id="approve" name="action" value="approve">Sign in</button><button id="cancel" name="action" value="cancel" formnovalidate>Cancel</button></div>
</form>{{end}}
</main></body></html>
`))
