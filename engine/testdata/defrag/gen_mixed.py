# Writes defrag-mixed.pcap: IPv6 and IPv4 fragments for the engine's
# defragmentation test (see README.md beside it).
import struct

def eth(et):
    return bytes.fromhex("020000000002 020000000001".replace(" ", "")) + struct.pack(">H", et)

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(">%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def ip4(src, dst, ident, proto, off, more, data):
    fo = (off // 8) | (0x2000 if more else 0)
    h = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(data), ident, fo, 64, proto, 0, bytes(src), bytes(dst))
    h = h[:10] + struct.pack(">H", csum(h)) + h[12:]
    return eth(0x0800) + h + data

def ip6(src, dst, ident, proto, off, more, data, hbh=False):
    ext = b""
    nh = 44
    if hbh:
        ext = bytes([44, 0, 1, 4, 0, 0, 0, 0])
        nh = 0
    fh = struct.pack(">BBHI", proto, 0, off | (1 if more else 0), ident)
    body = ext + fh + data
    h = struct.pack(">IHBB16s16s", 0x60000000, len(body), nh, 64, bytes(src), bytes(dst))
    return eth(0x86dd) + h + body

C6 = bytes.fromhex("20010db8000000000000000000000001")
S6 = bytes.fromhex("20010db8000000000000000000000002")
C4, S4 = bytes([192, 0, 2, 7]), bytes([198, 51, 100, 20])

msg = b"<13>Nov 14 10:00:00 host app: run EVILCMD now " + b"y" * 18
udp = struct.pack(">HHHH", 40009, 514, 8 + len(msg), 0) + msg
cut = 48  # inside "EVILCMD"
assert b"EVILCMD" not in udp[:cut] and b"EVILCMD" not in udp[cut:]
# TCP SYN to port 23, split 8 + 12 bytes.
syn = struct.pack(">HHIIBBHHH", 40010, 23, 9000, 0, 0x50, 0x02, 64240, 0, 0)
ack = struct.pack(">HHIIBBHHH", 40010, 23, 9001, 1, 0x50, 0x10, 64240, 0, 0)
over = bytes(range(56))
frames = [
    ip6(C6, S6, 0x1234, 17, cut, False, udp[cut:], hbh=True),   # 1: last fragment first
    ip6(C6, S6, 0x1234, 17, 0, True, udp[:cut], hbh=True),      # 2: completes the syslog datagram
    ip6(C6, S6, 0x5678, 17, 0, True, struct.pack(">HHHH", 40011, 514, 64, 0) + over[8:32]),  # 3
    ip6(C6, S6, 0x5678, 17, 24, True, b"EVILCMD!" * 3),         # 4: overlaps frame 3 (RFC 5722: dropped)
    ip6(C6, S6, 0x5678, 17, 48, False, b"EVILCMD!"),            # 5: would complete it
    ip4(C4, S4, 0x3333, 6, 0, True, syn[:8]),                   # 6: tiny first fragment
    ip4(C4, S4, 0x3334, 6, 0, False, ack),                      # 7: the same flow, unfragmented
    ip4(C4, S4, 0x3333, 6, 8, False, syn[8:]),                  # 8: completes the SYN
]
with open("defrag-mixed.pcap", "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i, fr in enumerate(frames):
        f.write(struct.pack("<IIII", 1700000000 + i, 0, len(fr), len(fr)))
        f.write(fr)
