package session

import (
	"bytes"
	"context"
	"strconv"
	"unsafe"
)

// cachedRecord answers Get from the client's cache when it holds the
// record of key: from a RedisClientCache's front (see
// RedisClientCache.record), or else without going through go-redis's
// command path (a command, its arguments, hooks and the decoded reply:
// about 7 allocations and most of a cached read's time). It asks the cache exactly
// what go-redis's own GET would ask it, under the same cache key, so it
// serves what go-redis would serve, and nothing once go-redis has dropped
// an entry. A miss, a cached "no such key", or anything it does not
// recognise reports hit false, and Get goes to go-redis as before.
//
// The cache key is go-redis's: its namespace for the client (cacheNS),
// then the command as RESP ("*2\r\n$3\r\nget\r\n$<len>\r\n<key>\r\n").
// TestRedisClientCacheReadSkipsTheCommandPath fails if a go-redis upgrade
// changes it.
//
// On go-redis's own LocalCache it allocates nothing of its own: that
// cache's Get only looks the key up (it keeps no reference to it), so the
// key is a string over a stack buffer; and the value it returns is a fresh
// copy, so the record's user ID and Data are views of it. Another Cache may
// keep the key or share the value it returns: both are copied.
func (s *RedisStore) cachedRecord(ctx context.Context, key string) (rec Record, hit bool) {
	switch {
	case s.front != nil:
		return s.front.record(ctx, s, key)
	case s.cache == nil:
		return Record{}, false
	}
	var buf [256]byte
	b := s.appendCacheKey(buf[:0], key)
	var raw []byte
	var ok bool
	if s.localCache != nil {
		raw, ok = s.localCache.Get(ctx, unsafe.String(unsafe.SliceData(b), len(b)))
	} else {
		raw, ok = s.cache.Get(ctx, string(b))
	}
	if !ok {
		return Record{}, false
	}
	v, ok := respBlob(raw)
	switch {
	case !ok:
		return Record{}, false
	case s.localCache != nil:
		return decodeRedisRecordOwned(v)
	}
	return decodeRedisRecord(v)
}

// appendCacheKey appends the client cache's key of the record of key.
func (s *RedisStore) appendCacheKey(b []byte, key string) []byte {
	b = append(b, s.cacheNS...)
	b = append(b, "*2\r\n$3\r\nget\r\n$"...)
	b = strconv.AppendInt(b, int64(len(s.prefix)+len(key)), 10)
	b = append(b, "\r\n"...)
	b = append(b, s.prefix...) // the Redis key, s.recordKey(key), without a string of its own
	b = append(b, key...)
	return append(b, "\r\n"...)
}

// respBlob returns the payload of a RESP blob string ("$5\r\nhello\r\n"),
// or false for anything else (a null, an error, a malformed reply).
func respBlob(raw []byte) ([]byte, bool) {
	if len(raw) < 4 || raw[0] != '$' {
		return nil, false
	}
	i := bytes.IndexByte(raw, '\r')
	if i < 2 || i+1 >= len(raw) || raw[i+1] != '\n' {
		return nil, false
	}
	n, err := strconv.Atoi(string(raw[1:i]))
	start := i + 2
	if err != nil || n < 0 || len(raw) != start+n+2 || raw[start+n] != '\r' || raw[start+n+1] != '\n' {
		return nil, false
	}
	return raw[start : start+n], true
}
