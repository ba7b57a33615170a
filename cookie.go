package session

// maxCookieLen caps a session cookie's value. Ours are about 100 bytes; a
// longer value is not ours and is dropped before any decoding work.
const maxCookieLen = 256
