package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/graphbatch/graphbatch/graph"
)

type resourcesOptions struct {
	Target targetOptions
}

func newResourcesCmd(std streams) *cobra.Command {
	opts := &resourcesOptions{}
	cmd := &cobra.Command{
		Use:   "resources [TARGET]",
		Short: "List the targets' aliases, or one target's columns, types and pacing",
		Long: `Without TARGET: the aliases graphbatch knows, with their path templates.
Any path template of Graph's metadata is a target too, such as
'/deviceManagement/deviceConfigurations/{id}'.

With TARGET (an alias or a path template): the columns a CSV for it may
have, with their types and whether #null is allowed, the Graph permission
an update needs, and the default pacing with where its numbers come from.`,
		Example: `  graphbatch resources
  graphbatch resources users
  graphbatch resources '/deviceManagement/deviceCompliancePolicies/{id}'
  graphbatch resources device-statuses --api-version beta`,
		Args: usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return printAliases(std)
			}
			t, err := opts.Target.open(args[0])
			if err != nil {
				return err
			}
			return printTarget(std, t)
		},
	}
	opts.Target.addFlags(cmd)
	return cmd
}

func printAliases(std streams) error {
	tw := tabwriter.NewWriter(std.Out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ALIAS\tPATH TEMPLATE\tWHAT")
	for _, a := range graph.Aliases {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", a.Name, a.Template, a.About)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(std.Out, "\nAny path template of Graph's metadata is a target too. 'graphbatch resources TARGET' lists its columns.")
	return nil
}

func printTarget(std streams, t *graph.Target) error {
	w := std.Out
	fmt.Fprintf(w, "%s  (Graph %s, %s)\n", t.Name(), t.Type.Name, t.Version)
	fmt.Fprintf(w, "  PATCH %s\n", t.Template)
	fmt.Fprintf(w, "  metadata: %s\n", t.Model.Source)
	if p := t.Permission(); p != "" {
		fmt.Fprintf(w, "  permission: %s\n", p)
	}
	p := t.Profile()
	fmt.Fprintf(w, "  service: %s; default --rate %s (writes), --read-rate %s (reads)\n    from %s\n", p.Service, p.Write, p.ReadLimit(), p.Source)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\n  COLUMN\tTYPE\t#NULL")
	for _, k := range t.Keys {
		fmt.Fprintf(tw, "  %s\tkey (required)\t\n", k)
	}
	cols := t.Columns()[len(t.Keys):]
	if len(cols) > 0 && cols[0] == graph.TypeColumn {
		fmt.Fprintf(tw, "  %s\tthe row's type: %s or a type derived from it\t\n", graph.TypeColumn, t.Type.ShortName())
	}
	for _, prop := range t.Settable() {
		null := "no"
		if prop.Nullable {
			null = "yes"
		}
		fmt.Fprintf(tw, "  %s\t%s%s\t%s\n", prop.Name, typeDesc(prop), declaredOn(t, prop), null)
	}
	return tw.Flush()
}

// typeDesc describes a property's type as a CSV cell holds it.
func typeDesc(p *graph.Prop) string {
	desc := p.Type.ShortName()
	switch {
	case p.Type.Kind == graph.KindEnum && p.Type.Flags:
		desc += " (flags: members joined by commas): " + strings.Join(p.Type.Members, "|")
	case p.Type.Kind == graph.KindEnum:
		desc += ": " + strings.Join(p.Type.Members, "|")
	}
	if p.Collection {
		desc = "Collection(" + desc + "), as JSON"
	} else if p.Type.Kind == graph.KindComplex {
		desc += ", as a JSON object"
	}
	return desc
}

// declaredOn names the derived types that have p, when t's own type does not.
func declaredOn(t *graph.Target, p *graph.Prop) string {
	if t.Type.Prop(p.Name) != nil {
		return ""
	}
	var on []string
	for _, d := range t.Type.AllDerived() {
		if d.Prop(p.Name) == p {
			on = append(on, d.ShortName())
		}
	}
	if len(on) > 3 {
		on = append(on[:3], "…")
	}
	return " [" + strings.Join(on, ", ") + "]"
}
