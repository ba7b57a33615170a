package main

import (
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/sessionauth/session/providerlogin/providertest"
)

// The local demo provider's account: it exists only in this process, at the
// provider (providertest), not in the app's user store.
const (
	demoProviderUser     = "demo"
	demoProviderPassword = "demo-password"
	demoProviderClient   = "loginserver-demo"
	demoProviderSecret   = "loginserver-demo-secret"
)

// demoProvider is an OpenID Provider served by this process (package
// providertest) when no provider is configured, so that `go run` shows
// "Sign in with Demo ID" and the whole flow works offline.
type demoProvider struct {
	spec   providerSpec
	server *http.Server
}

// startDemoProvider serves the demo provider on addr (DEMO_PROVIDER_ADDR),
// with its account and this app, at appBase, registered as a client.
func startDemoProvider(addr, appBase string) (*demoProvider, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("DEMO_PROVIDER_ADDR: %w", err)
	}
	issuer := fmt.Sprintf("http://127.0.0.1:%d", ln.Addr().(*net.TCPAddr).Port)
	op, err := providertest.New(providertest.Config{Issuer: issuer, Name: "Demo ID"})
	if err != nil {
		ln.Close()
		return nil, err
	}
	op.AddUser(providertest.User{Username: demoProviderUser, Password: demoProviderPassword,
		Subject: "248289761001", Email: "dee.mo@example.test", Name: "Dee Mo"})
	op.AddClient(providertest.Client{
		ID: demoProviderClient, Secret: demoProviderSecret, Name: "loginserver",
		RedirectURIs: []string{appBase + "/auth/demo/callback"},
	})
	d := &demoProvider{
		spec: providerSpec{OIDC: true, Name: "demo", Display: "Demo ID", Issuer: issuer,
			ClientID: demoProviderClient, ClientSecret: demoProviderSecret},
		server: &http.Server{Handler: op, ReadHeaderTimeout: 5 * time.Second},
	}
	go d.server.Serve(ln)
	return d, nil
}

func (d *demoProvider) close() { d.server.Close() }
