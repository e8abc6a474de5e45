package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// streams are the command's standard streams and signals; tests replace
// them.
type streams struct {
	In            io.Reader
	Out, Err      io.Writer
	ErrIsTerminal bool
	// Abort is closed by a second Ctrl-C or SIGTERM: stop at once. (The
	// first cancels the command's context: stop gracefully.)
	Abort <-chan struct{}
}

// run executes the command line args and returns the exit status.
func run(ctx context.Context, args []string, std streams) int {
	root := newRootCmd(std)
	root.SetArgs(args)
	started := false // set once flags and arguments were accepted
	root.PersistentPreRun = func(*cobra.Command, []string) { started = true }
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	if !started && !errors.As(err, new(*usageError)) {
		err = &usageError{err} // cobra refused the command line: unknown command, bad arguments
	}
	code := exitCode(err)
	if !started && cmd != nil && (cmd.Name() == "update" || cmd.Name() == "plan") {
		writeRefusedSummary(args, std, err)
	}
	if code != exitRowsFailed && code != exitInterrupted { // those runs told their story already
		fmt.Fprintf(std.Err, "graphbatch: %s\n", terminalSafe(err.Error()))
	}
	if errors.As(err, new(*usageError)) && cmd != nil {
		fmt.Fprintf(std.Err, "usage: %s\nRun '%s --help' for more.\n", cmd.UseLine(), cmd.CommandPath())
	}
	return code
}

func newRootCmd(std streams) *cobra.Command {
	root := &cobra.Command{
		Use:           "graphbatch",
		Short:         "Update Microsoft Graph objects in bulk from a CSV file",
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetIn(std.In)
	root.SetOut(std.Out)
	root.SetErr(std.Err)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	root.AddCommand(
		newUpdateCmd(std),
		newPlanCmd(std),
		newExportCmd(std),
		newEmulateCmd(std),
		newResourcesCmd(std),
		newMetadataCmd(std),
		newVersionCmd(std),
	)
	return root
}

// usageArgs wraps a cobra argument check so its failure is a usage error.
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return &usageError{err}
		}
		return nil
	}
}
