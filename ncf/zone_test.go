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

// TestZoneValue: a Zone starts as UTC, Set loads a name, and a bad name
// is an error that leaves the zone as it was.
func TestZoneValue(t *testing.T) {
	z := UTC()
	if z.Location != time.UTC || z.String() != "UTC" {
		t.Fatalf("UTC() = %v %q", z.Location, z)
	}
	if err := z.Set("Europe/Berlin"); err != nil || z.Location.String() != "Europe/Berlin" || z.String() != "Europe/Berlin" {
		t.Fatalf("Set: %v, %v %q", err, z.Location, z)
	}
	if err := z.Set("Mars/Olympus"); err == nil || z.String() != "Europe/Berlin" {
		t.Errorf("Set of an unknown zone: %v, zone %q", err, z)
	}
}
