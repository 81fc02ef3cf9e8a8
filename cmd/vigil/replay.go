package main

import (
	"context"
	"fmt"
	"time"

	"github.com/vigil-ids/vigil/tools/replay"
)

func cmdReplay(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "replay", "--to HOST:PORT [flags] CAPTURE...",
		"A CommView stand-in: connects to Vigil as CommView's mirror mode does\n(retrying every 15 s; after a connection lost mid-stream, resuming after the\nlast record Vigil's TCP acknowledged), streams the captures as NCF records,\nand saves the frames Vigil sends back for injection.")
	to := fs.String("to", "127.0.0.1:5555", "Vigil's sensor address")
	rate := fs.Float64("rate", 0, "packets per second (0: as fast as possible)")
	loop := fs.Bool("loop", false, "stream the captures again and again until interrupted")
	retry := fs.Duration("retry", 15*time.Second, "wait between connection attempts, also after a connection lost mid-stream")
	giveUp := fs.Duration("give-up-after", 0, "fail when no connection delivered records for this long (0: retry for ever, as CommView)")
	linger := fs.Duration("linger", 2*time.Second, "how long to wait for injected frames after the last record")
	save := fs.String("save-injected", "", "write the frames Vigil sends back to this capture file (.pcap, .pcapng or .ncf)")
	tz := tzFlag(fs, "time zone of NCF timestamps (IANA name)")
	if err := parse(fs, args, 1, -1); err != nil {
		return err
	}
	st, err := replay.Run(ctx, replay.Config{Addr: *to, Files: fs.Args(), Rate: *rate, Loop: *loop,
		Retry: *retry, GiveUpAfter: *giveUp, Linger: *linger, Zone: tz.Location, SaveInjected: *save})
	if st.Attempts > 0 { // not refused before any network action
		fmt.Fprintf(env.stderr, "%d records (%d bytes) sent, %d frames received for injection\n", st.Records, st.Bytes, st.Injected)
	}
	return err
}
