package capture

import (
	"bytes"
	"testing"
	"time"

	"github.com/vigil-ids/vigil/ncf"
)

// TestNextDoesNotAllocate checks that, once warm, Next allocates nothing
// per record in every format, including radiotap stripping and re-linking.
func TestNextDoesNotAllocate(t *testing.T) {
	const warm, runs = 50, 400
	recs := func(path string) []frame { return openFrames(t, path, mustDetect(t, path)) }
	eth := recs(capturesDir + "sv-tls-cert.ncf")
	build := func(f Format, wifi bool) []byte {
		var buf bytes.Buffer
		w, err := writeStream(&buf, f, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < warm+runs+10; i++ {
			fr := eth[i%len(eth)]
			h := fr.rec
			if wifi {
				h.Medium, h.Rate, h.Channel, h.SignalDBm, h.NoiseDBm = ncf.WiFi, 108, 6, 40, 90
			}
			if err := w.Write(&ncf.Record{Header: h, Data: fr.data}); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	inputs := map[string][]byte{
		"ncf":           build(NCF, false),
		"pcap":          build(PCAP, false),
		"pcapng":        build(PCAPNG, false),
		"pcap-radiotap": build(PCAP, true),
	}
	for name, in := range inputs {
		r, err := readStream(bytes.NewReader(in), time.FixedZone("X", 3600))
		if err != nil {
			t.Fatal(err)
		}
		for range warm {
			if _, err := r.Next(); err != nil {
				t.Fatal(err)
			}
		}
		allocs := testing.AllocsPerRun(runs, func() {
			if _, err := r.Next(); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %.2f allocations per record", name, allocs)
		}
	}
}

func mustDetect(t *testing.T, path string) Format {
	t.Helper()
	r, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	return r.Format()
}
