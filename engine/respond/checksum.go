package respond

// sum adds b to the running ones' complement sum s (RFC 1071), as 16-bit
// big-endian words; an odd trailing byte is padded with zero.
func sum(s uint32, b []byte) uint32 {
	n := len(b) &^ 1
	for i := 0; i < n; i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)&1 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	return s
}

// fold folds the running sum into the 16-bit checksum field value.
func fold(s uint32) uint16 {
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// pseudo returns the running sum of the TCP/UDP/ICMPv6 pseudo-header
// (RFC 793 for IPv4, RFC 8200 section 8.1 for IPv6); src and dst are 4 or
// 16 bytes.
func pseudo(src, dst []byte, proto uint8, length int) uint32 {
	s := sum(0, src)
	s = sum(s, dst)
	s += uint32(proto)
	s += uint32(length>>16) + uint32(length&0xffff)
	return s
}
