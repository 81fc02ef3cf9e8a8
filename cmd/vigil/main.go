// Command vigil is a rule-based network IDS for CommView mirror streams:
// `vigil run` is the daemon (package daemon), `vigil test` runs the same
// rules over capture files (package offline); `vigil help` lists every
// command.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/vigil-ids/vigil/ncf"
	"github.com/vigil-ids/vigil/offline"
	"github.com/vigil-ids/vigil/rules"
)

// command is one subcommand.
type command struct {
	name  string
	usage string // one line
	run   func(ctx context.Context, env *cliEnv, args []string) error
}

// cliEnv is what a command may touch besides its arguments.
type cliEnv struct {
	stdout, stderr io.Writer
	// hup delivers SIGHUP to `vigil run` (nil when not wired).
	hup <-chan os.Signal
}

var commands = []command{
	{"run", "listen for CommView sensors, evaluate rules, publish alerts to NATS", cmdRun},
	{"test", "run rules over capture files; alerts as JSON lines on stdout", cmdTest},
	{"lint", "check rule files and folders and run their inline tests", func(ctx context.Context, env *cliEnv, args []string) error { return lint(ctx, env, "lint", args) }},
	{"replay", "stream captures to Vigil as CommView does (mirror mode)", cmdReplay},
	{"rules", "list the loaded rules with their state and origin (lint --list)", func(ctx context.Context, env *cliEnv, args []string) error {
		return lint(ctx, env, "rules", append([]string{"--list", "--no-tests"}, args...))
	}},
	{"convert", "convert a capture between NCF, pcap and pcapng", cmdConvert},
	{"alerts", "subscribe to the alert subjects and print alerts", cmdAlerts},
	{"fields", "print the field catalog: every name a condition may use", cmdFields},
	{"filter", "print the frames a Wireshark display filter matches, like tshark -Y", cmdFilter},
	{"gen", "write a synthetic capture with a realistic traffic mix", cmdGen},
	{"version", "print the versions of Vigil, Go and the alert schema", cmdVersion},
}

// errUsage reports bad arguments; the usage has already been printed.
var errUsage = errors.New("usage")

// exitError carries an exit status without printing anything more.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	env := &cliEnv{stdout: os.Stdout, stderr: os.Stderr, hup: hup}
	os.Exit(exitCode(run(ctx, env, os.Args[1:]), env.stderr))
}

func exitCode(err error, stderr io.Writer) int {
	var ee exitError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, errUsage):
		return 2
	case errors.Is(err, rules.ErrInvalid): // file:line:col: message, one a line
		fmt.Fprintln(stderr, err)
		return 1
	case errors.Is(err, offline.ErrUnreadable): // vigil test: each capture's line says why
		return 3
	}
	fmt.Fprintln(stderr, "vigil:", err)
	return 1
}

// run dispatches args to a subcommand.
func run(ctx context.Context, env *cliEnv, args []string) error {
	if len(args) > 0 && args[0] == "--version" {
		args[0] = "version"
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(env.stdout)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(ctx, env, args[1:])
		}
	}
	fmt.Fprintf(env.stderr, "vigil: unknown command %q\n\n", args[0])
	usage(env.stderr)
	return errUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Vigil: a rule-based network IDS for CommView mirror streams.\n\nUsage: vigil COMMAND [flags] [args]\n\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.usage)
	}
	fmt.Fprintln(w, "\nRun 'vigil COMMAND --help' for the flags of a command.")
}

// pathList is a repeatable flag.
type pathList []string

func (p *pathList) String() string     { return strings.Join(*p, ",") }
func (p *pathList) Set(s string) error { *p = append(*p, s); return nil }

// tzFlag defines --tz on fs, UTC by default.
func tzFlag(fs *flag.FlagSet, usage string) *ncf.Zone {
	z := ncf.UTC()
	fs.Var(z, "tz", usage)
	return z
}

// newFlags returns a FlagSet whose usage prints the command's synopsis.
func newFlags(env *cliEnv, name, synopsis, about string) *flag.FlagSet {
	fs := flag.NewFlagSet("vigil "+name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: vigil %s %s\n\n%s\n\nFlags:\n", name, synopsis, about)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args, allowing flags after the positional arguments
// (`vigil replay trace.pcap --rate 100`); "--" ends the flags. A flag not
// given takes the environment variable VIGIL_<FLAG> (--nats-listen:
// VIGIL_NATS_LISTEN) when set. On a usage error, or fewer than minArgs or
// more than maxArgs (if >= 0) positional arguments, it returns errUsage.
func parse(fs *flag.FlagSet, args []string, minArgs, maxArgs int) error {
	var positional []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return errUsage
		}
		rest := fs.Args()
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			positional = append(positional, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	if len(positional) < minArgs || maxArgs >= 0 && len(positional) > maxArgs {
		fs.Usage()
		return errUsage
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		name := "VIGIL_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok && !given[f.Name] && f.Value.Set(v) != nil {
			errs = append(errs, fmt.Errorf("%s=%q: invalid value for --%s", name, v, f.Name))
		}
	})
	if err := errors.Join(errs...); err != nil {
		return err
	}
	// Parse "--" and the positionals, so fs.Args() returns them.
	return fs.Parse(append([]string{"--"}, positional...))
}
