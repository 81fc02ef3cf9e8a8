package field

// MaxOccurs is the most values of one field a Packet keeps for a frame:
// the deepest MPLS label stack the decoder accepts.
const MaxOccurs = 16

// Ints holds every value of an int field that a frame may carry several
// times (vlan.id, mpls.label, gre.proto, ...), in frame order: V[:N]. The
// field's own member holds the first value (V[0]); a member with the
// struct tag each:"X" names its Ints sibling X. Conditions compare such a
// field over all its values, as Wireshark does (see [Slot.Ints]).
type Ints struct {
	N int            // values held, at most MaxOccurs
	V [MaxOccurs]int // the values; those past N are zero or stale
}

// Add appends v; a value past MaxOccurs is dropped.
func (x *Ints) Add(v int) {
	if x.N < len(x.V) {
		x.V[x.N] = v
		x.N++
	}
}

// VLANKey is the VLAN ids that separate flows and IP datagrams, as in
// Suricata's flow and defrag keys (vlan_id[0..2]): the frame's first three
// tags, outermost first, 802.1ad S-tags before 802.1Q tags (the order of
// a QinQ stack); zero past the last.
type VLANKey [3]uint16

// VLANKey returns p's VLANKey.
func (p *Packet) VLANKey() VLANKey {
	var k VLANKey
	n := 0
	for _, x := range [...]*Ints{&p.IEEE8021AD.IDs, &p.VLAN.IDs} {
		for _, id := range x.V[:x.N] {
			if n < len(k) {
				k[n] = uint16(id)
				n++
			}
		}
	}
	return k
}
