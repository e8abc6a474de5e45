package batch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/graphbatch/graphbatch/graph"
)

// Lister reads a collection a page at a time; *graph.Client is one.
type Lister interface {
	List(ctx context.Context, v graph.Version, url string) (*graph.Page, error)
}

// ExportConfig says what to export and how.
type ExportConfig struct {
	Target      *graph.Target
	Select      []string // the columns to export, as Target.Columns names them
	Filter      string   // an OData $filter, or ""
	Outer       []string // the values of the target's keys but the last, in order
	PageSize    int      // $top: entities a page; 0 lets Graph choose
	NullToken   string   // default graph.DefaultNullToken
	MaxAttempts int      // sends of a page answered 5xx or lost; default DefaultMaxAttempts
	MaxWait     time.Duration
	Pacer       *Pacer // paces the pages, each one read; default no ceiling
	Stats       *Stats // Reads counts pages, Valid the rows written
	Log         zerolog.Logger
}

// Header returns the export's header: the target's key columns, then
// @odata.type if its type has derived types, then the selected columns.
func (c *ExportConfig) Header() []string {
	h := append([]string(nil), c.Target.Keys...)
	if len(c.Target.Type.AllDerived()) > 0 {
		h = append(h, graph.TypeColumn)
	}
	return append(h, c.Select...)
}

// Export lists the target's collection, following @odata.nextLink, and
// writes a row in update's input format for each entity: its keys, its
// type, and the selected properties, with the null token for nulls and
// JSON for complex and collection values (README, "Safe runs"). It streams: each
// page is written before the next is read. ctx stops it.
func Export(ctx context.Context, list Lister, dst TableWriter, cfg ExportConfig) error {
	if cfg.NullToken == "" {
		cfg.NullToken = graph.DefaultNullToken
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = DefaultMaxWait
	}
	if cfg.Pacer == nil {
		cfg.Pacer = NewPacer(Rate{})
	}
	if cfg.Stats == nil {
		cfg.Stats = new(Stats)
	}
	props, err := cfg.Columns()
	if err != nil {
		return err
	}
	next := cfg.firstPage()
	read := make(map[uint64]bool) // the pages read, by their link's hash: a link back to one is a loop
	seed := maphash.MakeSeed()
	for next != "" {
		h := maphash.String(seed, next)
		if read[h] {
			return fmt.Errorf("the @odata.nextLink %s Graph answered points back to a page already read: the export stops, as it would loop", graph.Quote(next))
		}
		read[h] = true
		page, err := cfg.page(ctx, list, next)
		if err != nil {
			return err
		}
		for _, v := range page.Values {
			rec, err := cfg.row(v, props)
			if err != nil {
				return err
			}
			if err := dst.Write(rec); err != nil {
				return err
			}
			cfg.Stats.Valid.Add(1)
		}
		next = page.NextLink
	}
	cfg.Stats.AllRead.Store(true)
	return dst.Sync()
}

// Columns checks the selected columns and returns the properties they
// name, spelling them as Graph does.
func (c *ExportConfig) Columns() ([]*graph.Prop, error) {
	settable := map[string]*graph.Prop{}
	for _, p := range c.Target.Settable() {
		settable[strings.ToLower(p.Name)] = p
	}
	props := make([]*graph.Prop, len(c.Select))
	for i, name := range c.Select {
		if props[i] = settable[strings.ToLower(name)]; props[i] == nil {
			return nil, fmt.Errorf("--select: %s is not a column of %s", graph.Quote(name), c.Target.Name())
		}
		c.Select[i] = props[i].Name
	}
	return props, nil
}

// firstPage returns the URL of the first page: the collection, with
// $select (unless a column is only on a derived type, which $select would
// have to name with a cast), $filter and $top.
func (c *ExportConfig) firstPage() string {
	q := url.Values{}
	sel := append([]string(nil), c.Target.Type.Key...)
	for _, name := range c.Select {
		if c.Target.Type.Prop(name) == nil {
			sel = nil
			break
		}
		sel = append(sel, name)
	}
	if sel != nil {
		q.Set("$select", strings.Join(sel, ","))
	}
	if c.Filter != "" {
		q.Set("$filter", c.Filter)
	}
	if c.PageSize > 0 {
		q.Set("$top", strconv.Itoa(c.PageSize))
	}
	u := c.Target.CollectionPath(c.Outer)
	if len(q) > 0 {
		u += "?" + strings.ReplaceAll(q.Encode(), "%24", "$")
	}
	return u
}

// page reads one page, paced, waiting as Graph asks and sending again
// after a fault, up to MaxAttempts sends; 429s are not counted, as they
// fail nothing.
func (c *ExportConfig) page(ctx context.Context, list Lister, u string) (*graph.Page, error) {
	for throttles, faults := 0, 0; ; {
		if _, err := c.Pacer.Acquire(ctx, 1); err != nil {
			return nil, err
		}
		c.Stats.Reads.Add(1)
		page, err := list.List(ctx, c.Target.Version, u)
		if err == nil {
			return page, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		v, ge := verdictOf(err)
		switch {
		case v == throttled:
			c.Stats.Throttled.Add(1)
			throttles++
			c.Pacer.Throttle(c.wait(ge, throttles), time.Now())
		case v == transient && faults+1 < c.MaxAttempts && !errors.Is(err, graph.ErrMalformed):
			c.Stats.Faults.Add(1)
			faults++
			if err := sleep(ctx, c.wait(ge, faults)); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("listing %s: %w", u, err)
		}
	}
}

func (c *ExportConfig) wait(ge *graph.Error, n int) time.Duration {
	if d, ok := graph.RetryAfter(ge.RetryAfter, time.Now()); ok {
		return min(d, c.MaxWait)
	}
	return backoff(n)
}

// row returns the export's record for one entity, or why a value it
// holds has no cell (see graph.Prop.CellOf).
func (c *ExportConfig) row(entity json.RawMessage, props []*graph.Prop) ([]string, error) {
	values, err := graph.Values(entity)
	if err != nil {
		return nil, fmt.Errorf("a page Graph answered holds %s, which is not an entity", graph.Quote(string(entity)))
	}
	typ := c.Target.Type
	for _, k := range typ.Key {
		if raw := values[strings.ToLower(k)]; raw == nil || string(raw) == "null" {
			return nil, fmt.Errorf("a page Graph answered holds an entity without its %s: %s", k, graph.Quote(string(entity)))
		}
	}
	rec := append([]string(nil), c.Outer...)
	rec = append(rec, keyCell(values, typ))
	if len(typ.AllDerived()) > 0 {
		name := graph.TypeOf(values)
		rec = append(rec, name)
		if d := typ.Cast(name); d != nil {
			typ = d
		}
	}
	for _, p := range props {
		raw, has := values[strings.ToLower(p.Name)]
		switch {
		case typ.Prop(p.Name) == nil: // a column of another derived type
			rec = append(rec, "")
		case (!has || string(raw) == "null") && !p.Nullable:
			rec = append(rec, "") // Graph left out a value it cannot null: leave it alone
		default:
			cell, err := p.CellOf(raw, c.NullToken)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", typ.ShortName(), graph.Quote(keyCell(values, c.Target.Type)), err)
			}
			rec = append(rec, cell)
		}
	}
	return rec, nil
}

// keyCell returns the entity's key, the value of its key property.
func keyCell(values map[string]json.RawMessage, t *graph.DataType) string {
	var parts []string
	for _, k := range t.Key {
		var s string
		if json.Unmarshal(values[strings.ToLower(k)], &s) != nil {
			s = string(values[strings.ToLower(k)])
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ",")
}
