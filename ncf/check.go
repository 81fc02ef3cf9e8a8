package ncf

import "time"

// CheckHeader validates b as an NCF record header (at least HeaderLen
// bytes) without reading a stream, as Reader.Next would; the *HeaderError
// it returns has Offset 0. It lets format detectors recognise NCF by
// content.
func CheckHeader(b []byte) (Header, error) {
	var h Header
	if len(b) < HeaderLen {
		return h, &HeaderError{Field: "header", Value: int64(len(b)), Reason: "shorter than 24 bytes"}
	}
	if err := parseHeader(&h, b[:HeaderLen], time.UTC, MaxDataLen, 0); err != nil {
		return h, err
	}
	return h, nil
}
