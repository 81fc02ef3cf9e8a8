package ncf

import (
	"strings"
	"testing"
	"time"
)

func TestLoadZone(t *testing.T) {
	for _, name := range []string{"", "UTC"} {
		if z, err := LoadZone(name); err != nil || z != time.UTC {
			t.Errorf("LoadZone(%q) = %v, %v; want UTC", name, z, err)
		}
	}
	if z, err := LoadZone("Europe/Berlin"); err != nil || z.String() != "Europe/Berlin" {
		t.Errorf("LoadZone(Europe/Berlin) = %v, %v", z, err)
	}
	if _, err := LoadZone("Mars/Olympus"); err == nil || !strings.Contains(err.Error(), `time zone "Mars/Olympus"`) {
		t.Errorf("unknown zone: %v, want an error quoting it", err)
	}
}
