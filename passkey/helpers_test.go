package passkey

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionauth/session"
)

// cbor writes the little CBOR a WebAuthn authenticator needs: unsigned and
// negative integers, byte and text strings, and maps.
type cbor struct{ bytes.Buffer }

func (c *cbor) head(major byte, n uint64) {
	switch {
	case n < 24:
		c.WriteByte(major<<5 | byte(n))
	case n < 1<<8:
		c.WriteByte(major<<5 | 24)
		c.WriteByte(byte(n))
	case n < 1<<16:
		c.WriteByte(major<<5 | 25)
		c.Write(binary.BigEndian.AppendUint16(nil, uint16(n)))
	default:
		c.WriteByte(major<<5 | 26)
		c.Write(binary.BigEndian.AppendUint32(nil, uint32(n)))
	}
}

func (c *cbor) int(v int64) {
	if v >= 0 {
		c.head(0, uint64(v))
	} else {
		c.head(1, uint64(-1-v))
	}
}

func (c *cbor) bytes(b []byte) { c.head(2, uint64(len(b))); c.Write(b) }
func (c *cbor) text(s string)  { c.head(3, uint64(len(s))); c.WriteString(s) }
func (c *cbor) mapOf(n int)    { c.head(5, uint64(n)) }

// Authenticator data flags.
const (
	flagUP = 0x01
	flagUV = 0x04
	flagBE = 0x08
	flagBS = 0x10
	flagAT = 0x40
)

// softAuthn is a software authenticator: one ECDSA P-256 credential,
// attestation "none", and assertions signed as a real authenticator signs
// them. Its fields are what the attack tests change.
type softAuthn struct {
	t       *testing.T
	key     *ecdsa.PrivateKey
	id      []byte
	handle  []byte // set at registration from the options
	counter uint32 // incremented before each assertion when counting
	counts  bool   // the authenticator keeps a signature counter
	synced  bool   // backup-eligible (and backed up)
	noUV    bool   // report no user verification
	origin  string // in clientDataJSON
	rpID    string // hashed into the authenticator data
	top     string // when set, run in a cross-origin iframe of this page
}

func newSoftAuthn(t *testing.T) *softAuthn {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 16)
	rand.Read(id)
	return &softAuthn{t: t, key: key, id: id, origin: testOrigin, rpID: testRPID}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func unb64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		t.Fatalf("base64url %q: %v", s, err)
	}
	return b
}

func (a *softAuthn) flags() byte {
	f := byte(flagUP)
	if !a.noUV {
		f |= flagUV
	}
	if a.synced {
		f |= flagBE | flagBS
	}
	return f
}

func (a *softAuthn) clientData(typ, challenge string) []byte {
	cd := map[string]any{"type": typ, "challenge": challenge, "origin": a.origin, "crossOrigin": a.top != ""}
	if a.top != "" {
		cd["topOrigin"] = a.top
	}
	b, _ := json.Marshal(cd)
	return b
}

