package decode

// Encap is an encapsulation the decoder crosses on the way to the packet
// rules inspect. Its String is the Wireshark protocol name.
type Encap uint8

// Encapsulations, counted per frame header crossed (see Counts).
const (
	EncapVLAN   Encap = iota // an IEEE 802.1Q tag (EtherType 0x8100 or 0x9100)
	Encap8021AD              // an IEEE 802.1ad service tag (EtherType 0x88a8)
	EncapMPLS                // an MPLS label stack (RFC 3032), in Ethernet, PPP, GRE or IP (RFC 4023)
	EncapPWEth               // an Ethernet pseudowire after an MPLS label stack (RFC 4448)
	EncapPPPoE               // a PPPoE session header (RFC 2516) and its PPP header
	EncapGRE                 // a GRE header (RFC 2784, 2890, 1701; PPTP's version 1, RFC 2637)
	EncapERSPAN              // an ERSPAN type I, II or III header inside GRE
	EncapVXLAN               // a VXLAN header (RFC 7348, UDP port 4789)
	EncapGeneve              // a Geneve header (RFC 8926, UDP port 6081)
	EncapTeredo              // Teredo (RFC 4380, UDP port 3544)
	EncapIPinIP              // IPv4 or IPv6 right inside IPv4 or IPv6 (protocols 4 and 41)
	NumEncaps                // the number of encapsulations
)

var encapNames = [NumEncaps]string{"vlan", "ieee8021ad", "mpls", "pweth", "pppoes", "gre", "erspan", "vxlan", "geneve", "teredo", "ipip"}

// String returns the encapsulation's name: "vlan", "ieee8021ad", "mpls",
// "pweth", "pppoes", "gre", "erspan", "vxlan", "geneve", "teredo" or
// "ipip".
func (e Encap) String() string {
	if e < NumEncaps {
		return encapNames[e]
	}
	return "encap(" + itoa(int(e)) + ")"
}

// EncapCount counts the headers of one encapsulation: those crossed, and
// those that could not be, by the sentinel of the error returned.
type EncapCount struct {
	Decoded     uint64 `json:"decoded"`     // crossed to the content
	Truncated   uint64 `json:"truncated"`   // the frame ends inside the header
	Malformed   uint64 `json:"malformed"`   // an impossible field, or nested too deep
	Unsupported uint64 `json:"unsupported"` // content the decoder does not follow
}

// Counts holds an EncapCount per Encap.
type Counts [NumEncaps]EncapCount

// TakeCounts returns what the Decoder counted since the last call, and
// starts counting afresh. A worker hands the counts to the engine's
// statistics once in a while; counting costs an increment per header.
func (d *Decoder) TakeCounts() Counts {
	c := d.counts
	d.counts = Counts{}
	return c
}

// enter counts encapsulation e, whose header at off is valid, as crossed;
// past maxEncaps in the frame it reports the frame malformed instead and
// returns false.
func (d *Decoder) enter(e Encap, off int) bool {
	if d.encaps == maxEncaps {
		d.failEncap(e, off, ErrMalformed, "more than 8 nested encapsulations")
		return false
	}
	d.encaps++
	d.counts[e].Decoded++
	d.p.Meta.Encap = true
	return true
}

// failEncap records that encapsulation e, at off, could not be crossed,
// and counts it by err.
func (d *Decoder) failEncap(e Encap, off int, err error, reason string) {
	if d.cut && err == ErrTruncated {
		return // a first fragment's end, not an error
	}
	c := &d.counts[e]
	switch err {
	case ErrTruncated:
		c.Truncated++
	case ErrMalformed:
		c.Malformed++
	default:
		c.Unsupported++
	}
	d.fail(e.String(), off, err, reason)
}
