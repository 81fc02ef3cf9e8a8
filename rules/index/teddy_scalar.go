//go:build !(goexperiment.simd && amd64)

package index

// teddy is the vectorised filter of teddy.go, built only with
// GOEXPERIMENT=simd on amd64; elsewhere the scalar matchers do its work.
type teddy struct{}

// newTeddy returns nil: without the simd experiment there is no teddy.
func newTeddy([]string) *teddy { return nil }

func newTeddyOf([]string, []bool) *teddy { return nil }

func buildTeddy([]string) *teddy { return nil }

func buildTeddyOf([]string, []bool) *teddy { return nil }

const teddyMin = 0

// hasVBMI and useVBMI choose between the vectorised filters of teddy.go;
// here there is neither.
const hasVBMI = false

var useVBMI = false

func (*teddy) scan(string, int, int, func(int, int32)) {}
