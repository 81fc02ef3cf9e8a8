//go:build !race

package engine

// raceEnabled: the race detector is on (race_test.go).
const raceEnabled = false
