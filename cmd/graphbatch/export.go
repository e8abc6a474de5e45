package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/graphbatch/graphbatch/batch"
	"github.com/graphbatch/graphbatch/csvio"
	"github.com/graphbatch/graphbatch/graph"
)

type exportOptions struct {
	Resource  string
	Select    []string
	Filter    string
	Keys      []string // NAME=VALUE
	Out       string
	Overwrite bool
	PageSize  int
	ReadRate  string
	Emulator  bool
	Target    targetOptions
	SignIn    signInOptions
	Log       logOptions
}

func newExportCmd(std streams) *cobra.Command {
	opts := &exportOptions{}
	cmd := &cobra.Command{
		Use:   "export TARGET --select A,B[,...] --out FILE [--filter ODATA] [--key NAME=VALUE ...]",
		Short: "List a collection into a CSV that update takes as input",
		Long: `List TARGET's collection, following Graph's pages, and write one row per
entity in update's input format for TARGET: the key columns, @odata.type when
the target has derived types, then the --select columns, with #null for
null, #empty for an empty string and JSON for complex and collection values.
Edit the file, then 'graphbatch update TARGET --in FILE --skip-unchanged'
writes only the rows you changed; unedited, it writes nothing.

--key fixes the template's outer placeholders, e.g. --key policyId=… for
the statuses of one compliance policy. Pages are paced by --read-rate
(default: the service's documented limit for any request, less writes).

Exit status: 0 done, 1 the run could not go on, 2 usage error, 130 interrupted.`,
		Example: `  graphbatch export users --select department,usageLocation,jobTitle --filter "department eq 'Finance'" --out finance.csv
  graphbatch export device-statuses --key policyId=6513270e-… --select status,deviceDisplayName --out statuses.csv`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Resource = args[0]
			return runExport(cmd.Context(), opts, std)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&opts.Select, "select", nil, "the columns to export, comma-separated (required)")
	f.StringVar(&opts.Filter, "filter", "", "an OData `$filter`, such as \"department eq 'Finance'\"")
	f.StringArrayVar(&opts.Keys, "key", nil, "`NAME=VALUE` of an outer placeholder of the template (repeat for each)")
	f.StringVar(&opts.Out, "out", "", "the CSV `FILE` to write (required)")
	f.BoolVar(&opts.Overwrite, "overwrite", false, "replace an existing --out")
	f.IntVar(&opts.PageSize, "page-size", 0, "entities per page ($top); 0 lets Graph choose")
	f.StringVar(&opts.ReadRate, "read-rate", "", "ceiling on pages read, `N/DURATION`")
	f.BoolVar(&opts.Emulator, "emulator", false, "list an in-process Graph emulator's store: no tenant, no credentials")
	opts.Target.addFlags(cmd)
	opts.SignIn.addFlags(cmd)
	opts.Log.addFlags(cmd)
	return cmd
}

func runExport(ctx context.Context, opts *exportOptions, std streams) error {
	log, err := opts.Log.logger(std, std.Err)
	if err != nil {
		return err
	}
	if opts.Out == "" || len(opts.Select) == 0 {
		return usagef("--out and --select are required")
	}
	if err := distinctFiles(std.In, namedFile{"--out", opts.Out}); err != nil {
		return err
	}
	t, err := opts.Target.open(opts.Resource)
	if err != nil {
		return err
	}
	outer, err := outerKeys(t, opts.Keys)
	if err != nil {
		return err
	}
	read, err := parseRateFlag("--read-rate", opts.ReadRate, t.Profile().ReadLimit(), false)
	if err != nil {
		return err
	}
	cfg := batch.ExportConfig{Target: t, Select: opts.Select, Filter: opts.Filter, Outer: outer, PageSize: opts.PageSize,
		NullToken: opts.Target.NullToken, Pacer: batch.NewReadPacer(read), Stats: new(batch.Stats), Log: log}
	if _, err := cfg.Columns(); err != nil {
		return &usageError{err}
	}
	u := &updateOptions{Emulator: opts.Emulator, SignIn: opts.SignIn, Concurrency: 1}
	client, closeClient, err := u.sender(ctx, std, log, t) // before the file is created: a failed sign-in leaves none
	if err != nil {
		return err
	}
	defer closeClient()
	mode := csvio.New
	if opts.Overwrite {
		mode = csvio.Overwrite
	}
	out, err := csvio.OpenTable(opts.Out, "export file", cfg.Header(), mode, nil)
	if errors.Is(err, csvio.ErrExists) {
		return usagef("%v: add --overwrite to replace it", err)
	}
	if err != nil {
		return fileUsage(err)
	}
	start := time.Now()
	err = batch.Export(ctx, client, out, cfg)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	sum := cfg.Stats.Snapshot()
	fmt.Fprintf(std.Err, "\n%s exported in %s from %s read (%d answered 429, %d 5xx or lost)\n  file: %s\n",
		plural(sum.Valid, "row"), time.Since(start).Round(time.Millisecond), plural(sum.Reads, "page"), sum.Throttled, sum.Faults, terminalSafe(opts.Out))
	return err
}

// outerKeys returns the values --key gives the template's placeholders
// but the last, in order.
func outerKeys(t *graph.Target, given []string) ([]string, error) {
	want := t.Keys[:len(t.Keys)-1]
	outer := make([]string, len(want))
	for _, kv := range given {
		name, value, ok := strings.Cut(kv, "=")
		i := slices.IndexFunc(want, func(k string) bool { return strings.EqualFold(k, name) })
		if !ok || i < 0 {
			return nil, usagef("--key %s: want NAME=VALUE with NAME one of the outer placeholders (%s)", graph.Quote(kv), strings.Join(want, ", "))
		}
		if err := graph.CheckKey(value); err != nil {
			return nil, usagef("--key %s: the value %v", name, err)
		}
		outer[i] = value
	}
	for i, v := range outer {
		if v == "" {
			return nil, usagef("--key %s=VALUE is required: the template %s has it before the entity's own key", want[i], t.Template)
		}
	}
	return outer, nil
}
