package main

import (
	"fmt"
	"slices"
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
		for _, d := range declarations(t, prop) {
			on := ""
			if len(d.on) > 0 {
				on = " [" + strings.Join(d.on, ", ") + "]"
			}
			fmt.Fprintf(tw, "  %s\t%s%s\t%s\n", prop.Name, d.typ, on, d.null)
		}
	}
	return tw.Flush()
}

// declaration is how some of a target's types declare one column.
type declaration struct {
	typ  string   // typeDesc of the property
	null string   // "yes" if it may be null, "no" if not
	on   []string // the derived types that declare it so; none for t's own type
}

// declarations says how t's types declare the column of p, a property of
// t.Settable(): as p, if t's own type has it; else as each derived type
// that has it declares it, types that agree sharing one declaration. Each
// type declares its own property, so one name may have two types
// (passwordRequiredType of an Android and of a Windows compliance policy).
func declarations(t *graph.Target, p *graph.Prop) []declaration {
	if t.Type.Prop(p.Name) != nil {
		return []declaration{newDeclaration(p)}
	}
	var ds []declaration
	for _, typ := range t.Type.AllDerived() {
		dp := typ.Prop(p.Name)
		if dp == nil || !dp.Settable() {
			continue
		}
		d := newDeclaration(dp)
		i := slices.IndexFunc(ds, func(o declaration) bool { return o.typ == d.typ && o.null == d.null })
		if i < 0 {
			i = len(ds)
			ds = append(ds, d)
		}
		ds[i].on = append(ds[i].on, typ.ShortName())
	}
	return ds
}

func newDeclaration(p *graph.Prop) declaration {
	null := "no"
	if p.Nullable {
		null = "yes"
	}
	return declaration{typ: typeDesc(p), null: null}
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
