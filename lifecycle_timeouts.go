package session

import "time"

// bounded applies the current configuration to a session saved under an
// earlier one. A record or sealed cookie carries the timeouts it was created
// with; when the Config now gives its kind (normal or remember-me) a shorter
// idle timeout or lifetime, the shorter one applies, so shortening them ends
// older sessions too (in cookie-only mode the operator's only lever, and in
// server-side mode the same rule). Timeouts are never lengthened. The idle
// deadline is cut by as much as the idle timeout shrank: measured from the
// last extension, which may lie up to half the old window before the last
// use, so after a cut a session ends early rather than late.
func (m *Manager) bounded(h recordHeader, expires time.Time) (recordHeader, time.Time) {
	t := m.normal
	if h.persistent {
		t = m.remember
	}
	if h.idle > t.idle {
		expires = expires.Add(t.idle - h.idle)
		h.idle = t.idle
	}
	h.lifetime = min(h.lifetime, t.lifetime)
	if end := h.created.Add(h.lifetime); end.Before(expires) {
		expires = end
	}
	return h, expires
}

// deadline is when a session used at now expires: the idle window, capped
// by the absolute lifetime.
func deadline(h recordHeader, now time.Time) time.Time {
	idle, abs := now.Add(h.idle), h.created.Add(h.lifetime)
	if abs.Before(idle) {
		return abs
	}
	return idle
}

// extensionDue reports whether the stored expiry should move to next: once
// half the idle window has passed since it was last set, or when next is
// the absolute end of the session and the stored expiry falls short of it
// (near the end of its lifetime the capped deadline grows by less than half
// a window, and an active session must still live to its Lifetime).
func extensionDue(h recordHeader, stored, next time.Time) bool {
	if next.Sub(stored) >= h.idle/2 {
		return true
	}
	end := h.created.Add(h.lifetime)
	return next.Equal(end) && stored.Before(end)
}
