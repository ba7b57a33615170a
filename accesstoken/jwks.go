package accesstoken

import (
	"encoding/json"
	"net/http"
	"strconv"

	jose "github.com/go-jose/go-jose/v4"
)

// JWKSHandler serves the public keys published now (the signing key, a
// key scheduled to sign next, keys whose last tokens may still be live) as
// a JSON Web Key Set, for other services that verify our tokens, with
// `Cache-Control: public, max-age=` Config.JWKSMaxAge. It answers GET and
// HEAD only. Cost: encoding two or three keys.
func (i *Issuer) JWKSHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, "invalid_request", "GET only")
			return
		}
		body, err := json.Marshal(i.jwks())
		if err != nil {
			writeError(w, http.StatusInternalServerError, "server_error", "could not encode keys")
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/jwk-set+json")
		h.Set("Cache-Control", "public, max-age="+strconv.Itoa(int(i.jwksAge.Seconds())))
		h.Set("Content-Length", strconv.Itoa(len(body)))
		if r.Method == http.MethodHead {
			return
		}
		w.Write(body)
	})
}

// jwks returns the key set published now.
func (i *Issuer) jwks() jose.JSONWebKeySet {
	keys := i.ring.Load().publishedKeys(i.now(), i.retain())
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(keys))}
	for _, k := range keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{
			Key: k.pub.pub, KeyID: k.pub.kid, Algorithm: string(k.pub.alg), Use: "sig",
		})
	}
	return set
}
