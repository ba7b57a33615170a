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

// TRUSTED_PROXIES reaches the guard: behind a listed proxy the client's
// address comes from X-Forwarded-For, for the throttle and for the
// network a session is shown from; the start-up log says so.
func TestRunReadsClientAddressesFromTrustedProxies(t *testing.T) {
	t.Parallel()
	addr, logs, _ := startRun(t, map[string]string{
		"ADDR": "127.0.0.1:0", "TRUSTED_PROXIES": "127.0.0.0/8", "DEMO_PASSWORD": "a long demo passphrase",
	})
	req, _ := http.NewRequest("POST", "http://"+addr+"/login", strings.NewReader(`{"username":"demo","password":"a long demo passphrase"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", "198.51.100.7")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("login: %d\n%s", res.StatusCode, logs)
	}
	req, _ = http.NewRequest("GET", "http://"+addr+"/sessions", nil)
	for _, c := range res.Cookies() {
		req.AddCookie(c)
	}
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), `"location":"198.51.100.x network"`) {
		t.Fatalf("/sessions does not show the forwarded client's network: %s", body)
	}
	if !strings.Contains(logs.String(), "client addresses are read from X-Forwarded-For of the trusted proxies") {
		t.Fatalf("log:\n%s", logs)
	}
}
