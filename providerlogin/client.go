package providerlogin

import (
	"errors"
	"fmt"
	"io"
	"net/http"
)

// maxProviderAnswer bounds the body of every answer read from a provider:
// the discovery document, the token answer and user info are cut off at
// 1 MiB by their readers; this covers the key set and OpenID user info,
// which go-oidc reads whole, with room for any genuine answer.
const maxProviderAnswer = 2 << 20

// errAnswerTooLarge is the read error of a provider's answer past
// maxProviderAnswer.
var errAnswerTooLarge = fmt.Errorf("answer larger than %d bytes", maxProviderAnswer)

// providerClient returns the client the Handler calls providers with: a
// copy of c (Config.HTTPClient) that
//   - has a Timeout of providerTimeout when c has none, so that no call
//     waits for ever, go-oidc's key set fetches included, which run apart
//     from any request's context;
//   - follows a redirect only to the origin (scheme, host and port) of the
//     request redirected, and never one of a POST: a provider's answer
//     cannot send discovery to a document of another host, nor the token
//     request's code, verifier and client secret anywhere but the token
//     endpoint;
//   - fails the read of an answer past maxProviderAnswer bytes.
//
// c's own CheckRedirect, when set, is asked after these rules.
func providerClient(c *http.Client) *http.Client {
	out := *c
	if out.Timeout == 0 {
		out.Timeout = providerTimeout
	}
	next := c.CheckRedirect
	out.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		first := via[0]
		switch {
		case first.Method != http.MethodGet && first.Method != http.MethodHead:
			return fmt.Errorf("providerlogin: a provider redirected a %s request", first.Method)
		case req.URL.Scheme != first.URL.Scheme || req.URL.Host != first.URL.Host:
			return errors.New("providerlogin: a provider redirected to another origin")
		case len(via) >= 10:
			return errors.New("providerlogin: more than 10 redirects")
		case next != nil:
			return next(req, via)
		}
		return nil
	}
	rt := c.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	out.Transport = boundedTransport{rt}
	return &out
}

// boundedTransport cuts every answer's body off at maxProviderAnswer.
type boundedTransport struct{ next http.RoundTripper }

func (t boundedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := t.next.RoundTrip(req)
	if err == nil && res.Body != nil {
		res.Body = &boundedBody{ReadCloser: res.Body, left: maxProviderAnswer}
	}
	return res, err
}

// boundedBody is a body that fails with errAnswerTooLarge past left bytes.
type boundedBody struct {
	io.ReadCloser
	left int64
}

func (b *boundedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errAnswerTooLarge
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}
