package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/vigil-ids/vigil/tools/gen"
)

func cmdGen(_ context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "gen", "[--packets N] [--seed S] [--hit-rate R] OUT",
		"Writes a synthetic capture with a realistic traffic mix (HTTP, TLS, SSH, DNS,\nICMP, port scans; IPv4 and IPv6; some 802.1Q) for benchmarks and load tests.\nA share of the packets carries attack content typical rules detect (--hit-rate).\nThe output depends only on the flags. OUT's format is chosen by its extension\n(.ncf, .pcap, .pcapng). --rules also writes a generated rule pack to match.")
	packets := fs.Int("packets", 100000, "number of packets")
	seed := fs.Uint64("seed", 1, "seed: the same seed gives the same capture")
	hitRate := fs.Float64("hit-rate", 0.01, "share of packets carrying attack content, 0 to about 0.25")
	rate := fs.Float64("rate", gen.DefaultRate, "mean packets per second of the timestamps")
	start := fs.String("start", gen.DefaultStart.Format(time.RFC3339), "timestamp of the first packet (RFC 3339)")
	rulesOut := fs.String("rules", "", "also write a pack of --rule-count generated rules (60% header, 40% content rules) to this YAML file")
	ruleCount := fs.Int("rule-count", 1000, "number of rules --rules writes")
	if err := parse(fs, args, 1, 1); err != nil {
		return err
	}
	t0, err := time.Parse(time.RFC3339Nano, *start)
	if err != nil {
		return fmt.Errorf("--start: %w", err)
	}
	cfg := gen.Config{Packets: *packets, Seed: *seed, HitRate: *hitRate, Rate: *rate, Start: t0}
	st, err := gen.WriteFile(fs.Arg(0), cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stderr, "%d packets (%d bytes of frames, %d sessions, %d hits) written to %s\n",
		st.Packets, st.Bytes, st.Sessions, st.Hits, fs.Arg(0))
	if *rulesOut == "" {
		return nil
	}
	return os.WriteFile(*rulesOut, []byte(gen.Rules(*ruleCount, *seed)), 0o644)
}
