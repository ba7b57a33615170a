package main

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// The running server serves the library's metrics at /metrics: after a
// sign-in and a forged cookie, the sign-in counter and the refused-token
// counter say so, and the store calls have their latency histogram.
func TestMetricsCountSignInsAndRefusedTokens(t *testing.T) {
	t.Parallel()
	addr, logs, _ := startRun(t, map[string]string{"ADDR": "127.0.0.1:0", "DEMO_PASSWORD": "a long demo passphrase"})
	req, _ := http.NewRequest("POST", "http://"+addr+"/login", strings.NewReader(`{"username":"demo","password":"a long demo passphrase"}`))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("login: %d\n%s", res.StatusCode, logs)
	}
	req, _ = http.NewRequest("GET", "http://"+addr+"/me", nil)
	req.Header.Set("Cookie", hostCookieName+"=forged.value.that.does.not.verify")
	if res, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()

	res, err = http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d", res.StatusCode)
	}
	for _, want := range []string{
		`(?m)^session_logins_total(\{[^}]*\})? 1$`,
		`(?m)^session_rejected_tokens_total\{[^}]*session_rejection_reason="forged"[^}]*\} 1$`,
	} {
		if !regexp.MustCompile(want).Match(body) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", body)
	}
}
