// Command loadgen sends a bounded load of GET requests to a server on the
// loopback interface and prints throughput and latency percentiles as one
// JSON line.
//
// It stops after -n measured requests or -d, whichever comes first, and
// refuses any target that is not a loopback address. With -login-url it first
// signs in (a JSON POST) and sends the cookies it was given with every
// request, so it measures an authenticated path.
//
//	loadgen -name ours-mem -url http://127.0.0.1:8080/me \
//	    -login-url http://127.0.0.1:8080/login -login-body '{"username":"demo","password":"..."}'
//	loadgen -free-port   # prints a free loopback port and exits
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type config struct {
	name        string
	target      string
	loginURL    string
	loginBody   string
	requests    int
	warmup      int
	duration    time.Duration
	concurrency int
	wantStatus  int
	out         string
	wait        time.Duration
}

// Result is what one run measured; one JSON line on stdout (and appended to
// -out when set).
type Result struct {
	Name        string  `json:"name"`
	Requests    int     `json:"requests"`
	Errors      int     `json:"errors"`
	Seconds     float64 `json:"seconds"`
	ReqPerSec   float64 `json:"req_per_sec"`
	P50us       float64 `json:"p50_us"`
	P90us       float64 `json:"p90_us"`
	P99us       float64 `json:"p99_us"`
	MaxUs       float64 `json:"max_us"`
	BodyBytes   int     `json:"body_bytes"`
	Concurrency int     `json:"concurrency"`
	Body        string  `json:"body"` // the first response, for checking that subjects answer alike
}

var errNotLoopback = errors.New("target is not a loopback address")

func main() {
	var cfg config
	freePort := flag.Bool("free-port", false, "print a free loopback TCP port and exit")
	flag.StringVar(&cfg.name, "name", "run", "label for the result")
	flag.StringVar(&cfg.target, "url", "", "URL to GET (loopback only)")
	flag.StringVar(&cfg.loginURL, "login-url", "", "URL to POST -login-body to first, keeping its cookies (loopback only)")
	flag.StringVar(&cfg.loginBody, "login-body", "", "JSON body for -login-url")
	flag.IntVar(&cfg.requests, "n", 20000, "measured requests (upper bound)")
	flag.IntVar(&cfg.warmup, "warmup", 1000, "requests sent before measuring")
	flag.DurationVar(&cfg.duration, "d", 10*time.Second, "measuring time (upper bound)")
	flag.IntVar(&cfg.concurrency, "c", 8, "concurrent connections")
	flag.IntVar(&cfg.wantStatus, "status", http.StatusOK, "status every response must have")
	flag.StringVar(&cfg.out, "out", "", "file to append the JSON result to")
	flag.DurationVar(&cfg.wait, "wait", 0, "first wait up to this long for the server to answer at all")
	flag.Parse()
	if *freePort {
		port, err := pickPort()
		if err != nil {
			fatal(err)
		}
		fmt.Println(port)
		return
	}
	res, err := run(context.Background(), cfg)
	if err != nil {
		fatal(err)
	}
	line, err := json.Marshal(res)
	if err != nil {
		fatal(err)
	}
	fmt.Println(string(line))
	if cfg.out != "" {
		f, err := os.OpenFile(cfg.out, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			fatal(err)
		}
		defer f.Close()
		if _, err := f.Write(append(line, '\n')); err != nil {
			fatal(err)
		}
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "loadgen:", err)
	os.Exit(1)
}

func pickPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// checkLoopback accepts only URLs whose host is a loopback IP or localhost.
func checkLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if u.Scheme != "http" {
		return fmt.Errorf("%q: only http:// is supported", raw)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%w: %q", errNotLoopback, host)
}

