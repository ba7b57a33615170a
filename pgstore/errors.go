package pgstore

import "errors"

// ErrInvalidConfig is returned, wrapped and naming the field at fault, by
// New for a Config it cannot use, a nil pool, or more than one Config.
var ErrInvalidConfig = errors.New("pgstore: invalid config")

// ErrSchema is returned by Setup when the table exists but lacks a column the
// store needs, or has it with another type (for example, another library's
// table of the same name).
var ErrSchema = errors.New("pgstore: table does not have the store's columns")

// errStoreKey is returned for a store key that is not 64 lower-case hex
// digits (the form of the SHA-256 keys the Manager passes), without a round
// trip. Only a caller other than the Manager can pass one. It is not
// exported: the family's ErrInvalidKey means an unusable signing key, and
// no caller acts on this one other than as a failed operation. The key
// itself is never part of an error.
var errStoreKey = errors.New("pgstore: store key is not 64 lower-case hex digits")
