package main

import (
	"github.com/spf13/cobra"

	"github.com/graphbatch/graphbatch/graph"
)

const planLong = `Read each row's entity from Graph and write down what an update with
the same file would change, writing nothing to Graph.

The plan (--out, default: the input path with .plan.csv for .csv) has a line
per property that would change:

  row,<key columns>,property,current,desired

with values as the input writes them (#null for null, JSON for complex and
collection values). The summary counts the rows to change, those already
unchanged, those missing (404) and those invalid.

Exit status:
  0    every row could be planned
  1    the run could not go on (sign-in failed, the plan not writable, ...)
  2    usage or input error found before anything was sent
  3    some rows are invalid, missing or could not be read
  130  interrupted by Ctrl-C or SIGTERM`

func newPlanCmd(std streams) *cobra.Command {
	opts := &updateOptions{Plan: true, BatchSize: graph.MaxBatchSize}
	cmd := &cobra.Command{
		Use:   "plan TARGET --in FILE [--out PLAN.csv] [flags]",
		Short: "Show what an update would change, without changing anything",
		Long:  planLong,
		Example: `  graphbatch plan users --in hr.csv --out hr.plan.csv
  graphbatch plan device-statuses --in samples/device-statuses.csv --emulator`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Resource = args[0]
			return runUpdate(cmd.Context(), opts, std)
		},
	}
	opts.addFlags(cmd)
	return cmd
}
