package password

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Bounds on stored argon2id hashes. A hash string is data, maybe from a
// leaked or tampered database; these keep one verification from allocating
// gigabytes or running for minutes. The upper bounds are the ones Params
// allows for new hashes.
const (
	minStoredSaltLen = 8
	minStoredKeyLen  = 16
	maxEncodedHash   = 512
)

// argon2Hash is one argon2id PHC string, parsed.
type argon2Hash struct {
	memory  uint32 // KiB
	time    uint32
	threads uint8
	salt    []byte
	key     []byte
}

var b64 = base64.RawStdEncoding.Strict()

// decodeB64 is b64.DecodeString without its tolerance of line breaks, so
// that only the canonical form of a hash parses.
func decodeB64(s string) ([]byte, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, errB64Newline
	}
	return b64.DecodeString(s)
}

func (h argon2Hash) encode() string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, h.memory, h.time, h.threads,
		b64.EncodeToString(h.salt), b64.EncodeToString(h.key))
}

// parseArgon2 parses "$argon2id$v=19$m=M,t=T,p=P$salt$key" in canonical form
// (parameters in this order, decimal without leading zeros, unpadded base64)
// and checks every parameter against the bounds above, so that a successful
// parse is always safe to run.
func parseArgon2(s string) (argon2Hash, error) {
	var h argon2Hash
	if len(s) > maxEncodedHash {
		return h, malformed("too long")
	}
	parts := strings.Split(s, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, key
	if len(parts) != 6 || parts[0] != "" {
		return h, malformed("want 5 $-separated fields")
	}
	if parts[1] != "argon2id" {
		return h, unsupported("algorithm %q", parts[1])
	}
	v, ok := strings.CutPrefix(parts[2], "v=")
	if !ok {
		return h, malformed("missing version")
	}
	ver, err := parseDecimal(v)
	if err != nil {
		return h, malformed("version: %v", err)
	}
	if ver != argon2.Version {
		return h, unsupported("argon2 version %d", ver)
	}
	fields := strings.Split(parts[3], ",")
	if len(fields) != 3 {
		return h, malformed("want m, t and p")
	}
	var vals [3]uint64
	for i, name := range [3]string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(fields[i], name)
		if !ok {
			return h, malformed("want parameter %q", name[:1])
		}
		if vals[i], err = parseDecimal(v); err != nil {
			return h, malformed("%s: %v", name[:1], err)
		}
	}
	m, t, th := vals[0], vals[1], vals[2]
	if th < 1 || th > maxThreads {
		return h, unsupported("p=%d outside [1, %d]", th, maxThreads)
	}
	if m < 8*th || m > maxMemory {
		return h, unsupported("m=%d outside [%d, %d]", m, 8*th, maxMemory)
	}
	if t < 1 || t > maxTime {
		return h, unsupported("t=%d outside [1, %d]", t, maxTime)
	}
	h.memory, h.time, h.threads = uint32(m), uint32(t), uint8(th)
	if h.salt, err = decodeB64(parts[4]); err != nil {
		return h, malformed("salt: %v", err)
	}
	if h.key, err = decodeB64(parts[5]); err != nil {
		return h, malformed("key: %v", err)
	}
	if n := len(h.salt); n < minStoredSaltLen || n > maxSaltLen {
		return h, unsupported("salt of %d bytes outside [%d, %d]", n, minStoredSaltLen, maxSaltLen)
	}
	if n := len(h.key); n < minStoredKeyLen || n > maxKeyLen {
		return h, unsupported("key of %d bytes outside [%d, %d]", n, minStoredKeyLen, maxKeyLen)
	}
	return h, nil
}

// parseDecimal parses a canonical unsigned decimal: digits only, no sign, no
// leading zero, at most 10 digits.
func parseDecimal(s string) (uint64, error) {
	if s == "" || len(s) > 10 || (len(s) > 1 && s[0] == '0') {
		return 0, fmt.Errorf("bad number %q", s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("bad number %q", s)
		}
	}
	return strconv.ParseUint(s, 10, 64)
}
