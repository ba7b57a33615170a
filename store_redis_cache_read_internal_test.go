package session

import "testing"

func TestRESPBlobAcceptsOnlyAWholeBlobString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"$5\r\nhello\r\n", "hello", true},
		{"$0\r\n\r\n", "", true},
		{"$2\r\na\r\n\r\n", "a\r", false}, // length says 2 but the frame is longer
		{"$3\r\na\r\n\r\n", "a\r\n", true},
		{"$5\r\nhell\r\n", "", false},
		{"$5\r\nhello!\r\n", "", false},
		{"$5\r\nhelloXY", "", false},
		{"$-1\r\n", "", false},
		{"_\r\n", "", false},
		{"+OK\r\n", "", false},
		{"-ERR x\r\n", "", false},
		{"$x\r\nhello\r\n", "", false},
		{"$5\nhello\r\n", "", false},
		{"", "", false},
	}
	for _, tc := range tests {
		got, ok := respBlob([]byte(tc.in))
		if ok != tc.ok || (ok && string(got) != tc.want) {
			t.Errorf("respBlob(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
