package session

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"time"
)

// errCorruptRecord is logged when a store returns Data this version cannot
// decode. The Manager deletes such a record and treats it as not found, on
// the request path and in ListSessions alike.
var errCorruptRecord = errors.New("session: corrupt record")

// Record.Data layout, version 2 (all integers are varints):
//
//	byte    version (2)
//	byte    flags (bit 0: persistent cookie)
//	varint  created, Unix milliseconds
//	uvarint idle timeout, milliseconds
//	uvarint absolute lifetime, milliseconds
//	uvarint last proof of identity (auth time), milliseconds after created
//	uvarint length, then the proof's methods: RFC 8176 amr values joined
//	        by single spaces ("" for none; see assurance.go)
//	uvarint number of values, then for each: uvarint len, key, uvarint len, value
//
// Version 1 is version 2 without the two proof fields: its auth time is the
// creation time and it has no methods. A record with exactly that proof is
// still written as version 1, so that a rollback to a release that knows
// only version 1 keeps every session that recorded no methods.
//
// The header is decoded on every request without allocating (short method
// lists that are common are not copied either, see internAMR); the values
// only when the handler first reads or writes one.
const (
	recordVersion1 = 1
	recordVersion  = 2
	flagPersistent = 1 << 0
)

// recordHeader is the part of Record.Data every request needs.
type recordHeader struct {
	persistent bool
	created    time.Time
	idle       time.Duration
	lifetime   time.Duration
	authTime   time.Time // the last proof of identity (Login, StepUp); zero or created for none
	amr        string    // its methods, space-separated; "" for none
}

// decodeHeader parses the header and returns the offset of the values.
func decodeHeader(data []byte) (h recordHeader, rest []byte, err error) {
	if len(data) < 2 || (data[0] != recordVersion && data[0] != recordVersion1) || data[1]&^flagPersistent != 0 {
		return h, nil, errCorruptRecord
	}
	h.persistent = data[1]&flagPersistent != 0
	p := data[2:]
	created, n := binary.Varint(p)
	if n <= 0 {
		return h, nil, errCorruptRecord
	}
	p = p[n:]
	idle, n := binary.Uvarint(p)
	if n <= 0 || idle == 0 || idle > uint64(maxDuration/time.Millisecond) {
		return h, nil, errCorruptRecord
	}
	p = p[n:]
	life, n := binary.Uvarint(p)
	if n <= 0 || life == 0 || life > uint64(maxDuration/time.Millisecond) {
		return h, nil, errCorruptRecord
	}
	p = p[n:]
	h.created = time.UnixMilli(created)
	h.idle = time.Duration(idle) * time.Millisecond
	h.lifetime = time.Duration(life) * time.Millisecond
	h.authTime = h.created
	if data[0] == recordVersion1 {
		return h, p, nil
	}
	auth, n := binary.Uvarint(p)
	if n <= 0 || auth > uint64(maxDuration/time.Millisecond) {
		return h, nil, errCorruptRecord
	}
	p = p[n:]
	amr, p, ok := readBytes(p)
	if !ok || (len(amr) > 0 && !validAMR(amr)) {
		return h, nil, errCorruptRecord
	}
	h.authTime = h.created.Add(time.Duration(auth) * time.Millisecond)
	h.amr = internAMR(amr)
	return h, p, nil
}

// maxDuration bounds timeouts read from a record (100 years), so arithmetic
// on them cannot overflow.
const maxDuration = 100 * 365 * 24 * time.Hour

// walkValues checks the values that follow the header and calls fn, when not
// nil, for each pair. It never panics and rejects trailing bytes and counts
// the input cannot hold. With fn nil it does not allocate.
func walkValues(p []byte, fn func(k, v []byte)) error {
	count, n := binary.Uvarint(p)
	// Each value takes at least two bytes, which bounds the loop by the input.
	if n <= 0 || count > uint64(len(p)) {
		return errCorruptRecord
	}
	p = p[n:]
	for range count {
		var k, v []byte
		var ok bool
		if k, p, ok = readBytes(p); !ok {
			return errCorruptRecord
		}
		if v, p, ok = readBytes(p); !ok {
			return errCorruptRecord
		}
		if fn != nil {
			fn(k, v)
		}
	}
	if len(p) != 0 {
		return errCorruptRecord
	}
	return nil
}

// decodeValues returns the values of a section that walkValues accepted.
func decodeValues(p []byte) (map[string]string, error) {
	values := make(map[string]string)
	err := walkValues(p, func(k, v []byte) { values[string(k)] = string(v) })
	return values, err
}

func readBytes(p []byte) ([]byte, []byte, bool) {
	l, n := binary.Uvarint(p)
	if n <= 0 || l > uint64(len(p)-n) {
		return nil, nil, false
	}
	p = p[n:]
	return p[:l], p[l:], true
}

// encodeRecord is the inverse of decodeHeader and decodeValues. rawValues, if
// not nil, is an undecoded values section that is copied as it is.
func encodeRecord(h recordHeader, values map[string]string, rawValues []byte) []byte {
	size := 2 + 5*binary.MaxVarintLen64 + len(h.amr)
	if rawValues != nil {
		size += len(rawValues)
	} else {
		size += binary.MaxVarintLen64
		for k, v := range values {
			size += len(k) + len(v) + 2*binary.MaxVarintLen64
		}
	}
	b := make([]byte, 0, size)
	var flags byte
	if h.persistent {
		flags |= flagPersistent
	}
	auth := min(max(h.authTime.UnixMilli()-h.created.UnixMilli(), 0), int64(maxDuration/time.Millisecond))
	version := byte(recordVersion)
	if h.amr == "" && auth == 0 {
		version = recordVersion1
	}
	b = append(b, version, flags)
	b = binary.AppendVarint(b, h.created.UnixMilli())
	b = binary.AppendUvarint(b, uint64(h.idle/time.Millisecond))
	b = binary.AppendUvarint(b, uint64(h.lifetime/time.Millisecond))
	if version == recordVersion {
		b = binary.AppendUvarint(b, uint64(auth))
		b = binary.AppendUvarint(b, uint64(len(h.amr)))
		b = append(b, h.amr...)
	}
	if rawValues != nil {
		return append(b, rawValues...)
	}
	b = binary.AppendUvarint(b, uint64(len(values)))
	for k, v := range values {
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
		b = binary.AppendUvarint(b, uint64(len(v)))
		b = append(b, v...)
	}
	return b
}

// A renewal's successor marker (see Manager.renew) is a record whose Data
// is successorVersion followed by the new store key. The version byte keeps
// it from ever decoding as a session, and its store key is not the hash of
// any token, so no cookie can load it.
const successorVersion = 0x80

func encodeSuccessor(newKey string) []byte {
	return append([]byte{successorVersion}, newKey...)
}

func decodeSuccessor(data []byte) (string, bool) {
	if len(data) != 1+2*sha256.Size || data[0] != successorVersion {
		return "", false
	}
	return string(data[1:]), true
}
