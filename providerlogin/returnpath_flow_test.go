package providerlogin

import (
	"net/http"
	"testing"
)

// TestReturnPathAfterSignIn: the callback redirects only to a local path;
// any other return_to ends on the default path.
func TestReturnPathAfterSignIn(t *testing.T) {
	t.Parallel()
	a, _ := oidcApp(t, nil)
	tests := []struct{ returnTo, want string }{
		{"/settings?tab=2#x", "/settings?tab=2#x"},
		{"", "/"},
		{"//evil.example", "/"},
		{"//evil.example/%2F..", "/"},
		{"https:evil", "/"},
		{"https://evil.example/", "/"},
		{"/\\evil.example", "/"},
		{"\\\\evil.example", "/"},
		{"/%2F%2Fevil.example", "/"},
		{"/%5Cevil.example", "/"},
		{"/%252F%252Fevil.example", "/"},
		{"/\t/evil.example", "/"},
		{"/\r\nLocation: https://evil.example", "/"},
		{"javascript:alert(1)", "/"},
	}
	for _, tt := range tests {
		t.Run(tt.returnTo, func(t *testing.T) {
			t.Parallel()
			b := newBrowser(t)
			res := b.signIn(a, "demo", tt.returnTo)
			if res.status != http.StatusSeeOther || res.location != tt.want {
				t.Fatalf("return_to %q: %d to %q, want 303 to %q", tt.returnTo, res.status, res.location, tt.want)
			}
		})
	}
}

// TestReturnPathFromQuery: a return_to in the login URL's query counts too
// (forms posting to LoginPath()+"?return_to=..."), with the same checks.
func TestReturnPathFromQuery(t *testing.T) {
	t.Parallel()
	a, _ := oidcApp(t, nil)
	for _, tt := range []struct{ q, want string }{{"/deep/link", "/deep/link"}, {"//evil.example", "/"}} {
		b := newBrowser(t)
		res := b.post(a.base+"/auth/demo/login?return_to="+tt.q, nil)
		if res.status != http.StatusSeeOther {
			t.Fatal(res.status)
		}
		u := mustParse(t, res.location)
		cb := b.approve(u, "approve")
		if got := b.get(cb.String()).location; got != tt.want {
			t.Errorf("return_to %q in the query: ended at %q, want %q", tt.q, got, tt.want)
		}
	}
}
