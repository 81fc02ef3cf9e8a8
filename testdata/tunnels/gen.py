#!/usr/bin/env python3
"""Writes the tunnel test captures of this folder and tunnels.yaml, the rules
that match their inner packets, and checks each capture with tshark.

One capture per encapsulation. Every rule has an inline test (the frames it
must match), run by `vigil lint testdata/tunnels` and by the engine's Go
tests; where tshark decodes the inner packet, the rule's Wireshark form must
select the same frames.

Run: python3 gen.py (scapy 2.5, e.g. Debian's python3-scapy; tshark for the
check). Output is deterministic. Addresses are documentation ranges
(192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32), MAC
addresses locally administered but where a test needs otherwise.
"""
import os
import struct
import subprocess
import sys

os.environ.setdefault("SCAPY_USE_LIBPCAP", "no")
from scapy.all import (DNS, DNSQR, IP, TCP, UDP, ICMP, IPv6, Ether, Raw, ARP,
                       GRE, Dot1Q, conf, wrpcap)
from scapy.layers.ppp import PPPoE, PPP

conf.verb = 0
OUT = os.path.dirname(os.path.abspath(__file__))
T0 = 1700000000.0

C_MAC, S_MAC = "02:00:00:00:00:01", "02:00:00:00:00:02"
I_MAC1, I_MAC2 = "02:00:00:00:01:01", "02:00:00:00:01:02"
OUT4A, OUT4B = "203.0.113.1", "203.0.113.2"
OUT6A, OUT6B = "2001:db8:1::1", "2001:db8:1::2"
IN4A, IN4B = "192.0.2.10", "198.51.100.20"
IN6A, IN6B = "2001:db8::10", "2001:db8::20"


def b(p):
    return bytes(p)


def syn(dport, v6=False):
    ip = IPv6(src=IN6A, dst=IN6B) if v6 else IP(src=IN4A, dst=IN4B)
    return ip / TCP(sport=40000, dport=dport, flags="S", seq=1000)


def dnsq(v6=False):
    ip = IPv6(src=IN6A, dst=IN6B) if v6 else IP(src=IN4A, dst=IN4B)
    return ip / UDP(sport=53000, dport=53) / DNS(id=0x4242, rd=1, qd=DNSQR(qname="www.example.com"))


def eth(et):
    return bytes.fromhex(S_MAC.replace(":", "")) + bytes.fromhex(C_MAC.replace(":", "")) + struct.pack(">H", et)


def outer4(proto, payload):
    return b(Ether(src=C_MAC, dst=S_MAC) / IP(src=OUT4A, dst=OUT4B, proto=proto) / Raw(payload))


def outer6(nh, payload):
    return b(Ether(src=C_MAC, dst=S_MAC) / IPv6(src=OUT6A, dst=OUT6B, nh=nh) / Raw(payload))


def udp4(sport, dport, payload):
    return b(Ether(src=C_MAC, dst=S_MAC) / IP(src=OUT4A, dst=OUT4B) / UDP(sport=sport, dport=dport) / Raw(payload))


def gre(proto, payload, key=None, seq=None, csum=False):
    flags = (0x80 if csum else 0) | (0x20 if key is not None else 0) | (0x10 if seq is not None else 0)
    h = struct.pack(">BBH", flags, 0, proto)
    if csum:
        h += b"\x00\x00\x00\x00"  # checksum not computed: receivers of a capture do not check it
    if key is not None:
        h += struct.pack(">I", key)
    if seq is not None:
        h += struct.pack(">I", seq)
    return h + payload


def inner_eth(payload_pkt, dst=I_MAC2):
    return b(Ether(src=I_MAC1, dst=dst) / payload_pkt)


def mpls(label, bottom, ttl=64, exp=0):
    return struct.pack(">I", label << 12 | exp << 9 | (1 if bottom else 0) << 8 | ttl)


def radiotap(flags):
    # version 0, length 10, present: Flags (bit 1) and Rate (bit 2)
    return struct.pack("<BBHI", 0, 0, 10, (1 << 1) | (1 << 2)) + bytes([flags, 12])


def wlan_hdr(qos):
    # data frame, ToDS: addr1 BSSID, addr2 SA, addr3 DA
    fc = bytes([0x88 if qos else 0x08, 0x01])
    h = fc + b"\x00\x00" + bytes.fromhex("020000000a01") + bytes.fromhex(C_MAC.replace(":", "")) \
        + bytes.fromhex(S_MAC.replace(":", "")) + b"\x10\x00"
    return h + (b"\x00\x00" if qos else b"")


SNAP_IP = b"\xaa\xaa\x03\x00\x00\x00\x08\x00"

