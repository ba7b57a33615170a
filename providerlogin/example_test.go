package providerlogin_test

import (
	"context"
	"fmt"
	"log"
	"net/http"

	"github.com/sessionauth/session"
	"github.com/sessionauth/session/providerlogin"
)

func ExampleSafeReturnPath() {
	for _, p := range []string{"/dashboard?tab=2", "//evil.example", "/%2F%2Fevil.example", "https:evil", "/\\evil.example"} {
		_, ok := providerlogin.SafeReturnPath(p)
		fmt.Printf("%-22q %v\n", p, ok)
	}
	// Output:
	// "/dashboard?tab=2"     true
	// "//evil.example"       false
	// "/%2F%2Fevil.example"  false
	// "https:evil"           false
	// "/\\evil.example"      false
}

func ExampleNew() {
	keys, err := session.NewKeyRing(session.GenerateKey())
	if err != nil {
		log.Fatal(err)
	}
	sessions, err := session.New(session.Config{Keys: keys})
	if err != nil {
		log.Fatal(err)
	}
	corp, err := providerlogin.NewOIDC(providerlogin.OIDCConfig{
		Name: "corp", DisplayName: "Corp SSO",
		Issuer:   "https://id.corp.example",
		ClientID: "my-app", ClientSecret: "secret",
	})
	if err != nil {
		log.Fatal(err)
	}
	signin, err := providerlogin.New(providerlogin.Config{
		Sessions:  sessions,
		Providers: []*providerlogin.Provider{corp},
		BaseURL:   "https://app.example",
		User: func(ctx context.Context, id providerlogin.Identity) (string, error) {
			return id.Issuer + "|" + id.Subject, nil
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/auth/", signin)
	fmt.Println(signin.LoginPath("corp"))
	fmt.Println(signin.CallbackURL("corp"))
	// Output:
	// /auth/corp/login
	// https://app.example/auth/corp/callback
}
