package alerts

import (
	"errors"
	"os"
	"strconv"
	"testing"
)

func spoolRecords(n int) []*record {
	var out []*record
	for i := range n {
		a := testAlert(i)
		out = append(out, newRecord(Subject("", a.Sensor, a.SeverityWord, a.SID), a.ID, a.AppendJSON(nil), nil))
	}
	return out
}

func TestSpoolTornTail(t *testing.T) {
	dir := t.TempDir()
	s, err := openSpool(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var buf []byte
	recs := spoolRecords(10)
	for _, r := range recs {
		if buf, err = s.write(r, buf); err != nil {
			t.Fatal(err)
		}
	}
	path := s.wseg.path
	if err := s.close(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		edit func(b []byte) []byte
		want int
	}{
		{"intact", func(b []byte) []byte { return b }, 10},
		{"cut in last record", func(b []byte) []byte { return b[:len(b)-5] }, 9},
		{"cut in last header", func(b []byte) []byte { return b[:len(b)-int(recordSize(recs[9]))+3] }, 9},
		{"flipped byte in record 3", func(b []byte) []byte {
			off := 3*int(recordSize(recs[0])) + recordHeader + 10
			b[off] ^= 0xff
			return b
		}, 3},
		{"huge length", func(b []byte) []byte { b[3] = 0xff; return b }, 0},
	}
	orig, err := os.ReadFile(path)
	if err != nil || int64(len(orig)) != st.Size() {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := t.TempDir()
			if err := os.WriteFile(d+"/"+segmentName(firstSegment), tc.edit(append([]byte(nil), orig...)), 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := openSpool(d, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			if s.unread != tc.want {
				t.Fatalf("unread %d, want %d", s.unread, tc.want)
			}
			got, err := s.loadNext()
			if tc.want < 10 && !errors.Is(err, ErrCorruptSegment) && tc.want > 0 {
				t.Errorf("loadNext error %v, want ErrCorruptSegment", err)
			}
			if len(got) != tc.want {
				t.Fatalf("loaded %d records, want %d", len(got), tc.want)
			}
			for i, r := range got {
				if r.id != "t-"+strconv.Itoa(i) || r.subject != recs[i].subject || string(r.data) != string(recs[i].data) {
					t.Errorf("record %d: %s %s", i, r.id, r.subject)
				}
				if r.msg.Header.Get("Nats-Msg-Id") != r.id {
					t.Errorf("record %d: header %v", i, r.msg.Header)
				}
			}
		})
	}
}

func TestSpoolPersistFrontOrder(t *testing.T) {
	dir := t.TempDir()
	s, err := openSpool(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	recs := spoolRecords(30)
	var buf []byte
	for _, r := range recs[10:] {
		if buf, err = s.write(r, buf); err != nil {
			t.Fatal(err)
		}
	}
	// Records 10..29 spilled, then loaded back into memory.
	loaded, err := s.loadNext()
	if err != nil || len(loaded) != 20 {
		t.Fatalf("loadNext: %d, %v", len(loaded), err)
	}
	s.done(loaded[0].seg) // one delivered
	// Close with 0..9 (memory) and the 19 loaded ones undelivered.
	pending := append(append([]*record(nil), recs[:10]...), loaded[1:]...)
	if err := s.persistFront(pending); err != nil {
		t.Fatal(err)
	}
	if err := s.close(); err != nil {
		t.Fatal(err)
	}
	s2, err := openSpool(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for s2.hasUnread() {
		got, err := s2.loadNext()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range got {
			ids = append(ids, r.id)
		}
	}
	var want []string
	for i := range 30 {
		if i != 10 {
			want = append(want, "t-"+strconv.Itoa(i))
		}
	}
	if len(ids) != len(want) {
		t.Fatalf("after restart %d records %v, want %d", len(ids), ids, len(want))
	}
	for i := range want {
		if ids[i] != want[i] {
			t.Fatalf("after restart order %v, want %v", ids, want)
		}
	}
}
