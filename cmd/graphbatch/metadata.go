package main

import (
	"errors"
	"fmt"
	neturl "net/url"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/graphbatch/graphbatch/graph"
)

type metadataSaveOptions struct {
	APIVersion string
	Out        string
	SignIn     signInOptions
}

func newMetadataCmd(std streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "metadata",
		Short: "Save Graph's metadata (CSDL) for --metadata",
		Args:  usageArgs(cobra.NoArgs),
	}
	cmd.AddCommand(newMetadataSaveCmd(std))
	return cmd
}

func newMetadataSaveCmd(std streams) *cobra.Command {
	opts := &metadataSaveOptions{}
	cmd := &cobra.Command{
		Use:   "save --api-version VERSION --out FILE",
		Short: "Fetch {graph-root}/{version}/$metadata and save it, for --metadata FILE",
		Long: `Fetch Graph's metadata document for an API version and save it, checked,
to FILE. Graph serves it without sign-in. v1.0's is built into graphbatch;
beta's (about 35 MB, changing weekly) is not, apart from the two seed
entities: save it, then pass --metadata FILE to update, resources, plan or
export.`,
		Example: `  graphbatch metadata save --api-version beta --out beta.csdl
  graphbatch update '/deviceManagement/deviceConfigurations/{id}' --api-version beta --metadata beta.csdl --in fix.csv`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runMetadataSave(cmd, opts, std)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.APIVersion, "api-version", string(graph.Beta), "Graph API `version`: v1.0 or beta")
	f.StringVar(&opts.Out, "out", "", "save to `FILE` (required)")
	opts.SignIn.addEndpointFlags(cmd)
	return cmd
}

func runMetadataSave(cmd *cobra.Command, opts *metadataSaveOptions, std streams) error {
	v, err := graph.ParseVersion(opts.APIVersion)
	if err != nil {
		return &usageError{err}
	}
	if opts.Out == "" {
		return usagef("--out is required: the file to save the metadata to")
	}
	cloud, err := opts.SignIn.cloud()
	if err != nil {
		return err
	}
	hc, err := opts.SignIn.httpClient(1)
	if err != nil {
		return err
	}
	// Written beside the destination, then renamed over it: an interrupted
	// fetch never leaves half a file where a good one was.
	tmp, err := os.CreateTemp(filepath.Dir(opts.Out), ".graphbatch-metadata-*")
	if err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	defer os.Remove(tmp.Name())
	// CreateTemp makes the file private; the metadata is public, and
	// another account (a scheduled job's) may have to read it.
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("--out: %w", err)
	}
	url := cloud.GraphRoot + "/" + string(v) + "/$metadata"
	if err := graph.NewClient(hc, cloud.GraphRoot, nil).Metadata(cmd.Context(), v, tmp); err != nil {
		tmp.Close()
		if uerr, ok := errors.AsType[*neturl.Error](err); ok {
			err = uerr.Err // it repeats the method and the URL
		}
		return fmt.Errorf("fetching %s: %w", url, err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	m, err := graph.LoadModel(tmp.Name())
	if err != nil {
		if inner := errors.Unwrap(err); inner != nil {
			err = inner // without the temporary file's name, which is gone
		}
		return fmt.Errorf("fetching %s: the answer is not usable metadata: %w", url, err)
	}
	if err := os.Rename(tmp.Name(), opts.Out); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	fmt.Fprintf(std.Out, "saved %s metadata (%d types) to %s; use it with --api-version %s --metadata %s\n", v, len(m.Types()), terminalSafe(opts.Out), v, shellWord(opts.Out))
	return nil
}