# Each case: capture, pcap link type, frames, and rules: (sid, name, condition,
# Wireshark display filter or None where tshark 4.0 does not decode the inner
# packet, frames the rule must match).
CASES = [
    ("pppoe.pcap", 1, [
        b(Ether(src=C_MAC, dst=S_MAC) / PPPoE(sessionid=0x1234) / PPP(proto=0x0021) / syn(22)),
        b(Ether(src=C_MAC, dst=S_MAC) / PPPoE(sessionid=0x1234) / PPP(proto=0x0057) / syn(22, v6=True)),
        # LCP echo request: a control protocol, no inner packet
        b(Ether(src=C_MAC, dst=S_MAC) / PPPoE(sessionid=0x1234) / PPP(proto=0xc021) / Raw(bytes.fromhex("0901000800000000"))),
    ], [
        (91001, "SSH SYN inside a PPPoE session", "pppoes && tcp.flags.syn && tcp.dstport == 22", "pppoes && tcp.flags.syn == 1 && tcp.dstport == 22", [1, 2]),
        (91002, "inner IPv4 destination", 'ip.dst == "198.51.100.20"', "ip.dst == 198.51.100.20", [1]),
        (91003, "LCP on session 0x1234", "pppoe.session_id == 0x1234 && ppp.protocol == 0xc021", "pppoe.session_id == 0x1234 && ppp.protocol == 0xc021", [3]),
    ]),
    ("gre.pcap", 1, [
        outer4(47, gre(0x0800, b(syn(23)))),
        outer6(47, gre(0x86dd, b(syn(23, v6=True)), key=7)),
        outer4(47, gre(0x6558, inner_eth(dnsq()))),  # transparent Ethernet bridging
        outer4(47, gre(0x0800, b(IP(src=IN4A, dst=IN4B) / ICMP(type=8, id=1, seq=1)), seq=9, csum=True)),
    ], [
        (91101, "telnet SYN inside GRE", "gre && tcp.dstport == 23", "gre && tcp.dstport == 23", [1, 2]),
        (91102, "DNS query bridged over GRE", 'gre.proto == 0x6558 && dns.qry.name == "www.example.com"', 'gre.proto == 0x6558 && dns.qry.name == "www.example.com"', [3]),
        (91103, "echo request from the tunnel end 203.0.113.1", 'icmp.type == 8 && tunnel.src_ip == "203.0.113.1"', "icmp.type == 8 && ip.src == 203.0.113.1", [4]),
        (91104, "GRE key 7", "gre.key == 7", "gre.key == 7", [2]),
        (91105, "inner IPv6 source", 'ipv6.src == "2001:db8::10" && tunnel.dest_ip == "2001:db8:1::2"', "ipv6.src == 2001:db8::10 && ipv6.dst == 2001:db8:1::2", [2]),
    ]),
    ("erspan.pcap", 1, [
        outer4(47, gre(0x88be, inner_eth(syn(80)))),  # type I: no sequence number, no ERSPAN header
        outer4(47, gre(0x88be, struct.pack(">HHI", 1 << 12 | 10, 5, 0) + inner_eth(syn(80)), seq=1)),  # type II, VLAN 10, session 5
        outer4(47, gre(0x22eb, struct.pack(">HHIHH", 2 << 12, 6, 0, 0, 0) + inner_eth(syn(80)), seq=2)),  # type III, session 6
    ], [
        (91201, "HTTP SYN mirrored by ERSPAN", "erspan && tcp.dstport == 80", "erspan && tcp.dstport == 80", [1, 2, 3]),
        (91202, "ERSPAN type II or III", "erspan.version >= 1 && tcp.dstport == 80", "erspan.version >= 1 && tcp.dstport == 80", [2, 3]),
        (91203, "ERSPAN type III session 6", "erspan.version == 2 && erspan.spanid == 6", "erspan.version == 2 && erspan.spanid == 6", [3]),
    ]),
    ("vxlan.pcap", 1, [
        udp4(51000, 4789, struct.pack(">II", 0x08000000, 42 << 8) + inner_eth(
            IP(src=IN4A, dst=IN4B) / TCP(sport=40004, dport=80, flags="PA", seq=1, ack=1)
            / Raw(b"GET /etc/passwd HTTP/1.1\r\nHost: www.example.com\r\n\r\n"))),
        udp4(51001, 4789, struct.pack(">II", 0x08000000, 43 << 8) + inner_eth(
            Dot1Q(vlan=300) / ARP(op=1, hwsrc=I_MAC1, psrc=IN4A, pdst=IN4B), dst="ff:ff:ff:ff:ff:ff")),
    ], [
        (91301, "GET of /etc/passwd inside VXLAN 42", 'vxlan.vni == 42 && http.request.uri contains "/etc/passwd"', 'vxlan.vni == 42 && http.request.uri contains "/etc/passwd"', [1]),
        (91302, "ARP in VLAN 300 inside VXLAN", "arp && vlan.id == 300 && tunnel.dest_port == 4789", "arp && vlan.id == 300 && udp.dstport == 4789", [2]),
    ]),
    ("geneve.pcap", 1, [
        # an 8-byte option (class 0x0102, type 0x80, 4 bytes of data), Ethernet payload
        udp4(52000, 6081, struct.pack(">BBHI", 2, 0, 0x6558, 77 << 8) + struct.pack(">HBB", 0x0102, 0x80, 1) + b"\x00\x00\x00\x01"
             + inner_eth(syn(443))),
        udp4(52001, 6081, struct.pack(">BBHI", 0, 0, 0x0800, 78 << 8) + b(dnsq())),
    ], [
        (91401, "HTTPS SYN in Geneve 77", "geneve.vni == 77 && tcp.dstport == 443", "geneve.vni == 77 && tcp.dstport == 443", [1]),
        (91402, "DNS inside Geneve", "geneve && dns.qry.name == \"www.example.com\"", "geneve && dns.qry.name == \"www.example.com\"", [2]),
    ]),
    # tshark 4.0 decodes IP over MPLS, but its pseudowire heuristic, which looks
    # the address prefixes up in its manufacturer table, takes frame 3's
    # control word for the start of an address and frame 4's addresses for a
    # control word: the pseudowire rules have no Wireshark form.
    ("mpls.pcap", 1, [
        eth(0x8847) + mpls(100, False) + mpls(200, True, ttl=63) + b(syn(23)),
        eth(0x8847) + mpls(300, True) + b(syn(23, v6=True)),
        # Ethernet pseudowire with a control word (RFC 4385: 0000, flags, length 0, sequence 7)
        eth(0x8847) + mpls(400, True) + struct.pack(">I", 7) + inner_eth(syn(23)),
        # Ethernet pseudowire without control word; the inner destination starts with a 0 nibble
        eth(0x8847) + mpls(500, True) + inner_eth(syn(23), dst="00:00:5e:00:53:01"),
    ], [
        (91501, "telnet SYN over MPLS", "mpls && tcp.dstport == 23 && tcp.flags.syn", None, [1, 2, 3, 4]),
        (91502, "label 200, second in the stack", "mpls.label == 200 && mpls.ttl == 63", "mpls.label == 200 && mpls.ttl == 63", [1]),
        (91503, "IP over MPLS", "mpls && (ip || ipv6) && !pweth && tcp.dstport == 23", "mpls && tcp.dstport == 23", [1, 2]),
        (91504, "pseudowire with control word", "pweth.cw && tcp.dstport == 23", None, [3]),
        (91505, "pseudowire without control word", "pweth && !pweth.cw && tcp.dstport == 23", None, [4]),
    ]),
    ("ipip.pcap", 1, [
        outer4(4, b(syn(25))),            # 4in4
        outer4(41, b(syn(25, v6=True))),  # 6in4
        outer6(4, b(syn(25))),            # 4in6
        outer6(41, b(syn(25, v6=True))),  # 6in6
    ], [
        (91601, "SMTP SYN one tunnel deep", "tcp.dstport == 25 && tunnel.depth == 1", "tcp.dstport == 25", [1, 2, 3, 4]),
        (91602, "IPv6 inside IPv4", 'ipv6 && tunnel.dest_ip == "203.0.113.2"', "ipv6 && ip.dst == 203.0.113.2", [2]),
        (91603, "IPv4 inside IPv6", 'ip.src == "192.0.2.10" && tunnel.src_ip == "2001:db8:1::1" && !ipv6', "ip.src == 192.0.2.10 && ipv6.src == 2001:db8:1::1 && ipv6.nxt == 4", [3]),
    ]),
    ("teredo.pcap", 1, [
        udp4(3544, 40000, b(IPv6(src="2001:0:cb00:7101::1", dst="2001:0:cb00:7102::2") / TCP(sport=40000, dport=80, flags="S"))),
        # origin indication (port and address obfuscated), then a bubble: IPv6, no next header
        udp4(3544, 40001, struct.pack(">HH", 0, 40001 ^ 0xffff) + bytes(x ^ 0xff for x in bytes([203, 0, 113, 9]))
             + b(IPv6(src="fe80::8000:ffff:ffff:fffe", dst="fe80::1", nh=59))),
        # authentication header (no client id, a 2-byte value, nonce, confirmation), then origin indication
        udp4(3544, 40002, struct.pack(">HBB", 1, 0, 2) + b"\xaa\xbb" + bytes(range(8)) + b"\x00"
             + struct.pack(">HH", 0, 40002 ^ 0xffff) + bytes(x ^ 0xff for x in bytes([203, 0, 113, 9]))
             + b(IPv6(src="2001:0:cb00:7101::1", dst="2001:0:cb00:7102::2") / TCP(sport=40002, dport=80, flags="S"))),
    ], [
        (91701, "HTTP SYN over Teredo", "teredo && tcp.dstport == 80", "teredo && tcp.dstport == 80", [1, 3]),
        (91702, "Teredo bubble", "teredo && ipv6.nxt == 59", "teredo && ipv6.nxt == 59", [2]),
    ]),
    ("pptp.pcap", 1, [
        # enhanced GRE (version 1): key (payload length, call id), sequence number; PPP FF 03 0021
        outer4(47, struct.pack(">BBHHHI", 0x30, 0x01, 0x880b, 0, 0x1d, 3)[:4]
               + struct.pack(">HHI", 4 + 28, 0x1d, 3) + b"\xff\x03\x00\x21"
               + b(IP(src=IN4A, dst=IN4B) / ICMP(type=8, id=2, seq=2))),
        # acknowledgment only: key, no sequence number, acknowledgment number, no payload
        outer4(47, struct.pack(">BBHHHI", 0x20, 0x81, 0x880b, 0, 0x1d, 3)),
    ], [
        (91801, "echo request through PPTP", "icmp.type == 8 && ppp.protocol == 0x0021 && gre", "icmp.type == 8 && ppp.protocol == 0x0021 && gre", [1]),
        (91802, "PPTP acknowledgment", "gre.proto == 0x880b && !ppp", "gre.proto == 0x880b && !ppp", [2]),
    ]),
    ("wifi-radiotap.pcap", 127, [
        # DATAPAD and FCS: QoS data, 26-byte header padded to 28, and a 4-byte FCS
        radiotap(0x30) + wlan_hdr(True) + b"\x00\x00" + SNAP_IP + b(dnsq())[0:] + b"\x11\x22\x33\x44",
        # FCS only: plain data, 24-byte header
        radiotap(0x10) + wlan_hdr(False) + SNAP_IP + b(syn(22)) + b"\x11\x22\x33\x44",
    ], [
        (91901, "DNS over padded QoS data", 'wlan && dns.qry.name == "www.example.com"', 'wlan && dns.qry.name == "www.example.com"', [1]),
        (91902, "SSH SYN over 802.11", "wlan && tcp.dstport == 22", "wlan && tcp.dstport == 22", [2]),
    ]),
    ("tokenring.pcap", 6, [
        b"\x10\x40" + bytes.fromhex("10005a3c4d5e") + bytes.fromhex("10005a1b2c3d") + SNAP_IP + b(syn(23)),
        # source routed: the source's high bit, then a 4-byte routing information field
        b"\x10\x40" + bytes.fromhex("10005a3c4d5e") + bytes.fromhex("90005a1b2c3d") + bytes.fromhex("0430 0011")
        + SNAP_IP + b(dnsq()),
        # a MAC frame (frame type 0): ring management, no LLC
        b"\x10\x00" + bytes.fromhex("c00000000001") + bytes.fromhex("10005a1b2c3d") + bytes.fromhex("0006 0002 0000"),
    ], [
        (92001, "telnet SYN over Token Ring", "tr && tcp.dstport == 23", "tr && tcp.dstport == 23", [1]),
        (92002, "DNS over a source-routed ring", 'tr.sr && tr.src == "10:00:5a:1b:2c:3d" && dns', "tr.sr == 1 && tr.src == 10:00:5a:1b:2c:3d && dns", [2]),
        (92003, "Token Ring MAC frame", "tr && !ip", "tr && !ip", [3]),
    ]),
]


