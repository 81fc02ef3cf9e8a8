// Package ncf reads and writes CommView NCF records and the injection
// frames Vigil sends back to CommView.
//
// An NCF stream (a CommView mirror connection or an .ncf log file) is a
// sequence of records back to back, with no file header: a 24-byte
// little-endian header followed by data_len bytes of frame. The header
// layout is:
//
//	offset size field
//	 0     2    data_len         bytes of body after the header
//	 2     2    source_data_len  length before compression (= data_len otherwise)
//	 4     1    version          0
//	 5     2    year             local time of the capturing machine, no zone
//	 7     1    month            1-12
//	 8     1    day              1-31
//	 9     1    hours            0-23
//	10     1    minutes          0-59
//	11     1    seconds          0-60
//	12     4    microseconds     0-999999
//	16     1    flags            bits 0-3 medium; 0x10 decrypted; 0x20 broken;
//	                             0x40 compressed; 0x80 reserved
//	17     1    signal level %   WiFi
//	18     1    rate             WiFi: Mbit/s x 2, low byte
//	19     1    band             WiFi
//	20     1    channel          WiFi
//	21     1    direction        Ethernet: 0 pass, 1 in, 2 out; WiFi: high byte of rate
//	22     1    signal dBm       WiFi, absolute value
//	23     1    noise dBm        WiFi, absolute value
//
// Timestamps carry no zone: the zone of the capturing machine is
// configuration (ReaderConfig.Location, NewWriter's loc), UTC by default.
//
// The injection direction (Vigil to CommView) carries frames as a 2-byte
// little-endian length followed by the frame: see AppendInjection and
// InjectionReader.
//
// CommView for WiFi's extended format (NCFX, 20-byte headers with a 32-bit
// record length and an RF sub-header) is a different format and is not read
// by this package; see LooksLikeNCFX.
//
// A Reader stops at the first impossible header, which on a live stream
// means the connection can no longer be trusted; with ReaderConfig.Resume
// (for files) it skips the bad record by its data_len, or scans to the
// next plausible record, reports what it skipped (*SkipError) and goes on.
// A compressed record (flag 0x40; CommView's scheme is undocumented) is
// returned as stored, its WireLen the original length.
//
// The package uses the standard library only, checks every length before
// slicing, never allocates more than HeaderLen+MaxDataLen bytes per reader,
// and does not panic on hostile input.
package ncf