func newClient(concurrency int) *http.Client {
	tr := &http.Transport{
		Proxy:               nil, // never through a proxy: loopback only
		MaxIdleConns:        concurrency,
		MaxIdleConnsPerHost: concurrency,
		MaxConnsPerHost:     concurrency,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// login posts body to loginURL and returns the Cookie header to send.
func login(ctx context.Context, c *http.Client, loginURL, body string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, loginURL, strings.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return "", fmt.Errorf("login answered %s", resp.Status)
	}
	var pairs []string
	for _, ck := range resp.Cookies() {
		if ck.MaxAge >= 0 && ck.Value != "" {
			pairs = append(pairs, ck.Name+"="+ck.Value)
		}
	}
	if len(pairs) == 0 {
		return "", errors.New("login set no cookie")
	}
	return strings.Join(pairs, "; "), nil
}

func run(ctx context.Context, cfg config) (Result, error) {
	if err := checkLoopback(cfg.target); err != nil {
		return Result{}, err
	}
	if cfg.concurrency < 1 || cfg.requests < 1 || cfg.duration <= 0 {
		return Result{}, errors.New("-c, -n and -d must be positive")
	}
	client := newClient(cfg.concurrency)
	defer client.CloseIdleConnections()
	if cfg.wait > 0 {
		if err := waitUp(client, cfg.target, cfg.wait); err != nil {
			return Result{}, err
		}
	}
	var cookie string
	if cfg.loginURL != "" {
		if err := checkLoopback(cfg.loginURL); err != nil {
			return Result{}, err
		}
		var err error
		if cookie, err = login(ctx, client, cfg.loginURL, cfg.loginBody); err != nil {
			return Result{}, err
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.target, nil)
	if err != nil {
		return Result{}, err
	}
	req.Header.Set("Accept", "application/json")
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	first, err := get(client, req)
	if err != nil {
		return Result{}, err
	}
	if first.status != cfg.wantStatus {
		return Result{}, fmt.Errorf("%s answered %d, want %d: %s", cfg.target, first.status, cfg.wantStatus, first.body)
	}

	// Warm-up: connections opened, server caches and the Go runtime settled.
	if _, _, err := phase(client, req, cfg.warmup, cfg.duration, cfg.concurrency, cfg.wantStatus, false); err != nil {
		return Result{}, err
	}
	start := time.Now()
	lat, errs, err := phase(client, req, cfg.requests, cfg.duration, cfg.concurrency, cfg.wantStatus, true)
	elapsed := time.Since(start)
	if err != nil {
		return Result{}, err
	}
	slices.Sort(lat)
	res := Result{
		Name:        cfg.name,
		Requests:    len(lat),
		Errors:      errs,
		Seconds:     elapsed.Seconds(),
		ReqPerSec:   float64(len(lat)) / elapsed.Seconds(),
		P50us:       pct(lat, 0.50),
		P90us:       pct(lat, 0.90),
		P99us:       pct(lat, 0.99),
		MaxUs:       pct(lat, 1),
		BodyBytes:   len(first.body),
		Concurrency: cfg.concurrency,
		Body:        string(first.body),
	}
	if errs > 0 {
		return res, fmt.Errorf("%d of %d requests failed", errs, len(lat))
	}
	return res, nil
}

// waitUp polls target until the server answers (any status) or d passes.
func waitUp(c *http.Client, target string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		resp, err := c.Get(target)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer within %s: %w", target, d, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type response struct {
	status int
	body   []byte
}

func get(c *http.Client, req *http.Request) (response, error) {
	resp, err := c.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return response{status: resp.StatusCode, body: bytes.TrimSpace(body)}, err
}

// phase sends up to n requests from concurrency workers, stopping early at
// the deadline; it returns the latencies (µs) when keep is set, and the
// number of failed requests.
func phase(c *http.Client, req *http.Request, n int, d time.Duration, concurrency, want int, keep bool) ([]float64, int, error) {
	deadline := time.Now().Add(d)
	var next, errs atomic.Int64
	var mu sync.Mutex
	var all []float64
	var firstErr error
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			var lat []float64
			if keep {
				lat = make([]float64, 0, n/concurrency+1)
			}
			for next.Add(1) <= int64(n) && time.Now().Before(deadline) {
				t0 := time.Now()
				resp, err := c.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != want {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				if keep {
					lat = append(lat, float64(time.Since(t0).Nanoseconds())/1e3)
				}
				if err != nil {
					if errs.Add(1) == 1 {
						mu.Lock()
						firstErr = err
						mu.Unlock()
					}
				}
			}
			mu.Lock()
			all = append(all, lat...)
			mu.Unlock()
		})
	}
	wg.Wait()
	if firstErr != nil && errs.Load() == int64(n) {
		return all, int(errs.Load()), firstErr
	}
	if firstErr != nil {
		fmt.Fprintln(os.Stderr, "loadgen: first error:", firstErr)
	}
	return all, int(errs.Load()), nil
}

// pct is the q-quantile of sorted (nearest rank).
func pct(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i]
}
