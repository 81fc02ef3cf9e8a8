package ncf

import "encoding/binary"

// NCFXHeaderLen is the size of a record header of CommView for WiFi's
// extended format (NCFX).
const NCFXHeaderLen = 20

// LooksLikeNCFX reports whether b starts with a plausible NCFX record
// header: a 32-bit record length that covers at least the 20-byte header,
// a date and time in range (year 2000 or later), medium 0 (Ethernet) with
// direction 0-2, or medium 1 (WiFi) with a decryption flag of 0 or 1 and
// direction 0. This is the check Wireshark's reader applies.
//
// NCF and NCFX cannot both match real data: NCF's byte 4 is the version (0)
// where NCFX has the low byte of the year, which is zero only in years that
// are multiples of 256 (2048, 2304, ...). Callers should try NCF first.
func LooksLikeNCFX(b []byte) bool {
	if len(b) < NCFXHeaderLen {
		return false
	}
	recLen := binary.LittleEndian.Uint32(b[0:4])
	year := binary.LittleEndian.Uint16(b[4:6])
	month, day, hour, minute, sec := b[6], b[7], b[8], b[9], b[10]
	usec := binary.LittleEndian.Uint32(b[11:15])
	medium, decrypted, dir := b[15], b[16], b[17]
	switch {
	case recLen < NCFXHeaderLen, year < 2000, month < 1, month > 12, day < 1, day > 31,
		hour > 23, minute > 59, sec > 60, usec >= 1000000:
		return false
	}
	switch medium {
	case 0:
		return dir <= 2
	case 1:
		return decrypted <= 1 && dir == 0
	}
	return false
}
