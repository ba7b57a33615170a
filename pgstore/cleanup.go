package pgstore

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// cleanupGrace is how long past its expiry a row is kept before the cleaner
// deletes it. It is already invisible; the grace only keeps it for app
// servers whose clock is a little behind the cleaner's.
const cleanupGrace = time.Minute

// DeleteExpired deletes the rows that expired more than a minute ago, in
// batches (Config.CleanupBatch, 1,000 rows by default), one statement and
// one round trip each, until a batch comes back short or ctx ends. It returns
// how many rows it deleted. Rows are found through the expires index, so a
// run costs time in proportion to the expired rows, not to the table. Rows
// locked by another cleaner are skipped, so concurrent calls share the work.
func (s *Store) DeleteExpired(ctx context.Context) (int64, error) {
	cutoff := s.now().Add(-cleanupGrace)
	var total int64
	for {
		tag, err := s.pool.Exec(ctx, s.sql.deleteExpired, s.mode, cutoff, s.cleanupBatch)
		if err != nil {
			return total, fmt.Errorf("pgstore: delete expired: %w", err)
		}
		n := tag.RowsAffected()
		total += n
		if n < int64(s.cleanupBatch) {
			return total, nil
		}
	}
}

// startCleaner runs DeleteExpired every interval until Close.
func (s *Store) startCleaner(interval time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	s.stop, s.done = cancel, make(chan struct{})
	go func() {
		defer close(s.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if _, err := s.DeleteExpired(ctx); err != nil && ctx.Err() == nil && s.logger != nil {
				s.logger.LogAttrs(ctx, slog.LevelError, "pgstore: deleting expired sessions failed", slog.String("error", err.Error()))
			}
		}
	}()
}

// Close stops the cleaner goroutine, if New started one, and waits for it
// to return (a statement it is running is canceled). Call it before closing
// the pool (with defer, after the pool's defer): pgxpool's Close waits for a
// cleanup statement that is running, and a cleaner left on a closed pool
// fails at every interval, logging each failure to Config.Logger. Close does
// not close the pool, which belongs to the caller. It is idempotent; the Store keeps working after it,
// without a cleaner.
func (s *Store) Close() {
	s.closeOnce.Do(func() {
		if s.stop != nil {
			s.stop()
			<-s.done
		}
	})
}
