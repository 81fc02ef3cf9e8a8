package cluster

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/vigil-ids/vigil/ncf"
)

// A batch is one NATS message on a partition's subject: records of one
// sensor connection, in the order the sensor sent them. Its layout, all
// integers unsigned LEB128 (encoding/binary's uvarint) unless noted:
//
//	version    1 byte (batchVersion)
//	flags      1 byte (flagEnd: the connection ended after these records)
//	instance   length, then bytes: the ingest process's run
//	source     the connection's number in that run
//	sensor     length, then bytes: the sensor's name
//	partition
//	seq        the batch's number among the connection's batches on this
//	           partition, from 1
//	records, to the end of the message, each:
//	  number       frame.number in the connection, from 1
//	  time         zigzag varint, Unix nanoseconds
//	  data length, source data length, wire length
//	  11 bytes     NCF version, medium, flags (1 decrypted, 2 broken,
//	               4 compressed), signal %, rate (2, little-endian),
//	               band, channel, direction, signal dBm, noise dBm
//	  data
//
// The header fields are those of ncf.Header, so an evaluator sees every
// record as the sensor connection's reader did.
const batchVersion = 1

const (
	flagEnd = 1 << iota
)

const (
	recDecrypted = 1 << iota
	recBroken
	recCompressed
)

// errBatch: a message is not a well-formed batch.
var errBatch = errors.New("cluster: malformed packet batch")

// batchHeader is what a batch says of its records.
type batchHeader struct {
	instance  string
	source    uint64
	sensor    string
	partition int
	seq       uint64
	end       bool
}

// appendHeader starts a batch in dst.
func appendHeader(dst []byte, h *batchHeader) []byte {
	var flags byte
	if h.end {
		flags |= flagEnd
	}
	dst = append(dst, batchVersion, flags)
	dst = binary.AppendUvarint(dst, uint64(len(h.instance)))
	dst = append(dst, h.instance...)
	dst = binary.AppendUvarint(dst, h.source)
	dst = binary.AppendUvarint(dst, uint64(len(h.sensor)))
	dst = append(dst, h.sensor...)
	dst = binary.AppendUvarint(dst, uint64(h.partition))
	return binary.AppendUvarint(dst, h.seq)
}

// appendRecord adds the record numbered number to a batch.
func appendRecord(dst []byte, rec *ncf.Record, number int) []byte {
	h := &rec.Header
	dst = binary.AppendUvarint(dst, uint64(number))
	dst = binary.AppendVarint(dst, h.Time.UnixNano())
	dst = binary.AppendUvarint(dst, uint64(len(rec.Data)))
	dst = binary.AppendUvarint(dst, uint64(h.SourceDataLen))
	dst = binary.AppendUvarint(dst, uint64(h.WireLen))
	var flags byte
	if h.Decrypted {
		flags |= recDecrypted
	}
	if h.Broken {
		flags |= recBroken
	}
	if h.Compressed {
		flags |= recCompressed
	}
	dst = append(dst, h.Version, byte(h.Medium), flags, h.SignalPercent, byte(h.Rate), byte(h.Rate>>8),
		h.Band, h.Channel, byte(h.Direction), h.SignalDBm, h.NoiseDBm)
	return append(dst, rec.Data...)
}

// batchReader reads a batch without copying: records' Data point into
// the message.
type batchReader struct {
	batchHeader
	b []byte
}

// readBatch parses msg's header; next returns its records.
func readBatch(msg []byte) (*batchReader, error) {
	r := &batchReader{b: msg}
	if len(r.b) < 2 || r.b[0] != batchVersion {
		return nil, errBatch
	}
	r.end = r.b[1]&flagEnd != 0
	r.b = r.b[2:]
	var ok bool
	var n uint64
	if r.instance, ok = r.text(); !ok {
		return nil, errBatch
	}
	if r.source, ok = r.uvarint(); !ok {
		return nil, errBatch
	}
	if r.sensor, ok = r.text(); !ok {
		return nil, errBatch
	}
	if n, ok = r.uvarint(); !ok || n > 1<<20 {
		return nil, errBatch
	}
	r.partition = int(n)
	if r.seq, ok = r.uvarint(); !ok {
		return nil, errBatch
	}
	return r, nil
}

// next fills rec with the next record and returns its number; 0 at the
// end of the batch. rec.Data points into the message.
func (r *batchReader) next(rec *ncf.Record) (int, error) {
	if len(r.b) == 0 {
		return 0, nil
	}
	number, ok := r.uvarint()
	if !ok || number == 0 || number > 1<<62 {
		return 0, errBatch
	}
	t, n := binary.Varint(r.b)
	if n <= 0 {
		return 0, errBatch
	}
	r.b = r.b[n:]
	var lens [3]uint64
	for i := range lens {
		if lens[i], ok = r.uvarint(); !ok || lens[i] > 1<<30 {
			return 0, errBatch
		}
	}
	if uint64(len(r.b)) < 11+lens[0] {
		return 0, errBatch
	}
	f := r.b[:11]
	*rec = ncf.Record{Header: ncf.Header{
		DataLen: int(lens[0]), SourceDataLen: int(lens[1]), WireLen: int(lens[2]),
		Version: f[0], Time: time.Unix(0, t).UTC(), Medium: ncf.Medium(f[1]),
		Decrypted: f[2]&recDecrypted != 0, Broken: f[2]&recBroken != 0, Compressed: f[2]&recCompressed != 0,
		SignalPercent: f[3], Rate: uint16(f[4]) | uint16(f[5])<<8, Band: f[6], Channel: f[7],
		Direction: ncf.Direction(f[8]), SignalDBm: f[9], NoiseDBm: f[10],
	}}
	rec.Data = r.b[11 : 11+lens[0] : 11+lens[0]]
	r.b = r.b[11+lens[0]:]
	return int(number), nil
}

func (r *batchReader) uvarint() (uint64, bool) {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		return 0, false
	}
	r.b = r.b[n:]
	return v, true
}

func (r *batchReader) text() (string, bool) {
	n, ok := r.uvarint()
	if !ok || n > uint64(len(r.b)) || n > 1024 {
		return "", false
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s, true
}
