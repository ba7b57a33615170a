package session

import (
	"bufio"
	"errors"
	"net"
	"net/http"
)

// errResponseReplaced is what Write returns after a failed commit replaced
// the handler's response with Config.ErrorHandler's.
var errResponseReplaced = errors.New("session: response replaced: the session could not be saved")

// commitWriter saves the session just before the response headers go out:
// on the first WriteHeader, Write or Flush, or after the handler returns if
// it wrote nothing. Unwrap keeps http.ResponseController working.
type commitWriter struct {
	http.ResponseWriter
	s *Session // its Manager (s.m) commits it
	r *http.Request
	// outer marks the handlerResponseHeaders set before the Middleware ran
	// (a compressing middleware's Content-Encoding, say: bit i for
	// handlerResponseHeaders[i]), which a failed commit leaves in place;
	// outerCookies is how many Set-Cookie values there were then.
	outer        uint32
	outerCookies uint8
	done         bool // commit ran
	failed       bool // commit failed; the error response was written
}

func (w *commitWriter) ensureCommitted() {
	if w.done {
		return
	}
	w.done = true
	if err := w.s.m.commit(w.r.Context(), w.s, w.ResponseWriter.Header()); err != nil {
		w.failed = true
		w.s.m.logError(w.r.Context(), "session: saving the session failed; answering with the error handler", w.s.keyLocked(), err)
		dropHandlerResponseHeaders(w.ResponseWriter.Header(), w.outer, int(w.outerCookies))
		w.s.m.onError(w.ResponseWriter, w.r, err)
	}
}

// handlerResponseHeaders describe the handler's own response: its body,
// how long it may be cached, where it redirects and the cookies it sets.
// At most 32 (a bit each in commitWriter.outer).
var handlerResponseHeaders = [...]string{
	"Accept-Ranges", "Age", "Cache-Control", "Content-Disposition",
	"Content-Encoding", "Content-Language", "Content-Length",
	"Content-Location", "Content-Range", "Content-Type", "Etag", "Expires",
	"Last-Modified", "Location", "Refresh", "Set-Cookie", "Trailer",
	"Transfer-Encoding",
}

// dropHandlerResponseHeaders removes from h what the handler set for the
// response a failed commit replaces, so that the error handler's answer
// does not go out with, say, the handler's Content-Length (the client
// would read a cut body), Content-Encoding, ETag or redirect. The headers
// outer marks, set before the Middleware ran, stay (of Set-Cookie, its
// first cookies values: those of the outer middleware); headers that
// describe no body (CORS, security policies, a request ID) stay too.
func dropHandlerResponseHeaders(h http.Header, outer uint32, cookies int) {
	for i, k := range handlerResponseHeaders {
		switch {
		case outer&(1<<i) == 0:
			delete(h, k)
		case k == "Set-Cookie" && len(h[k]) > cookies:
			h[k] = h[k][:cookies]
		}
	}
}

// outerResponseHeaders marks the handlerResponseHeaders present in h, and
// counts its Set-Cookie values (at most 255). It walks h's few entries
// and allocates nothing.
func outerResponseHeaders(h http.Header) (outer uint32, cookies uint8) {
	for k, v := range h {
		for i, name := range handlerResponseHeaders {
			if k == name {
				outer |= 1 << i
				if name == "Set-Cookie" {
					cookies = uint8(min(len(v), 255))
				}
				break
			}
		}
	}
	return outer, cookies
}

// WriteHeader commits the session, then writes the status. Informational
// statuses (103 Early Hints and the like) pass through without committing;
// 101 Switching Protocols is a final response (nothing follows it on the
// connection but the new protocol), so it commits like any other.
func (w *commitWriter) WriteHeader(code int) {
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	w.ensureCommitted()
	if !w.failed {
		w.ResponseWriter.WriteHeader(code)
	}
}

// Write commits the session before the first byte.
func (w *commitWriter) Write(b []byte) (int, error) {
	w.ensureCommitted()
	if w.failed {
		return 0, errResponseReplaced
	}
	return w.ResponseWriter.Write(b)
}

// Flush commits the session, then flushes, so streaming handlers keep
// working behind the middleware.
func (w *commitWriter) Flush() { _ = w.FlushError() }

// FlushError is Flush for http.ResponseController.
func (w *commitWriter) FlushError() error {
	w.ensureCommitted()
	if w.failed {
		return errResponseReplaced
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack commits the session (its cookie cannot be sent on a hijacked
// connection, but the store is up to date), then hands over the connection.
func (w *commitWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.ensureCommitted()
	if w.failed {
		return nil, nil, errResponseReplaced
	}
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap returns the underlying ResponseWriter.
func (w *commitWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// finish runs after the handler returns. A handler that wrote nothing gets
// its session committed now. Changes made after the headers went out are
// still saved to the store when the session exists; a change that needed a
// new cookie is logged as lost.
func (w *commitWriter) finish() {
	// Ended first: a change that got in before is in the save below (it
	// waits for the session's lock), one after is refused.
	w.s.end()
	if !w.done {
		w.ensureCommitted()
		return
	}
	w.s.m.saveLate(w.r.Context(), w.s)
}
