package main

import (
	"context"

	"github.com/vigil-ids/vigil/offline"
)

func cmdFilter(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "filter", "'FILTER' CAPTURE...",
		"Prints the numbers of the frames a Wireshark display filter matches, like\ntshark -Y FILTER (the filter as a wireshark: rule, through the whole engine).")
	if err := parse(fs, args, 2, -1); err != nil {
		return err
	}
	return offline.Filter(ctx, env.stdout, fs.Arg(0), fs.Args()[1:])
}
