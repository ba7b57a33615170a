//go:build race

package session

// raceEnabled: the race detector is on. Under it sync.Pool drops what it
// is given at random, so allocation counts of pooled paths mean nothing.
const raceEnabled = true
