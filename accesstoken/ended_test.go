package accesstoken

import (
	"strings"
	"testing"
	"time"
)

func TestEndedSessionsIsBoundedAndExpires(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	e := newEndedSessions(16)
	for i := range 100 {
		e.add(strings.Repeat("x", i+1), now.Add(time.Minute), now)
		if len(e.ids) > 16 {
			t.Fatalf("%d entries", len(e.ids))
		}
	}
	e.add("sid", now.Add(time.Minute), now)
	if !e.has("sid", now) || e.has("sid", now.Add(time.Minute)) {
		t.Fatal("remembered past its token's exp, or not at all")
	}
}
