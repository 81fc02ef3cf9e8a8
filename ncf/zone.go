package ncf

import (
	"fmt"
	"time"
)

// LoadZone returns the time zone an IANA name (e.g. "Europe/Berlin") names,
// for reading or writing NCF timestamps, which carry no zone. "" and "UTC"
// are UTC. An unknown name is an error that quotes it.
func LoadZone(name string) (*time.Location, error) {
	if name == "" || name == "UTC" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", name, err)
	}
	return loc, nil
}
