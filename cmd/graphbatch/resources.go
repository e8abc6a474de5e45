package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/graphbatch/graphbatch/graph"
)

func newResourcesCmd(std streams) *cobra.Command {
	return &cobra.Command{
		Use:   "resources",
		Short: "List the resources graphbatch can update, with their columns",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(*cobra.Command, []string) error {
			return printResources(std)
		},
	}
}

func printResources(std streams) error {
	for i, r := range graph.Resources {
		if i > 0 {
			fmt.Fprintln(std.Out)
		}
		fmt.Fprintf(std.Out, "%s  (Graph %s)\n", r.Name, r.Entity)
		fmt.Fprintf(std.Out, "  PATCH %s\n", r.PathTemplate())
		fmt.Fprintf(std.Out, "  permission: %s\n", r.Permission)
		tw := tabwriter.NewWriter(std.Out, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  COLUMN\tTYPE\tAPI VERSIONS")
		fmt.Fprintf(tw, "  %s\tString (required)\t%s\n", graph.PolicyIDColumn, versions(graph.Versions))
		fmt.Fprintf(tw, "  %s\tString (required)\t%s\n", graph.IDColumn, versions(graph.Versions))
		for _, p := range r.Properties {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", p.Name, typeDesc(p.Type), versions(p.Versions()))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

func typeDesc(t *graph.Type) string {
	if t.Members != nil {
		return t.ShortName() + ": " + strings.Join(t.Members, "|")
	}
	return t.ShortName()
}

func versions(vs []graph.Version) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}