// create answers the options register/begin returned with the body
// register/finish takes.
func (a *softAuthn) create(options []byte, name string) []byte {
	a.t.Helper()
	var o struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
			User      struct {
				ID string `json:"id"`
			} `json:"user"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(options, &o); err != nil {
		a.t.Fatalf("creation options %s: %v", options, err)
	}
	a.handle = unb64(a.t, o.PublicKey.User.ID)
	var key cbor
	key.mapOf(5)
	key.int(1)
	key.int(2) // kty: EC2
	key.int(3)
	key.int(-7) // alg: ES256
	key.int(-1)
	key.int(1) // crv: P-256
	key.int(-2)
	key.bytes(a.key.X.FillBytes(make([]byte, 32)))
	key.int(-3)
	key.bytes(a.key.Y.FillBytes(make([]byte, 32)))
	rp := sha256.Sum256([]byte(a.rpID))
	auth := append(rp[:], a.flags()|flagAT)
	auth = binary.BigEndian.AppendUint32(auth, a.counter)
	auth = append(auth, make([]byte, 16)...) // AAGUID
	auth = binary.BigEndian.AppendUint16(auth, uint16(len(a.id)))
	auth = append(auth, a.id...)
	auth = append(auth, key.Bytes()...)
	var att cbor
	att.mapOf(3)
	att.text("fmt")
	att.text("none")
	att.text("attStmt")
	att.mapOf(0)
	att.text("authData")
	att.bytes(auth)
	cred := map[string]any{
		"id": b64(a.id), "rawId": b64(a.id), "type": "public-key",
		"authenticatorAttachment": "platform", "clientExtensionResults": map[string]any{},
		"response": map[string]any{
			"clientDataJSON":    b64(a.clientData("webauthn.create", o.PublicKey.Challenge)),
			"attestationObject": b64(att.Bytes()),
			"transports":        []string{"internal"},
		},
	}
	body, _ := json.Marshal(map[string]any{"credential": cred, "name": name})
	return body
}

// get answers the options signin/begin or stepup/begin returned with the
// body their finish takes.
func (a *softAuthn) get(options []byte) []byte {
	a.t.Helper()
	var o struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(options, &o); err != nil {
		a.t.Fatalf("request options %s: %v", options, err)
	}
	return a.sign(o.PublicKey.Challenge)
}

// sign makes an assertion over challenge.
func (a *softAuthn) sign(challenge string) []byte {
	a.t.Helper()
	if a.counts {
		a.counter++
	}
	rp := sha256.Sum256([]byte(a.rpID))
	auth := append(rp[:], a.flags())
	auth = binary.BigEndian.AppendUint32(auth, a.counter)
	cd := a.clientData("webauthn.get", challenge)
	cdHash := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte(nil), auth...), cdHash[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, a.key, digest[:])
	if err != nil {
		a.t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{
		"id": b64(a.id), "rawId": b64(a.id), "type": "public-key",
		"authenticatorAttachment": "platform", "clientExtensionResults": map[string]any{},
		"response": map[string]any{
			"clientDataJSON":    b64(cd),
			"authenticatorData": b64(auth),
			"signature":         b64(sig),
			"userHandle":        b64(a.handle),
		},
	})
	return body
}

const (
	testRPID   = "example.com"
	testOrigin = "https://example.com"
)

// lockedLog collects log output.
type lockedLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// testApp is a session Manager and a passkey Handler behind an httptest
// server, with these routes besides the Handler's at /passkey/:
//
//	POST /login?user=  signs in (a password sign-in stand-in: amr "pwd")
//	GET  /me           {"user","id","amr","auth_time"} of the session
type testApp struct {
	t     *testing.T
	m     *session.Manager
	h     *Handler
	store Store
	srv   *httptest.Server
	log   *lockedLog
	clock *testClock
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTestApp(t *testing.T) *testApp {
	t.Helper()
	return newTestAppWith(t, session.Config{})
}

// newTestAppWith is newTestApp with a session Config (keys and cookie set
// here).
func newTestAppWith(t *testing.T, cfg session.Config) *testApp {
	t.Helper()
	return newTestAppConfig(t, cfg, nil)
}

// newTestAppConfig is newTestAppWith with a change to the Handler's Config
// (nil for none) before New.
func newTestAppConfig(t *testing.T, cfg session.Config, change func(*Config)) *testApp {
	t.Helper()
	keys, err := session.NewKeyRing(session.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Keys, cfg.Cookie.DisableSecure = keys, true
	m, err := session.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedLog{}
	store := NewMemoryStore()
	pcfg := Config{
		Sessions: m, Store: store, RPID: testRPID, Origins: []string{testOrigin},
		Logger: slog.New(slog.NewTextHandler(logs, nil)),
	}
	if change != nil {
		change(&pcfg)
	}
	h, err := New(pcfg)
	if err != nil {
		t.Fatal(err)
	}
	clk := &testClock{t: time.Now().Truncate(time.Millisecond)}
	h.now = clk.Now
	mux := http.NewServeMux()
	mux.Handle("/passkey/", h)
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if err := m.Login(w, r, r.URL.Query().Get("user"), session.ProvedWith("pwd")); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		s := session.FromContext(r.Context())
		json.NewEncoder(w).Encode(me{User: s.UserID(), ID: s.ID(), AMR: s.AuthMethods(), AuthTime: s.AuthTime()})
	})
	srv := httptest.NewServer(m.Middleware(mux))
	t.Cleanup(srv.Close)
	return &testApp{t: t, m: m, h: h, store: store, srv: srv, log: logs, clock: clk}
}

type me struct {
	User     string    `json:"user"`
	ID       string    `json:"id"`
	AMR      []string  `json:"amr"`
	AuthTime time.Time `json:"auth_time"`
}

// visitor is one browser: a cookie jar.
type visitor struct {
	app    *testApp
	client *http.Client
}

func (a *testApp) visitor() *visitor {
	jar, _ := cookiejar.New(nil)
	return &visitor{app: a, client: &http.Client{Jar: jar}}
}

// answer is a response's status, WWW-Authenticate header and body.
type answer struct {
	status    int
	challenge string
	body      string
}

// postAnswer posts a JSON body as v and returns the whole answer.
func (v *visitor) postAnswer(path string, body []byte) answer {
	v.app.t.Helper()
	if body == nil {
		body = []byte("{}")
	}
	req, _ := http.NewRequest("POST", v.app.srv.URL+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	res, err := v.client.Do(req)
	if err != nil {
		v.app.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return answer{res.StatusCode, res.Header.Get("WWW-Authenticate"), string(b)}
}

// post sends a JSON body and returns the status and body.
func (v *visitor) post(path string, body []byte) (int, []byte) {
	v.app.t.Helper()
	a := v.postAnswer(path, body)
	return a.status, []byte(a.body)
}

// must posts and fails unless the answer is 200.
func (v *visitor) must(path string, body []byte) []byte {
	v.app.t.Helper()
	code, b := v.post(path, body)
	if code != 200 {
		v.app.t.Fatalf("POST %s: %d %s", path, code, b)
	}
	return b
}

// refused posts and fails unless the answer is status with error code.
func (v *visitor) refused(path string, body []byte, status int, code string) {
	v.app.t.Helper()
	got, b := v.post(path, body)
	var e struct {
		Error string `json:"error"`
	}
	json.Unmarshal(b, &e)
	if got != status || e.Error != code {
		v.app.t.Fatalf("POST %s: %d %s, want %d {\"error\":%q}", path, got, b, status, code)
	}
}

func (v *visitor) login(user string) {
	v.app.t.Helper()
	v.must("/login?user="+user, nil)
}

func (v *visitor) me() me {
	v.app.t.Helper()
	res, err := v.client.Get(v.app.srv.URL + "/me")
	if err != nil {
		v.app.t.Fatal(err)
	}
	defer res.Body.Close()
	var m me
	if err := json.NewDecoder(res.Body).Decode(&m); err != nil {
		v.app.t.Fatal(err)
	}
	return m
}

// register adds a passkey made by a for the signed-in visitor.
func (v *visitor) register(a *softAuthn, name string) {
	v.app.t.Helper()
	v.must("/passkey/register/finish", a.create(v.must("/passkey/register/begin", nil), name))
}

func (a *testApp) sessions(user string) []session.SessionInfo {
	a.t.Helper()
	list, err := a.m.ListSessions(context.Background(), user)
	if err != nil {
		a.t.Fatal(err)
	}
	return list
}
