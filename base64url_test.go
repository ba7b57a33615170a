package session

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

// checkBase64URLLikeTheStandardLibrary fails t unless decodeBase64URL gives
// what base64.URLEncoding.DecodeString gives for src: the same bytes, or a
// refusal; src with a line break must be refused.
func checkBase64URLLikeTheStandardLibrary(t *testing.T, src string) {
	t.Helper()
	dst := make([]byte, len(src)/4*3+3)
	n, ok := decodeBase64URL(dst, src)
	if strings.ContainsAny(src, "\r\n") {
		if ok {
			t.Fatalf("decodeBase64URL(%q) accepted a line break", src)
		}
		return
	}
	want, err := base64.URLEncoding.DecodeString(src)
	if ok != (err == nil) {
		t.Fatalf("decodeBase64URL(%q) ok = %v; encoding/base64 says %v", src, ok, err)
	}
	if ok && !bytes.Equal(dst[:n], want) {
		t.Fatalf("decodeBase64URL(%q) = %x, want %x", src, dst[:n], want)
	}
}

func TestDecodeBase64URLAcceptsWhatTheStandardLibraryAccepts(t *testing.T) {
	t.Parallel()
	for _, src := range []string{
		"", "AA==", "AAA=", "AAAA", "_-8=", "__-_", "AQ==", "AQI=", "AQID",
		// non-zero trailing bits: accepted, as base64.URLEncoding (not Strict) does
		"AB==", "AAB=",
		// refused
		"A", "AA", "AAA", "AA=", "A===", "====", "AA=A", "A=AA", "=AAA",
		"AA==AAAA", "AAA=AAAA", "AA+A", "AA/A", "AA A", "AA\x00A", "AA\xffA",
		"AA\nAA==", "AAAA\r\n", "AA\n==",
	} {
		checkBase64URLLikeTheStandardLibrary(t, src)
	}
	for n := range 100 {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*37 + n)
		}
		checkBase64URLLikeTheStandardLibrary(t, base64.URLEncoding.EncodeToString(b))
	}
}

func FuzzDecodeBase64URL(f *testing.F) {
	for _, s := range []string{"", "AA==", "AAA=", "AAAA", "AB==", "A===", "AA\nAA==", base64.URLEncoding.EncodeToString([]byte("session|1|token|mac"))} {
		f.Add(s)
	}
	f.Fuzz(checkBase64URLLikeTheStandardLibrary)
}