def write():
    rules = ["# Rules over the tunnel test captures: each matches the packet inside an",
             "# encapsulation. Written by gen.py, which also writes the captures.", "rules:"]
    for name, link, frames, rs in CASES:
        pkts = [Raw(f) for f in frames]
        for i, p in enumerate(pkts):
            p.time = T0 + i * 0.001
        wrpcap(os.path.join(OUT, name), pkts, linktype=link)
        for sid, title, cond, _, want in rs:
            rules += [f"  - sid: {sid}", f"    name: {title}", f"    condition: '{cond}'",
                      "    tests:", f"      - capture: {name}", f"        frames: {want}"]
    with open(os.path.join(OUT, "tunnels.yaml"), "w") as f:
        f.write("\n".join(rules) + "\n")


def check():
    bad = 0
    for name, _, _, rs in CASES:
        for sid, _, _, ws, want in rs:
            if ws is None:
                continue
            out = subprocess.run(["tshark", "-n", "-r", os.path.join(OUT, name), "-Y", ws, "-T", "fields", "-e", "frame.number"],
                                 capture_output=True, text=True, check=True).stdout.split()
            got = [int(x) for x in out]
            if got != want:
                bad += 1
                print(f"{name} sid {sid}: tshark {ws!r} gives {got}, the rule expects {want}", file=sys.stderr)
    return bad


if __name__ == "__main__":
    write()
    sys.exit(1 if check() else 0)
