package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/vigil-ids/vigil/rules"
	"github.com/vigil-ids/vigil/rules/field"
)

func cmdFields(_ context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "fields", "[--markdown]",
		"Prints every field a rule condition may use (Wireshark display-filter names,\nwith Wireshark's meaning), its type, and the functions conditions may call.")
	markdown := fs.Bool("markdown", false, "print the reference as a Markdown table")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *markdown {
		_, err := fmt.Fprint(env.stdout, field.Markdown())
		return err
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FIELD\tTYPE\tMEANING")
	for _, f := range field.Catalog() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", f.Name, f.Type, f.Doc)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(env.stdout, "\nFUNCTIONS")
	tw = tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	for _, f := range rules.Functions() {
		fmt.Fprintf(tw, "%s\t%s\n", f.Signature, f.Doc)
	}
	return tw.Flush()
}
