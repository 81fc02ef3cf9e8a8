package threshold

import "errors"

// ErrSpec is returned (wrapped) by Spec.Validate for an invalid Spec.
var ErrSpec = errors.New("threshold: invalid spec")
