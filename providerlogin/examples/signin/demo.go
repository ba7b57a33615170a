package main

import (
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/sessionauth/session/providerlogin/providertest"
)

// The demo providers' account (it exists only in this process).
const (
	demoUser     = "demo"
	demoPassword = "demo-password"
)

// providerSpec describes one provider the app offers.
type providerSpec struct {
	oidc                   bool
	name, display, issuer  string
	clientID, secret       string
	authURL, tokenURL, api string // plain OAuth 2 only
}

type demoProviders struct {
	url    string
	server *http.Server
	specs  []providerSpec
}

// startDemoProviders serves, on addr, an OpenID Provider under /oidc and a
// GitHub-style OAuth 2 provider under /hub, both with the demo account and
// the app registered as a client.
func startDemoProviders(addr, appBase string) (*demoProviders, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("PROVIDER_ADDR: %w", err)
	}
	root := fmt.Sprintf("http://127.0.0.1:%d", ln.Addr().(*net.TCPAddr).Port)
	mux := http.NewServeMux()
	d := &demoProviders{url: root}
	for _, p := range []struct {
		path, name, display string
		plain               bool
	}{{"/oidc", "demo", "Demo ID", false}, {"/hub", "hub", "Demo Hub", true}} {
		op, err := providertest.New(providertest.Config{Issuer: root + p.path, Name: p.display, Plain: p.plain})
		if err != nil {
			ln.Close()
			return nil, err
		}
		op.AddUser(providertest.User{Username: demoUser, Password: demoPassword, Subject: "248289761001", Email: "demo@example.test", Name: "Dee Mo"})
		op.AddClient(providertest.Client{
			ID: "signin-example", Secret: "signin-example-secret", Name: "Sign-in example",
			RedirectURIs:           []string{appBase + "/auth/" + p.name + "/callback"},
			PostLogoutRedirectURIs: []string{appBase + "/"},
		})
		mux.Handle(p.path+"/", http.StripPrefix(p.path, op))
		spec := providerSpec{oidc: !p.plain, name: p.name, display: p.display, issuer: op.Issuer(), clientID: "signin-example", secret: "signin-example-secret"}
		if p.plain {
			spec.authURL, spec.tokenURL, spec.api = op.Issuer()+"/authorize", op.Issuer()+"/token", op.Issuer()+"/user"
		}
		d.specs = append(d.specs, spec)
	}
	d.server = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go d.server.Serve(ln)
	return d, nil
}
