package decode

import (
	"testing"

	"github.com/vigil-ids/vigil/rules/field"
)

// BenchmarkDecode decodes the frames of a mix of captures; ns/op is per
// packet.
func BenchmarkDecode(b *testing.B) {
	for _, bc := range []struct {
		name     string
		captures []string
	}{
		{"mix", []string{"sv-http-ipv6.ncf", "sv-icmp-ssh.ncf", "zeek-http-bro-org.ncf", "sv-dns-vlan-1200.ncf"}},
		{"http", []string{"zeek-http-bro-org.ncf"}},
		{"dns-vlan", []string{"sv-dns-vlan-1200.ncf"}},
		{"tcp-vnc", []string{"sv-vnc-ttl128.ncf"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var frames []capFrame
			for _, c := range bc.captures {
				frames = append(frames, readNCF(b, c)...)
			}
			d := New()
			p := new(field.Packet)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				f := frames[i%len(frames)]
				_ = d.Decode(p, f.link, f.data)
			}
		})
	}
}

// BenchmarkDecodeHeaders is the headers-only decode a source runs to pick
// a packet's worker, over the mix of BenchmarkDecode.
func BenchmarkDecodeHeaders(b *testing.B) {
	var frames []capFrame
	for _, c := range []string{"sv-http-ipv6.ncf", "sv-icmp-ssh.ncf", "zeek-http-bro-org.ncf", "sv-dns-vlan-1200.ncf"} {
		frames = append(frames, readNCF(b, c)...)
	}
	d := New()
	p := new(field.Packet)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		f := frames[i%len(frames)]
		_ = d.DecodeHeaders(p, f.link, f.data)
	}
}
