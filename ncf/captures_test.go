package ncf_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"
	"github.com/vigil-ids/vigil/ncf"
)

// TestCapturesMatchPcap reads every testdata capture pair and checks that
// the NCF records equal the pcap packets: count, bytes, and timestamps to
// the microsecond in UTC.
func TestCapturesMatchPcap(t *testing.T) {
	ncfs, err := filepath.Glob("../testdata/captures/*.ncf")
	if err != nil || len(ncfs) == 0 {
		t.Fatalf("no captures: %v", err)
	}
	for _, path := range ncfs {
		name := strings.TrimSuffix(filepath.Base(path), ".ncf")
		t.Run(name, func(t *testing.T) {
			pf, err := os.Open(strings.TrimSuffix(path, ".ncf") + ".pcap")
			if err != nil {
				t.Fatal(err)
			}
			defer pf.Close()
			pr, err := pcapgo.NewReader(pf)
			if err != nil {
				t.Fatal(err)
			}
			nf, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer nf.Close()
			nr := ncf.NewReader(nf, ncf.ReaderConfig{})
			n := 0
			for {
				data, ci, perr := pr.ReadPacketData()
				rec, nerr := nr.Next()
				if errors.Is(perr, io.EOF) || errors.Is(nerr, io.EOF) {
					if !errors.Is(perr, io.EOF) || nerr != io.EOF {
						t.Fatalf("after %d frames: pcap %v, ncf %v", n, perr, nerr)
					}
					break
				}
				if perr != nil || nerr != nil {
					t.Fatalf("frame %d: pcap %v, ncf %v", n+1, perr, nerr)
				}
				n++
				if !bytes.Equal(data, rec.Data) {
					t.Fatalf("frame %d: bytes differ", n)
				}
				if !rec.Time.Equal(ci.Timestamp.Truncate(1000)) || rec.Time.Location() != ci.Timestamp.UTC().Location() {
					t.Fatalf("frame %d: ncf time %v, pcap %v", n, rec.Time, ci.Timestamp.UTC())
				}
				if rec.Medium != ncf.Ethernet || rec.Direction != ncf.Pass {
					t.Fatalf("frame %d: medium %v direction %v", n, rec.Medium, rec.Direction)
				}
			}
			if n == 0 || nr.Records() != int64(n) {
				t.Fatalf("%d frames, reader counted %d", n, nr.Records())
			}
			if st, _ := nf.Stat(); nr.Offset() != st.Size() {
				t.Fatalf("offset %d, file size %d", nr.Offset(), st.Size())
			}
		})
	}
}
