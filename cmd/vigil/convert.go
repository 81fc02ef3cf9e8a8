package main

import (
	"context"
	"fmt"

	"github.com/vigil-ids/vigil/capture"
)

func cmdConvert(_ context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "convert", "[--tz ZONE] IN OUT",
		"Converts a capture between NCF, pcap and pcapng. IN's format is detected by\ncontent, OUT's is chosen by its extension (.ncf, .pcap, .pcapng). WiFi NCF\nrecords become 802.11 frames with a radiotap header.")
	tz := tzFlag(fs, "time zone of NCF timestamps (IANA name), read and written")
	if err := parse(fs, args, 2, 2); err != nil {
		return err
	}
	n, err := capture.Convert(fs.Arg(0), fs.Arg(1), tz.Location)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stderr, "%d records written to %s\n", n, fs.Arg(1))
	return nil
}
