package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

// run serves on loopback, logs where to go and how to sign in, and shuts
// down cleanly when its context ends.
func TestRunServesAndShutsDown(t *testing.T) {
	t.Parallel()
	for _, setPassword := range []bool{false, true} {
		env := map[string]string{"ADDR": "127.0.0.1:0"}
		if setPassword {
			env["DEMO_PASSWORD"] = "a secret demo passphrase"
		}
		ctx, cancel := context.WithCancel(context.Background())
		logs := &syncBuffer{}
		addrc := make(chan string, 1)
		errc := make(chan error, 1)
		go func() { errc <- run(ctx, envFunc(env), logs, func(a string) { addrc <- a }) }()
		var addr string
		select {
		case addr = <-addrc:
		case err := <-errc:
			t.Fatalf("run: %v", err)
		}
		res, err := http.Get("http://" + addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "login-form") {
			t.Fatalf("GET /: %d", res.StatusCode)
		}
		cancel()
		if err := <-errc; err != nil {
			t.Fatalf("run returned %v after shutdown", err)
		}
		out := logs.String()
		for _, want := range []string{"SESSION_KEYS is not set", "a restart signs everyone out", "msg=listening", "url=http://" + addr + "/", "demo_user=demo", "shutting down"} {
			if !strings.Contains(out, want) {
				t.Errorf("log lacks %q:\n%s", want, out)
			}
		}
		if setPassword {
			if strings.Contains(out, "a secret demo passphrase") || strings.Contains(string(body), "a secret demo passphrase") {
				t.Fatal("DEMO_PASSWORD was printed")
			}
		} else if !strings.Contains(out, defaultDemoPassword) || !strings.Contains(string(body), defaultDemoPassword) {
			t.Fatal("the default demo password is not shown")
		}
	}
}
