package bench

import "net/http"

// Writer is a minimal, reusable http.ResponseWriter: every subject in every
// scenario writes to one, so none pays for a heavier recorder than another.
// It keeps the header map, the status and the number of Set-Cookie lines that
// were sent, and discards the body.
type Writer struct {
	header     http.Header
	status     int
	setCookies int
	bodyBytes  int
}

// NewWriter returns an empty Writer.
func NewWriter() *Writer {
	return &Writer{header: make(http.Header)}
}

// Reset makes w ready for the next request without allocating; the Set-Cookie
// count is kept (it is a running total, read after the loop).
func (w *Writer) Reset() {
	clear(w.header)
	w.status = 0
	w.bodyBytes = 0
}

// Header implements http.ResponseWriter.
func (w *Writer) Header() http.Header { return w.header }

// WriteHeader implements http.ResponseWriter. Headers count from here, as on
// the wire: changes after it are not sent.
func (w *Writer) WriteHeader(code int) {
	if w.status != 0 {
		return
	}
	w.status = code
	w.setCookies += len(w.header["Set-Cookie"])
}

// Write implements http.ResponseWriter.
func (w *Writer) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	w.bodyBytes += len(p)
	return len(p), nil
}

// Finish is called after ServeHTTP returns: like net/http, a handler that
// wrote nothing sends a 200 with whatever headers it set.
func (w *Writer) Finish() {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
}

// Status is the status sent for the last request.
func (w *Writer) Status() int { return w.status }

// SetCookies is the number of Set-Cookie lines sent since the Writer was made.
func (w *Writer) SetCookies() int { return w.setCookies }

// SentHeader returns a copy of the current header map (for set-up code, not
// for the timed loop).
func (w *Writer) SentHeader() http.Header {
	w.Finish()
	return w.header.Clone()
}
