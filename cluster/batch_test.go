package cluster

import (
	"bytes"
	"testing"
	"time"

	"github.com/vigil-ids/vigil/ncf"
)

// records is a few records with every header field set.
func records() []ncf.Record {
	return []ncf.Record{
		{Header: ncf.Header{DataLen: 3, SourceDataLen: 3, WireLen: 60, Version: 2, Time: time.Date(2026, 3, 29, 1, 30, 0, 123456000, time.UTC),
			Medium: ncf.Ethernet, Broken: true, Direction: ncf.Direction(1)}, Data: []byte{1, 2, 3}},
		{Header: ncf.Header{DataLen: 0, SourceDataLen: 900, WireLen: 900, Medium: ncf.WiFi, Compressed: true, Decrypted: true,
			SignalPercent: 77, Rate: 0x1234, Band: ncf.Band11N5GHz, Channel: 44, SignalDBm: 40, NoiseDBm: 90, Time: time.Unix(0, 1).UTC()}, Data: []byte{}},
	}
}

// TestBatchRoundTrip: what appendHeader and appendRecord write, readBatch
// and next read back, every field.
func TestBatchRoundTrip(t *testing.T) {
	h := batchHeader{instance: "abc", source: 7, sensor: "dmz 10.0.0.7:51234", partition: 13, seq: 99, end: true}
	b := appendHeader(nil, &h)
	recs := records()
	for i := range recs {
		b = appendRecord(b, &recs[i], 1000+i)
	}
	r, err := readBatch(b)
	if err != nil {
		t.Fatal(err)
	}
	if r.batchHeader != h {
		t.Errorf("header %+v, want %+v", r.batchHeader, h)
	}
	for i := range recs {
		var rec ncf.Record
		n, err := r.next(&rec)
		if err != nil || n != 1000+i {
			t.Fatalf("record %d: number %d, %v", i, n, err)
		}
		if !rec.Time.Equal(recs[i].Time) || !bytes.Equal(rec.Data, recs[i].Data) {
			t.Errorf("record %d: %v %x, want %v %x", i, rec.Time, rec.Data, recs[i].Time, recs[i].Data)
		}
		rec.Time, recs[i].Time = time.Time{}, time.Time{}
		rec.Data, recs[i].Data = nil, nil
		if rec.Header != recs[i].Header {
			t.Errorf("record %d: %+v, want %+v", i, rec, recs[i])
		}
	}
	if n, err := r.next(&ncf.Record{}); n != 0 || err != nil {
		t.Errorf("after the last record: %d, %v", n, err)
	}
	for cut := range b {
		if r, err := readBatch(b[:cut]); err == nil {
			for n, err := r.next(&ncf.Record{}); n != 0 && err == nil; n, err = r.next(&ncf.Record{}) {
			}
		}
	}
}

// FuzzBatch: any message is read without a panic, and a record read
// lies within the message.
func FuzzBatch(f *testing.F) {
	recs := records()
	b := appendHeader(nil, &batchHeader{instance: "i", source: 1, sensor: "s", partition: 2, seq: 3})
	for i := range recs {
		b = appendRecord(b, &recs[i], i+1)
	}
	f.Add(b)
	f.Add([]byte{batchVersion, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, msg []byte) {
		r, err := readBatch(msg)
		if err != nil {
			return
		}
		var rec ncf.Record
		for {
			n, err := r.next(&rec)
			if err != nil || n == 0 {
				return
			}
			if len(rec.Data) != rec.DataLen || len(rec.Data) > len(msg) {
				t.Fatalf("record of %d bytes (DataLen %d) in a %d-byte message", len(rec.Data), rec.DataLen, len(msg))
			}
		}
	})
}
