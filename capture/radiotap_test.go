package capture

import (
	"bytes"
	"errors"
	"testing"

	"github.com/vigil-ids/vigil/ncf"
)

func TestParseRadiotap(t *testing.T) {
	body := []byte{0x08, 0x01, 0, 0}
	fcs := []byte{0xDE, 0xAD, 0xBE, 0xEF}
	// Present: TSFT, Flags, Rate, Channel, dBm signal, dBm noise, and an
	// extended bitmap (bit 31) followed by a second, empty, word.
	present := []byte{0x6F, 0, 0, 0x80}
	hdr := []byte{0, 0, 0, 0}
	hdr = append(hdr, present...)
	hdr = append(hdr, 0, 0, 0, 0)             // second present word
	hdr = append(hdr, 0, 0, 0, 0)             // pad TSFT to 8
	hdr = append(hdr, 1, 2, 3, 4, 5, 6, 7, 8) // TSFT at 16
	hdr = append(hdr, 0x10|0x40)              // flags: FCS at end, bad FCS
	hdr = append(hdr, 24)                     // rate 12 Mbit/s
	hdr = append(hdr, 0x85, 0x09, 0x80, 0x00) // 2437 MHz, 2 GHz
	hdr = append(hdr, 0xC4, 0xA2)             // -60, -94 dBm
	hdr[2] = byte(len(hdr))
	frame := append(append(append([]byte{}, hdr...), body...), fcs...)

	var h ncf.Header
	n, f, err := parseRadiotap(frame, &h)
	if err != nil {
		t.Fatal(err)
	}
	if n != len(hdr) || f != 4 || !bytes.Equal(frame[n:len(frame)-f], body) {
		t.Fatalf("lengths: radiotap %d fcs %d", n, f)
	}
	want := ncf.Header{Rate: 24, Channel: 6, Band: ncf.Band11G, SignalDBm: 60, NoiseDBm: 94, Broken: true}
	if h != want {
		t.Fatalf("got %+v\nwant %+v", h, want)
	}

	bad := []struct {
		name  string
		frame []byte
	}{
		{"short", []byte{0, 0, 8}},
		{"version", []byte{1, 0, 8, 0, 0, 0, 0, 0}},
		{"length past frame", []byte{0, 0, 200, 0, 0, 0, 0, 0}},
		{"length below 8", []byte{0, 0, 4, 0, 0, 0, 0, 0}},
		{"bitmaps run past", []byte{0, 0, 12, 0, 0, 0, 0, 0x80, 0, 0, 0, 0x80}},
		{"field runs past", []byte{0, 0, 9, 0, 0x08, 0, 0, 0, 0x85}},
	}
	for _, b := range bad {
		if _, _, err := parseRadiotap(b.frame, &h); !errors.Is(err, ErrRadiotap) {
			t.Errorf("%s: %v", b.name, err)
		}
	}
}

func TestChannelMapping(t *testing.T) {
	for _, c := range []struct {
		ch, band uint8
		freq     int
	}{
		{1, ncf.Band11B, 2412}, {6, ncf.Band11G, 2437}, {14, ncf.Band11B, 2484},
		{36, ncf.Band11A, 5180}, {165, ncf.Band11A, 5825}, {149, ncf.Band11ATurbo, 5745},
		{184, ncf.Band4_9GHz, 4920}, // 4.9 GHz public safety: 4000 + 5*ch
	} {
		freq, flags := frequencyOf(c.ch, c.band)
		if freq != c.freq {
			t.Fatalf("channel %d band %#x: %d MHz, want %d", c.ch, c.band, freq, c.freq)
		}
		ch, band := channelOf(freq, flags)
		if ch != c.ch || band != c.band {
			t.Fatalf("%d MHz flags %#x: channel %d band %#x, want %d %#x", freq, flags, ch, band, c.ch, c.band)
		}
	}
}

// TestRadiotapDataPad: with the DATAPAD flag, the padding after an 802.11
// header whose length is not a multiple of 4 is dropped (QoS data: 26
// bytes, 2 of padding; with HT control: 30 bytes, 2 of padding; four
// addresses: 30 bytes, 2 of padding); a 24-byte header has none, and an
// FCS still ends the frame.
func TestRadiotapDataPad(t *testing.T) {
	body := []byte{0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00, 0x45}
	for _, c := range []struct {
		name   string
		hdr    []byte
		pad    int
		fcsLen int
	}{
		{"qos data", append([]byte{0x88, 0x01}, make([]byte, 24)...), 2, 0},
		{"qos data with HT control", append([]byte{0x88, 0x81}, make([]byte, 28)...), 2, 4},
		{"four addresses", append([]byte{0x08, 0x03}, make([]byte, 28)...), 2, 0},
		{"plain data", append([]byte{0x08, 0x01}, make([]byte, 22)...), 0, 4},
		{"management", append([]byte{0x80, 0x00}, make([]byte, 22)...), 0, 0},
	} {
		flags := byte(rtFlagDataPad)
		if c.fcsLen > 0 {
			flags |= rtFlagFCS
		}
		rt := []byte{0, 0, 9, 0, 0x02, 0, 0, 0, flags} // present: Flags
		var frame []byte
		frame = append(frame, rt...)
		frame = append(frame, c.hdr...)
		frame = append(frame, make([]byte, c.pad)...)
		frame = append(frame, body...)
		frame = append(frame, make([]byte, c.fcsLen)...)
		var h ncf.Header
		skip, fcs, err := parseRadiotap(frame, &h)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		want := append(append([]byte{}, c.hdr...), body...)
		if got := frame[skip : len(frame)-fcs]; !bytes.Equal(got, want) || fcs != c.fcsLen {
			t.Errorf("%s: 802.11 frame % x (fcs %d),\nwant % x (fcs %d)", c.name, got, fcs, want, c.fcsLen)
		}
	}
}
