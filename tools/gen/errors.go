package gen

import "errors"

// ErrConfig reports an invalid Config.
var ErrConfig = errors.New("gen: invalid config")
