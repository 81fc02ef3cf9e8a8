// Package capture reads and writes capture files (.ncf, .pcap, .pcapng) as
// a stream of ncf.Record values, and converts between them.
//
// Readers detect the format by content, never by file name. Every format
// yields ncf.Record with the same contract as ncf.Reader: the *ncf.Record
// returned by Next and its Data are owned by the Reader and valid only until
// the next call to Next; io.EOF ends a clean stream.
//
// Link types: pcap and pcapng Ethernet (1) frames become Ethernet records;
// 802.11 (105) WiFi records; 802.11 with radiotap (127) WiFi records with
// the radiotap header stripped and its rate, channel, signal, noise and
// bad-FCS flag put in the NCF header fields (a trailing FCS that radiotap
// announces is stripped too, so WiFi records never end with one, and so is
// the padding that its DATAPAD flag announces between the 802.11 header
// and the body). Token Ring (6) frames become Token Ring records. Captures
// that NCF cannot hold as such, Linux
// cooked (SLL, 113), BSD loopback (NULL 0, LOOP 108) and raw IP (101, 228,
// 229), are re-linked to Ethernet with a synthetic 14-byte header:
// destination 02:00:00:00:00:02 (ff:ff:ff:ff:ff:ff for SLL broadcasts),
// source the SLL link-layer address when it is 6 bytes long and
// 02:00:00:00:00:01 otherwise, EtherType from the SLL protocol field or
// from the IP version. OpenCooked leaves SLL frames as they are (Medium
// ncf.LinuxSLL), for the engine's decoder, which reads the SLL header as
// Wireshark does. Other link types are refused when the reader is opened.
//
// Reading never stops at a bad record: the Reader skips it, returns a
// *BadRecord (its number in the file, byte offset, length and reason) and
// resumes after it; only the end of the file, a truncated final record
// (a *BadRecord, then io.EOF) or a read error of the file ends it. What
// frames a record, and so what can be skipped, differs by format:
//
//   - NCF: data_len frames a record. A header with a field out of range is
//     skipped by its data_len when a plausible header (or the end of the
//     file) follows; otherwise its data_len cannot be trusted either, and
//     the bytes up to the next plausible header that is itself followed by
//     one are skipped (see ncf.Reader). A compressed record (flag 0x40) is
//     returned as it is: its body is not a frame, its WireLen the
//     original length.
//   - pcap: the record header's capture length frames a record. It is
//     trusted up to 262,144 bytes (libpcap's and Wireshark's maximum),
//     also above the file's snap length, above the original length (both
//     are kept, as Wireshark does) or when zero (an empty record). A
//     larger one cannot be trusted: the bytes up to the next plausible
//     record header, confirmed by the one after it, are skipped.
//   - pcapng: the block length frames a block, and a block whose length is
//     impossible or differs from its trailing copy cannot be trusted: the
//     bytes up to the next block of a known type whose lengths agree are
//     skipped. A well-framed packet block that cannot be read (capture
//     length past the block, an undeclared interface, an interface of a
//     link type or timestamp resolution Vigil cannot read, a section of
//     another major version) is skipped by its length.
//   - In every format, a frame whose radiotap header is malformed, or a
//     re-linked frame shorter than its link header, is skipped.
//
// Writers choose the format from the output name (FormatFromPath) or the
// caller. WiFi records are written to pcap and pcapng as 802.11 with a
// radiotap header (link type 127) carrying their rate (only up to 127.5
// Mbit/s, radiotap's 8-bit rate field: faster 802.11n/ac rates are
// dropped), channel, signal, noise and bad-FCS flag; Ethernet records as
// link type 1, Token Ring as 6. A pcap file holds a single link type, so
// mixing media in one pcap is an error; pcapng gets one interface per
// medium. The radiotap channel flags cannot express NCF's 802.11n bands:
// those read back as 11a or 11g.
//
// CommView for WiFi's extended format (NCFX) is recognised and refused with
// ErrNCFX; convert it to pcapng with CommView or Wireshark first.
//
// Of Vigil it imports only ncf: a capture codec knows no rules, engine or
// alerts.
package capture
