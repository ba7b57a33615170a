package passkey

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/sessionauth/session"
)

// Config configures a Handler.
type Config struct {
	// Sessions is the app's session manager. Required. Sign-in calls its
	// Login, step-up its StepUp; ceremony state lives in its sessions.
	Sessions *session.Manager
	// Store keeps the passkeys. Required: NewMemoryStore for one process,
	// pgpasskey for PostgreSQL.
	Store Store
	// RPID is the relying party ID: the site's registrable domain or host,
	// such as "example.com" (passkeys then work on example.com and its
	// subdomains) or "localhost". It cannot change later without every
	// passkey ceasing to work. Required.
	RPID string
	// RPName is the name the browser shows when a passkey is created.
	// "" means RPID.
	RPName string
	// Origins are the origins pages may run ceremonies from, such as
	// "https://example.com" (scheme, host and port, no path); each must be
	// RPID or a subdomain of it. A ceremony from any other origin, or from
	// a cross-origin iframe, is refused. Required.
	Origins []string
	// Prefix is where the Handler is mounted. "" means "/passkey/". See
	// Handler for its routes.
	Prefix string
	// UserName returns the account name the browser shows for a new
	// passkey (an email address or a username). nil means the user ID.
	UserName func(ctx context.Context, userID string) (string, error)
	// LoginOptions are passed to Sessions.Login after a passkey sign-in,
	// for example session.RememberMe(). The Handler adds
	// session.ProvedWith("hwk") or ("swk"): "hwk" when the authenticator
	// reported the passkey device-bound (not backup-eligible), its own
	// unattested word, which a software authenticator can give too.
	LoginOptions []session.LoginOption
	// RecentAuth is how recent the session's last proof of identity
	// (Session.AuthTime: its Login, or its last StepUp) must be for the
	// Handler to add or remove a passkey. To a signed-in session whose
	// proof is older, register/begin, register/finish and remove answer
	// what Sessions.RequireRecentAuth(RecentAuth) answers: 401
	// {"error":"insufficient_user_authentication","reason":"stale",…}, and
	// the page confirms (a passkey step-up, or the app's password page)
	// and tries again; a request that is not signed in still gets
	// not_signed_in. Without it, a session taken over long after its
	// sign-in (a stolen cookie) could add a passkey of its own: a way back
	// in that survives LogoutAll and a password change, and a passkey to
	// step up with. 0 means 5 minutes, so a first passkey added right
	// after signing in needs no step-up. A negative value turns the
	// Handler's check off: the app then guards those routes itself (with
	// Sessions.RequireRecentAuth). New refuses a value between 0 and one
	// second. To demand particular methods as well (a passkey's, "hwk" or
	// "swk"), wrap the route in Sessions.RequireRecentAuth with them. Cost:
	// a clock read per request to those three routes.
	RecentAuth time.Duration
	// Logger receives refused ceremonies that may be attacks (a counter
	// that went back, another user's passkey at step-up) and store
	// failures, naming sessions by their public ID and credentials by a
	// short hash. nil disables logging.
	Logger *slog.Logger
}

// Handler serves the JSON endpoints a page calls to register, use and
// manage passkeys, and the browser script that calls them. Mount it at
// Config.Prefix (default "/passkey/"):
//
//	POST register/begin, register/finish  add a passkey (signed in)
//	POST signin/begin, signin/finish      sign in, without a username
//	POST stepup/begin, stepup/finish      confirm it is still you (signed in)
//	POST list, rename, remove             the user's passkeys (signed in)
//	GET  passkey.js                       the browser script
//
// Every POST must carry a JSON body ("Content-Type: application/json") and
// pass http.CrossOriginProtection, so a cross-site page can neither send
// nor forge one. Answers are JSON; errors are {"error": code} (see the
// README). register/begin, register/finish and remove also need a recent
// proof of identity (Config.RecentAuth). It applies Sessions.Middleware
// itself. It is safe for concurrent use.
type Handler struct {
	cfg      Config
	prefix   string
	wa       *webauthn.WebAuthn
	mux      http.Handler
	cop      *http.CrossOriginProtection
	now      func() time.Time
	lifetime time.Duration // of a ceremony
}

// defaultRecentAuth is Config.RecentAuth when it is zero.
const defaultRecentAuth = 5 * time.Minute

// New checks cfg and returns a Handler. Every error it returns wraps
// ErrInvalidConfig and names the field.
func New(cfg Config) (*Handler, error) {
	bad := func(format string, args ...any) (*Handler, error) {
		return nil, fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, args...))
	}
	if cfg.Sessions == nil {
		return bad("Sessions is nil")
	}
	if cfg.Store == nil {
		return bad("Store is nil")
	}
	if cfg.RPID == "" || protocol.ValidateRPID(cfg.RPID) != nil {
		return bad("RPID %q is not a domain name", cfg.RPID)
	}
	if len(cfg.Origins) == 0 {
		return bad("Origins is empty")
	}
	for _, o := range cfg.Origins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return bad("origin %q is not scheme://host[:port]", o)
		}
		host := u.Hostname()
		if host != cfg.RPID && !strings.HasSuffix(host, "."+cfg.RPID) {
			return bad("origin %q is not RPID %q or a subdomain of it", o, cfg.RPID)
		}
	}
	switch {
	case cfg.RecentAuth == 0:
		cfg.RecentAuth = defaultRecentAuth
	case cfg.RecentAuth > 0 && cfg.RecentAuth < time.Second:
		return bad("RecentAuth %v is under a second (a negative value turns the check off)", cfg.RecentAuth)
	}
	prefix := cfg.Prefix
	if prefix == "" {
		prefix = "/passkey/"
	}
	if !strings.HasPrefix(prefix, "/") || !strings.HasSuffix(prefix, "/") || strings.ContainsAny(prefix, "{}? ") {
		return bad("Prefix %q must start and end with /", prefix)
	}
	name := cfg.RPName
	if name == "" {
		name = cfg.RPID
	}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:          cfg.RPID,
		RPDisplayName: name,
		RPOrigins:     append([]string(nil), cfg.Origins...),
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:      protocol.ResidentKeyRequirementPreferred,
			UserVerification: protocol.VerificationRequired,
		},
		AttestationPreference: protocol.PreferNoAttestation,
	})
	if err != nil {
		return bad("%v", err)
	}
	h := &Handler{
		cfg: cfg, prefix: prefix, wa: wa,
		cop:      http.NewCrossOriginProtection(),
		now:      time.Now,
		lifetime: ceremonyLifetime,
	}
	mux := http.NewServeMux()
	routes := map[string]func(w http.ResponseWriter, r *http.Request) error{
		"register/begin": h.registerBegin, "register/finish": h.registerFinish,
		"signin/begin": h.signInBegin, "signin/finish": h.signInFinish,
		"stepup/begin": h.stepUpBegin, "stepup/finish": h.stepUpFinish,
		"list": h.list, "rename": h.rename, "remove": h.remove,
	}
	// The routes that add or remove a passkey need a recent proof.
	recent := map[string]bool{"register/begin": true, "register/finish": true, "remove": true}
	for path, fn := range routes {
		mux.Handle("POST "+prefix+path, h.api(fn, recent[path]))
	}
	mux.HandleFunc("GET "+prefix+"passkey.js", serveScript)
	h.mux = cfg.Sessions.Middleware(mux)
	return h, nil
}

// ServeHTTP serves the routes listed on Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mux.ServeHTTP(w, r)
}
