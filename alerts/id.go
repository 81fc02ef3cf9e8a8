package alerts

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
)

// NewInstance returns a random instance name for the alert IDs of one run
// of a producer: 12 lowercase hex digits (48 bits from crypto/rand), so
// that the IDs of different runs differ.
func NewInstance() string {
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// ID returns the ID (Nats-Msg-Id) of an alert: the decimal numbers joined
// with '-' after instance, "<instance>-<source>-<packet>-<sid>", e.g.
// ID("test", 1, 42, 1000001) = "test-1-42-1000001". instance names the
// producer's run (NewInstance, or a fixed name for reproducible output),
// source numbers a packet source within the run, packet is the 1-based
// packet number in that source and sid the rule. A rule raises at most
// one alert per packet, so the ID is unique per alert; and it is fixed
// before the first publish, so a retry repeats it.
func ID(instance string, source uint64, packet, sid int) string {
	b := make([]byte, 0, 48)
	b = append(b, instance...)
	b = append(b, '-')
	b = strconv.AppendUint(b, source, 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(packet), 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(sid), 10)
	return string(b)
}

// SummaryID returns the ID of the summary alert that closes the
// de-duplication window opened by the alert with ID id: id + "-summary".
// An ID from ID never ends so, so the two cannot collide.
func SummaryID(id string) string { return id + "-summary" }
