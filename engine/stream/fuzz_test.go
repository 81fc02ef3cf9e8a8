package stream

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// maxFuzzInput bounds the bytes of a FuzzReassemble input that are used:
// enough segments to fill the memory cap many times over in 64-byte
// buffers, and small enough that the fuzzer minimises a new input quickly
// (it stalls, reporting no executions, while it minimises one of tens of
// kilobytes).
const maxFuzzInput = 4096

// FuzzReassemble feeds arbitrary segments, 8 header bytes each (flags and
// server port, direction and slot, sequence offset, length), to a small
// Reassembler and takes the application messages they complete. It
// checks that nothing panics, that views and messages are well formed
// (a Whole view ends with its segment),
// that memory stays under the cap and that the stats count the bytes the
// views delivered. Only the first maxFuzzInput bytes of an input are
// used.
func FuzzReassemble(f *testing.F) {
	f.Add([]byte("\x02\x00\x00\x00\x00\x00\x00\x00" + "\x00\x00\x00\x01\x00\x04\x00\x00ABCD"))
	f.Add([]byte("\x00\x00\x00\x08\x00\x04\x00\x00EFGH" + "\x00\x00\x00\x00\x00\x08\x00\x00ABCDXXXX" + "\x01\x00\x00\x0c\x00\x00\x00\x00"))
	f.Add([]byte("\x08\x01\x00\x00\x00\x02\x00\x00AB" + "\x04\x01\x00\x02\x00\x02\x00\x00CD" + "\x00\x01\x00\x01\x00\x03\x00\x00BCD"))
	f.Add([]byte("\x02\x00\x00\x00\x00\x00\x00\x00" + "\x00\x00\x00\x01\x00\x30\x00\x00POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nabGET /x HT" + "\x00\x00\x00\x31\x00\x0d\x00\x00TP/1.1\r\n\r\n"))
	f.Add([]byte("\x22\x00\x00\x00\x00\x00\x00\x00" + "\x20\x00\x00\x01\x00\x0a\x00\x00\x16\x03\x01\x00\x04\x01\x00\x00\x00\x17"))
	f.Add([]byte("\x22\x00\x00\x00\x00\x00\x00\x00" + "\x20\x00\x00\x01\x00\x07\x00\x00\x16\x03\x03\x00\x02\x01\x00" +
		"\x20\x00\x00\x08\x00\x0e\x00\x00\x16\x03\x03\x00\x03\x00\x01Z\x14\x03\x03\x00\x01\x01"))
	f.Fuzz(func(t *testing.T, in []byte) {
		const memcap = 4096
		in = in[:min(len(in), maxFuzzInput)]
		r := New(Config{Memcap: memcap, Depth: 300, Window: 16})
		var delivered [2][4]uint64
		for len(in) >= 8 {
			fl, where := in[0], in[1]
			off := uint32(binary.BigEndian.Uint16(in[2:]))
			n := min(int(binary.BigEndian.Uint16(in[4:])), len(in)-8)
			data := in[8 : 8+n]
			in = in[8+n:]
			slot, toServer := int(where&3), where&4 == 0
			s := Segment{Seq: 1000 + off, Ack: 1000 + off, SYN: fl&2 != 0, FIN: fl&4 != 0, RST: fl&8 != 0, ACK: fl&1 != 0, Data: data}
			v := r.Add(slot, uint64(where>>3&1)+1, toServer, &s)
			if v.Whole && (v.New != len(data) || !bytes.HasSuffix(v.Data, data)) {
				t.Fatalf("a whole view of %d new bytes does not end with the %d-byte segment", v.New, len(data))
			}
			port := [...]int{80, 53, 443, 21}[fl>>4&3]
			for {
				m, ok := r.NextMessage(40000, port)
				if !ok {
					break
				}
				if len(m) == 0 || len(m) > maxHead {
					t.Fatalf("message of %d bytes", len(m))
				}
			}
			if v.New < 0 || v.New > len(v.Data) || len(v.Data)-v.New > 16 {
				t.Fatalf("view of %d bytes, %d new", len(v.Data), v.New)
			}
			d := 0
			if !toServer {
				d = 1
			}
			delivered[d][slot] += uint64(v.New)
			if got := r.Stats().MemUsed; got > memcap || r.alloc > memcap {
				t.Fatalf("memory %d/%d over the cap", got, r.alloc)
			}
		}
		var sum uint64
		for d := range delivered {
			for _, n := range delivered[d] {
				sum += n
			}
		}
		if st := r.Stats(); st.Bytes != sum {
			t.Fatalf("stats count %d bytes, views %d", st.Bytes, sum)
		}
	})
}
