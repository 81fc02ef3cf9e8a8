package replay

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// ackedBytes returns how many bytes written on conn its peer's TCP has
// acknowledged (TCP_INFO's tcpi_bytes_acked), still readable once the
// connection is reset. ok is false when it cannot tell.
func ackedBytes(conn net.Conn) (n int64, ok bool) {
	sc, isSys := conn.(syscall.Conn)
	if !isSys {
		return 0, false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return 0, false
	}
	var info *unix.TCPInfo
	cerr := raw.Control(func(fd uintptr) { info, err = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO) })
	if cerr != nil || err != nil {
		return 0, false
	}
	return int64(info.Bytes_acked), true
}
