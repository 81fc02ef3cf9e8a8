package main

import (
	"context"
	"os"
	"strings"

	"github.com/vigil-ids/vigil/daemon"
)

func cmdRun(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "run", "[flags]",
		"Listens for CommView sensors (CV.EXE mirror:HOST:PORT), evaluates every\npacket against the rules, publishes alerts to NATS and injects responses.\nSIGINT/SIGTERM drain and stop; SIGHUP reloads the rules.")
	// The file (--config or $VIGIL_CONFIG) first, then the flags over it;
	// parse applies VIGIL_<FLAG> variables between the two.
	cfg, err := daemon.LoadConfig(configPath(args))
	if err != nil {
		return err
	}
	fs.String("config", "", "YAML file with any of these settings, keys as the flag names")
	for _, s := range cfg.Settings() {
		fs.Var(s.Value, s.Name, s.Usage)
	}
	if err := parse(fs, args, 0, -1); err != nil {
		return err
	}
	cfg.Log = env.stderr
	return daemon.Run(ctx, cfg, env.hup)
}

// configPath finds --config in args before the flags are defined, else
// $VIGIL_CONFIG.
func configPath(args []string) string {
	for i, a := range args {
		for _, p := range []string{"--config", "-config"} {
			if a == p && i+1 < len(args) {
				return args[i+1]
			}
			if v, ok := strings.CutPrefix(a, p+"="); ok {
				return v
			}
		}
	}
	return os.Getenv("VIGIL_CONFIG")
}
