package alerts

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// DefaultPrefix is the subject prefix of alerts when none is configured.
const DefaultPrefix = "vigil.alert"

// Token turns s into one NATS subject token that is safe everywhere
// (shells, ACLs, consumers' filters): ASCII letters, digits, '-' and '_'
// are kept, and every other character (one rune, or one byte of invalid
// UTF-8) becomes '_'; so '.', '*', '>', ':', whitespace and control
// characters never reach a subject. An empty s gives "_". Examples:
//
//	"10.0.0.7:51234" → "10_0_0_7_51234"
//	"[::1]:5000"     → "___1__5000"
//	"lab sensor>1"   → "lab_sensor_1"
//	"café"           → "caf_"
//
// Distinct names can map to the same token ("a.b" and "a_b"); the alert's
// "sensor" key keeps the exact name.
func Token(s string) string {
	if s == "" {
		return "_"
	}
	if tokenSafe(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s { // invalid UTF-8 yields RuneError per byte
		if r < utf8.RuneSelf && tokenByte(byte(r)) {
			b.WriteByte(byte(r))
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

func tokenSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if !tokenByte(s[i]) {
			return false
		}
	}
	return true
}

func tokenByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// Subject returns the subject of an alert: <prefix>.<sensor>.<severity>.<sid>,
// with the sensor and severity word made single tokens by Token and prefix
// DefaultPrefix when empty. Example: Subject("", "10.0.0.7:51234", "high",
// 1000001) = "vigil.alert.10_0_0_7_51234.high.1000001".
func Subject(prefix, sensor, severityWord string, sid int) string {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return prefix + "." + Token(sensor) + "." + Token(severityWord) + "." + strconv.Itoa(sid)
}

// FilterSubject returns a subscription subject matching alerts of the given
// sensor, severity word and sid; an empty sensor or severity, or a sid <= 0,
// becomes the '*' wildcard, and a sensor or severity given as "*" is kept
// as the wildcard. Example: FilterSubject("", "", "high", 0) =
// "vigil.alert.*.high.*".
func FilterSubject(prefix, sensor, severity string, sid int) string {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	part := func(s string) string {
		if s == "" || s == "*" {
			return "*"
		}
		return Token(s)
	}
	id := "*"
	if sid > 0 {
		id = strconv.Itoa(sid)
	}
	return prefix + "." + part(sensor) + "." + part(severity) + "." + id
}
