#!/usr/bin/env python3
"""Writes c19-tls-records.pcap and c20-http-head.pcap, two TCP connections
packed with Python's struct (no scapy needed), and prints what tshark shows
of them.

c19: a ClientHello split over two TLS records (each in its own segment), a
ServerHello and a ServerHelloDone in one record split over two segments,
then ClientKeyExchange, ChangeCipherSpec and an encrypted handshake record
in one segment, and application data.

c20: a HEAD and a GET pipelined in one segment, both answered in one
segment (the HEAD response has a Content-Length but no body, RFC 9110
9.3.2), then a GET answered with 100 Continue, a 304 and, to the next GET,
a 204, and a 200 with a body.

Run: python3 gen19_streams.py (tshark for the listing).
"""
import os
import struct
import subprocess

OUT = os.path.dirname(os.path.abspath(__file__))
T0 = 1700000000
C_MAC, S_MAC = bytes.fromhex("020000000001"), bytes.fromhex("020000000002")
C_IP, S_IP = bytes([192, 0, 2, 10]), bytes([198, 51, 100, 20])


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


class Conn:
    """One TCP connection from C_IP:sport to S_IP:dport, with its frames."""

    def __init__(self, sport, dport):
        self.port = {True: (sport, dport), False: (dport, sport)}
        self.seq = {True: 1000, False: 5000}
        self.frames = []

    def send(self, to_server, data=b"", flags="PA"):
        src, dst = (C_IP, S_IP) if to_server else (S_IP, C_IP)
        smac, dmac = (C_MAC, S_MAC) if to_server else (S_MAC, C_MAC)
        sport, dport = self.port[to_server]
        bits = sum({"F": 1, "S": 2, "R": 4, "P": 8, "A": 16}[f] for f in flags)
        ack = self.seq[not to_server] if "A" in flags else 0
        tcp = struct.pack("!HHIIBBHHH", sport, dport, self.seq[to_server], ack, 5 << 4, bits, 65535, 0, 0) + data
        pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
        tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), len(self.frames) + 1, 0x4000, 64, 6, 0, src, dst)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        self.frames.append(dmac + smac + b"\x08\x00" + ip + tcp)
        self.seq[to_server] += len(data) + ("S" in flags) + ("F" in flags)

    def handshake(self):
        self.send(True, flags="S")
        self.send(False, flags="SA")
        self.send(True, flags="A")

    def save(self, name):
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
            for i, fr in enumerate(self.frames):
                f.write(struct.pack("<IIII", T0, i * 1000, len(fr), len(fr)) + fr)


def record(typ, body):
    return struct.pack("!BHH", typ, 0x0303, len(body)) + body


def handshake(typ, body):
    return struct.pack("!B", typ) + len(body).to_bytes(3, "big") + body


def client_hello(name):
    host = name.encode()
    sni = struct.pack("!HBH", len(host) + 3, 0, len(host)) + host
    exts = struct.pack("!HH", 0, len(sni)) + sni + struct.pack("!HH", 21, 64) + bytes(64)
    body = (b"\x03\x03" + bytes(range(32)) + b"\x00" + struct.pack("!HHH", 4, 0x1301, 0x002F) + b"\x01\x00"
            + struct.pack("!H", len(exts)) + exts)
    return handshake(1, body)


def tls():
    c = Conn(40000, 443)
    c.handshake()                                     # 1-3
    hello = client_hello("split.example")
    c.send(True, record(22, hello[:60]))              # 4: first part of the ClientHello
    c.send(True, record(22, hello[60:]))              # 5: the rest: ClientHello complete
    server_hello = handshake(2, b"\x03\x03" + bytes(32) + b"\x00" + struct.pack("!HB", 0x002F, 0))
    flight = record(22, server_hello + handshake(14, b""))
    c.send(False, flight[:30])                        # 6: ServerHello and ServerHelloDone, one record...
    c.send(False, flight[30:])                        # 7: ...over two segments
    c.send(True, record(22, handshake(16, b"\x00\x10" + bytes(16))) + record(20, b"\x01")
           + record(22, bytes(range(40))))            # 8: ClientKeyExchange, ChangeCipherSpec, encrypted Finished
    c.send(False, record(20, b"\x01") + record(22, bytes(range(40, 80))))  # 9
    c.send(True, record(23, bytes(100)))              # 10: application data
    c.save("c19-tls-records.pcap")


def http():
    c = Conn(40001, 80)
    c.handshake()                                                           # 1-3
    c.send(True, b"HEAD /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n")  # 4
    c.send(False, b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
           b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")             # 5: HEAD's response, no body; GET's
    c.send(True, b"GET /c HTTP/1.1\r\nHost: x\r\n\r\n")                   # 6
    c.send(False, b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 7\r\n\r\n")  # 7
    c.send(True, b"GET /d HTTP/1.1\r\nHost: x\r\n\r\nGET /e HTTP/1.1\r\nHost: x\r\n\r\n")  # 8
    c.send(False, b"HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n"
           b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")                # 9
    c.save("c20-http-head.pcap")


tls()
http()
for name, fields in (("c19-tls-records.pcap", ["tls.record.content_type", "tls.handshake.type",
                                               "tls.handshake.extensions_server_name"]),
                     ("c20-http-head.pcap", ["http.request.method", "http.response.code", "http.content_length"])):
    cmd = ["tshark", "-n", "-r", os.path.join(OUT, name), "-T", "fields", "-e", "frame.number"]
    for f in fields:
        cmd += ["-e", f]
    print(name)
    print(subprocess.run(cmd, capture_output=True, text=True).stdout)
