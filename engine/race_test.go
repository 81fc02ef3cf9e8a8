//go:build race

package engine

// raceEnabled: the race detector is on. It makes sync.Pool drop some of
// what is put back, at random, so tests of allocations skip.
const raceEnabled = true
