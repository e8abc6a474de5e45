package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/graphbatch/graphbatch/graph/graphtest"
)

type emulateOptions struct {
	Listen string
	Seed   uint64
	Log    logOptions
}

func newEmulateCmd(std streams) *cobra.Command {
	opts := &emulateOptions{}
	cmd := &cobra.Command{
		Use:   "emulate [--listen ADDR] [flags]",
		Short: "Serve a local Microsoft Graph emulator",
		Long: `Serve the part of Microsoft Graph that graphbatch uses: POST /{v1.0|beta}/$batch
and PATCH/GET on the resources' entity paths, with Graph's validation and
error shape and an in-memory store. Point update at it with
--graph-endpoint http://ADDR --auth none.

GET /_emulator/counters and GET /_emulator/store show what it has seen.
Entity ids beginning with "missing-" answer 404 ResourceNotFound.`,
		Example: `  graphbatch emulate --listen 127.0.0.1:8080 &
  graphbatch update device-statuses --in samples/device-statuses.csv \
    --graph-endpoint http://127.0.0.1:8080 --auth none`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runEmulate(cmd.Context(), opts, std)
		},
	}
	cmd.Flags().StringVar(&opts.Listen, "listen", "127.0.0.1:8080", "`ADDR` to listen on, host:port")
	cmd.Flags().Uint64Var(&opts.Seed, "seed", 0, "random seed for answer order (0: random)")
	opts.Log.addFlags(cmd)
	return cmd
}

func runEmulate(ctx context.Context, opts *emulateOptions, std streams) error {
	log, err := opts.Log.logger(std)
	if err != nil {
		return err
	}
	emu, err := graphtest.Listen(opts.Listen, graphtest.Options{Seed: opts.Seed})
	if err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	defer emu.Close()
	log.Info().Str("url", emu.URL).Msg("Graph emulator listening; stop it with Ctrl-C")
	fmt.Fprintln(std.Out, emu.URL)
	<-ctx.Done()
	c := emu.Counters()
	log.Info().Int("envelopes", c.Envelopes).Int("items", c.Items).Int("patches", c.Patches).Msg("emulator stopped")
	return nil
}
