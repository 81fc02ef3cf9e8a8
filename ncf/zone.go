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

// Zone is a zone of NCF timestamps given by name, as a command-line value
// (it has flag.Value's methods): Set loads the name with LoadZone.
type Zone struct {
	*time.Location
	Name string
}

// UTC returns a Zone holding UTC.
func UTC() *Zone { return &Zone{time.UTC, "UTC"} }

// String returns the zone's name.
func (z *Zone) String() string { return z.Name }

// Set loads the zone name names; on an error z is unchanged.
func (z *Zone) Set(name string) error {
	loc, err := LoadZone(name)
	if err == nil {
		z.Location, z.Name = loc, name
	}
	return err
}
