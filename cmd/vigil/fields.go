package main

import (
	"context"
	"fmt"

	"github.com/vigil-ids/vigil/daemon"

	"github.com/vigil-ids/vigil/rules"
	"github.com/vigil-ids/vigil/rules/field"
)

func cmdVersion(_ context.Context, env *cliEnv, args []string) error {
	if err := parse(newFlags(env, "version", "", "Prints the versions of Vigil (its module), Go and the alert schema."), args, 0, 0); err != nil {
		return err
	}
	_, err := fmt.Fprintln(env.stdout, daemon.Version())
	return err
}

func cmdFields(_ context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "fields", "[--markdown]",
		"Prints every field a rule condition may use (Wireshark display-filter names,\nwith Wireshark's meaning), its type, and the functions conditions may call.")
	markdown := fs.Bool("markdown", false, "print the reference as a Markdown table")
	if err := parse(fs, args, 0, -1); err != nil {
		return err
	}
	if *markdown {
		_, err := fmt.Fprint(env.stdout, field.Markdown())
		return err
	}
	return rules.WriteFields(env.stdout)
}
