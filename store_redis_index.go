package session

import "context"

type redisIndexEntry struct {
	key   string
	score string
}

// listIndex prunes expired entries from userID's index and returns the rest.
func (s *RedisStore) listIndex(ctx context.Context, userID string, now int64) ([]redisIndexEntry, error) {
	res, err := redisIdxList.Run(ctx, s.client, []string{s.indexKey(userID)}, now).StringSlice()
	if err != nil {
		return nil, err
	}
	return redisPairs(res), nil
}

func redisPairs(flat []string) []redisIndexEntry {
	out := make([]redisIndexEntry, 0, len(flat)/2)
	for i := 0; i+1 < len(flat); i += 2 {
		out = append(out, redisIndexEntry{flat[i], flat[i+1]})
	}
	return out
}

// redisRemoveArgs turns entries into redisIdxRemove arguments.
func redisRemoveArgs(entries []redisIndexEntry) []any {
	args := make([]any, 0, 2*len(entries))
	for _, e := range entries {
		args = append(args, e.key, e.score)
	}
	return args
}
