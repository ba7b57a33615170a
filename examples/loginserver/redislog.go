package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// redisLog routes go-redis's own log lines (dial failures, pool and Sentinel
// events) into the server's slog logger, at Warn, as "redis client" entries
// with the text in "detail". During an outage go-redis repeats the same
// line for every failed dial; redisLog writes each kind of line at most
// once per redisLogEvery and counts the ones it dropped in "similar_dropped"
// of the next. Install it with redis.SetLogger (go-redis has one logger per
// process).
type redisLog struct {
	log   *slog.Logger
	mu    sync.Mutex
	kinds map[string]*redisLogKind
}

type redisLogKind struct {
	last    time.Time
	dropped int
}

const redisLogEvery = 10 * time.Second

func newRedisLog(log *slog.Logger) *redisLog {
	return &redisLog{log: log, kinds: map[string]*redisLogKind{}}
}

// Printf implements go-redis's logging interface.
func (l *redisLog) Printf(ctx context.Context, format string, v ...any) {
	text := strings.TrimSpace(fmt.Sprintf(format, v...))
	// The format tells the kinds of line apart, unless it is a bare "%s".
	kind := format
	if strings.Trim(format, "%s \n") == "" {
		kind = truncate(text, 48)
	}
	now := time.Now()
	l.mu.Lock()
	k := l.kinds[kind]
	if k == nil {
		if len(l.kinds) >= 256 { // bound the map; go-redis has far fewer kinds
			clear(l.kinds)
		}
		k = &redisLogKind{}
		l.kinds[kind] = k
	}
	if !k.last.IsZero() && now.Sub(k.last) < redisLogEvery {
		k.dropped++
		l.mu.Unlock()
		return
	}
	dropped := k.dropped
	k.last, k.dropped = now, 0
	l.mu.Unlock()
	attrs := []any{"detail", text}
	if dropped > 0 {
		attrs = append(attrs, "similar_dropped", dropped)
	}
	l.log.WarnContext(ctx, "redis client", attrs...)
}
