package main

import (
	"context"

	"github.com/vigil-ids/vigil/offline"
	"github.com/vigil-ids/vigil/rules/defaults"
)

func cmdTest(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "test", "--rules PATH [flags] CAPTURE...",
		"Runs the engine over capture files (.ncf, .pcap or .pcapng, detected by\ncontent) and prints alerts as EVE JSON lines on stdout, in packet order, and a\nper-rule summary on stderr. The results are those `vigil run` gives for the\nsame packets. A record that cannot be read is skipped, keeps its frame number,\nand is counted on stderr with its reason and byte offset.\n\nExit status: 0 when every capture was read to its end (skipped records are no\nerror); 3 when a capture could not be read at all or a read error cut it short\n(the others are still run); 2 on a usage error; 1 on any other error.")
	var rulePaths pathList
	fs.Var(&rulePaths, "rules", "rule file or folder (repeatable; default: the built-in rule set)")
	builtin := fs.Bool("default-rules", false, "load the built-in rules with --rules (which may override or disable them by sid)")
	eveLog := fs.String("eve-log", "", "also append alerts to this file as EVE JSON lines")
	save := fs.String("save-injected", "", "write the frames reset rules would inject to this capture file (.pcap, .pcapng or .ncf)")
	tz := tzFlag(fs, "time zone of NCF timestamps (IANA name)")
	workers := fs.Int("workers", 1, "evaluation goroutines (1 keeps the output in packet order)")
	profile := fs.Bool("profile", false, "print per-rule cost (evaluations, matches, time) sorted by time")
	quiet := fs.Bool("quiet", false, "no per-rule summary (captures with unreadable records are still listed)")
	if err := parse(fs, args, 1, -1); err != nil {
		return err
	}
	set, err := defaults.Load(*builtin, rulePaths...)
	if err != nil {
		return err
	}
	res, err := offline.Run(ctx, offline.Config{
		Rules: set, Files: fs.Args(), Out: env.stdout, EveLog: *eveLog, SaveInjected: *save,
		Zone: tz.Location, Workers: *workers, Progress: env.stderr,
	})
	if res != nil {
		res.WriteSummary(env.stderr, offline.SummaryOptions{Profile: *profile, Quiet: *quiet})
	}
	return err
}
