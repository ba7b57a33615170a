package session

import (
	"time"
	"unsafe"
)

// Record encoding (version 1), chosen so that Lua scripts can read and patch
// fields at fixed offsets without a decoder:
//
//	[0]      0x01
//	[1:13]   Expires, Unix milliseconds, 12 lower-case hex digits
//	[13:25]  index horizon: the user index covers the record until then
//	[25:37]  creation time, Unix milliseconds
//	[37:41]  len(UserID), 4 hex digits
//	[41:]    UserID, then Data
const (
	redisRecVersion = 0x01
	redisRecHeader  = 41
)

func redisPutHex(b []byte, v uint64) {
	const digits = "0123456789abcdef"
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = digits[v&0xf]
		v >>= 4
	}
}

func redisHex12(ms int64) string {
	var b [12]byte
	redisPutHex(b[:], uint64(ms))
	return string(b[:])
}

func redisParseHex[T redisText](b T) (int64, bool) {
	var v int64
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c >= '0' && c <= '9':
			v = v<<4 | int64(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | int64(c-'a'+10)
		default:
			return 0, false
		}
	}
	return v, true
}

// redisText is a record value as go-redis returns it.
type redisText interface{ ~string | ~[]byte }

func encodeRedisRecord(expires, horizon, created int64, userID string, data []byte) []byte {
	b := make([]byte, redisRecHeader+len(userID)+len(data))
	b[0] = redisRecVersion
	redisPutHex(b[1:13], uint64(expires))
	redisPutHex(b[13:25], uint64(horizon))
	redisPutHex(b[25:37], uint64(created))
	redisPutHex(b[37:41], uint64(len(userID)))
	copy(b[redisRecHeader:], userID)
	copy(b[redisRecHeader+len(userID):], data)
	return b
}

// decodeRedisRecord parses v. Data aliases v when v is a []byte and is a
// copy when it is a string; UserID shares v's memory when v is a string.
func decodeRedisRecord[T redisText](v T) (Record, bool) {
	exp, n, ok := redisRecordHeader(v)
	if !ok {
		return Record{}, false
	}
	rec := Record{
		UserID:  string(v[redisRecHeader : redisRecHeader+n]),
		Expires: time.UnixMilli(exp),
	}
	if d := v[redisRecHeader+n:]; len(d) > 0 {
		rec.Data = []byte(d)
	}
	return rec, true
}

// redisRecordHeader checks the fixed-width header of the record v and
// returns its expiry (Unix milliseconds) and the length of its user ID.
func redisRecordHeader[T redisText](v T) (exp, n int64, ok bool) {
	if len(v) < redisRecHeader || v[0] != redisRecVersion {
		return 0, 0, false
	}
	exp, ok1 := redisParseHex(v[1:13])
	_, ok2 := redisParseHex(v[13:25])
	_, ok3 := redisParseHex(v[25:37])
	n, ok4 := redisParseHex(v[37:41])
	if !ok1 || !ok2 || !ok3 || !ok4 || int64(len(v)-redisRecHeader) < n {
		return 0, 0, false
	}
	return exp, n, true
}

// decodeRedisRecordOwned is decodeRedisRecord for a value the caller owns
// and never changes (a client cache's fresh copy): the user ID and Data are
// views of v, not copies. Data is capped at its own end, so an append to it
// cannot write past it.
func decodeRedisRecordOwned(v []byte) (Record, bool) {
	exp, n, ok := redisRecordHeader(v)
	if !ok {
		return Record{}, false
	}
	rec := Record{Expires: time.UnixMilli(exp)}
	if n > 0 {
		rec.UserID = unsafe.String(&v[redisRecHeader], n)
	}
	if d := v[redisRecHeader+n:]; len(d) > 0 {
		rec.Data = d[:len(d):len(d)]
	}
	return rec, true
}

// redisHorizon returns how long the user index should cover a record created at
// created that now expires at exp: exp plus the record's age at exp, so the
// covered span doubles on each extension.
func redisHorizon(created, exp int64) int64 {
	if exp <= created {
		return exp
	}
	return exp + (exp - created)
}
