//go:build !linux

package replay

import "net"

// ackedBytes cannot tell on this system: after a lost connection every
// record written on it is sent again.
func ackedBytes(net.Conn) (int64, bool) { return 0, false }
