package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/graphbatch/graphbatch/graph"
)

// targetOptions are the flags that say which metadata a target is
// resolved against, shared by the commands that take a TARGET.
type targetOptions struct {
	APIVersion string
	Metadata   string
	NullToken  string
}

func (o *targetOptions) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.APIVersion, "api-version", string(graph.V1), "Graph API `version`: v1.0 or beta")
	f.StringVar(&o.Metadata, "metadata", "", "Graph's metadata (CSDL) from `FILE` instead of the built-in, e.g. beta's, saved with 'graphbatch metadata save --api-version beta'")
	f.StringVar(&o.NullToken, "null-token", graph.DefaultNullToken, "the cell that sets a property to null (an empty cell leaves it alone)")
}

// betaHint tells how to get the metadata a target on beta needs.
const betaHint = `beta has only the two seed entities built in: save beta's metadata with
  graphbatch metadata save --api-version beta --out beta.csdl
and add --metadata beta.csdl`

// open resolves name, an alias or a path template, against the metadata
// the flags choose.
func (o *targetOptions) open(name string) (*graph.Target, error) {
	v, err := graph.ParseVersion(o.APIVersion)
	if err != nil {
		return nil, &usageError{fmt.Errorf("--api-version: %w", err)}
	}
	if o.NullToken == "" {
		return nil, usagef("--null-token must not be empty: an empty cell leaves a property alone")
	}
	m, err := o.model(v)
	if err != nil {
		return nil, err
	}
	t, err := graph.OpenTarget(name, m, v)
	if err != nil {
		if m.Partial {
			err = fmt.Errorf("%w\n%s", err, betaHint)
		}
		return nil, &usageError{err}
	}
	return t, nil
}

func (o *targetOptions) model(v graph.Version) (*graph.Model, error) {
	if o.Metadata == "" {
		return graph.BuiltinModel(v)
	}
	m, err := graph.LoadModel(o.Metadata)
	if err != nil {
		return nil, usagef("--metadata: %v", err)
	}
	return m, nil
}

// columnHint returns the hint the reader adds for a column t does not
// take: why the metadata refuses it, or that it exists in the other API
// version (platform on beta device statuses).
func (o *targetOptions) columnHint(t *graph.Target) func(string) string {
	return func(col string) string {
		if why := t.WhyNotColumn(col); why != "" {
			return why
		}
		other := graph.Beta
		if t.Version == graph.Beta {
			other = graph.V1
		}
		m, err := graph.BuiltinModel(other)
		if err != nil || o.Metadata != "" {
			return ""
		}
		ot, err := m.Resolve(t.Template)
		if err != nil {
			return ""
		}
		for _, c := range ot.Columns() {
			if strings.EqualFold(c, col) {
				return fmt.Sprintf("%s exists on %s only: add --api-version %s", c, other, other)
			}
		}
		return ""
	}
}
