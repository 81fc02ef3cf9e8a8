// Package defaults holds Vigil's default rule set: YAML rule files embedded in
// the binary and loaded by Load when no rule paths are given (`vigil run`,
// `vigil test`).
//
// The rules cover scans and floods, cleartext credentials, exposed
// administration services, suspicious DNS and known exploit traffic. Every
// rule carries inline tests against the public captures in testdata/captures,
// so `vigil lint` on this folder checks the whole set.
//
// It imports rules only.
package defaults

import "embed"

// FS holds the default rule files (*.yaml at the root of the file system).
//
//go:embed *.yaml
var FS embed.FS
