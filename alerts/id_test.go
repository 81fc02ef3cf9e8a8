package alerts

import (
	"strings"
	"testing"
)

func TestID(t *testing.T) {
	cases := []struct {
		instance    string
		source      uint64
		packet, sid int
		want        string
	}{
		{"test", 1, 42, 1000001, "test-1-42-1000001"},
		{"5f0c2a9e11d3", 18446744073709551615, 1, 1, "5f0c2a9e11d3-18446744073709551615-1-1"},
		{"", 0, 0, 0, "-0-0-0"},
	}
	for _, c := range cases {
		if got := ID(c.instance, c.source, c.packet, c.sid); got != c.want {
			t.Errorf("ID(%q, %d, %d, %d) = %q, want %q", c.instance, c.source, c.packet, c.sid, got, c.want)
		}
	}
	if got := SummaryID("test-1-42-1000001"); got != "test-1-42-1000001-summary" {
		t.Errorf("SummaryID = %q", got)
	}
}

func TestNewInstance(t *testing.T) {
	a, b := NewInstance(), NewInstance()
	if len(a) != 12 || strings.Trim(a, "0123456789abcdef") != "" {
		t.Errorf("NewInstance() = %q, want 12 lowercase hex digits", a)
	}
	if a == b {
		t.Errorf("two instances are both %q", a)
	}
}
