package providerlogin

import (
	"net/http"
	"strings"
	"testing"
)

func BenchmarkSafeReturnPath(b *testing.B) {
	for _, p := range []string{"/settings?tab=2", "/search?q=a%20b%2Fc", "//evil.example"} {
		b.Run(p, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				SafeReturnPath(p)
			}
		})
	}
}

func BenchmarkParseCallback(b *testing.B) {
	raw := "code=" + strings.Repeat("c", 32) + "&iss=http%3A%2F%2F127.0.0.1%3A8081&state=" + strings.Repeat("s", 43)
	b.ReportAllocs()
	for b.Loop() {
		parseCallback(raw)
	}
}

// BenchmarkSignInFlow is one whole sign-in over loopback HTTP: the login
// POST, the provider's page and form, and the callback (token exchange, ID
// token verification, Login). The provider's work is included.
func BenchmarkSignInFlow(b *testing.B) {
	op := startProvider(b, false)
	a := startApp(b, func(base string) []*Provider {
		registerApp(op, base, "demo")
		return []*Provider{oidcProvider(b, "demo", op, nil)}
	}, nil)
	b.ReportAllocs()
	for b.Loop() {
		br := newBrowser(b)
		if res := br.signIn(a, "demo", ""); res.status != http.StatusSeeOther {
			b.Fatalf("%d %s", res.status, res.body)
		}
	}
}
