package batch

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/graphbatch/graphbatch/csvio"
	"github.com/graphbatch/graphbatch/graph"
)

// readBurst is how many outcomes the reader gathers before handing them to
// the writer; readChunk, how many items before handing them to the packer.
const (
	readBurst = 256
	readChunk = 64
)

// item is one valid row on its way to Graph.
type item struct {
	row      int
	reqID    string // the $batch item id: the row number, set when sent
	policyID string
	id       string
	key      entityKey
	patch    graph.Patch

	sends     int // times sent: the attempts column
	failures  int // sends answered 5xx or lost, counted against MaxAttempts
	throttles int // sends answered 429
	reauths   int // sends answered 401
}

// read turns rows into items, recording invalid rows (and, in a dry run,
// valid ones) directly. Rows an earlier run updated are skipped. It stops,
// without error, when ctx is done.
func (p *pipeline) read(ctx context.Context, src rowReader, items chan<- []*item) error {
	defer close(items)
	f := &feed{p: p, items: items}
	defer f.send(ctx)
	// A source that can say it has no input at hand makes the reader hand
	// over what it gathered before a Read that may wait.
	b, canTell := src.(interface{ Buffered() int })
	for seen := 0; p.cfg.Limit == 0 || seen < p.cfg.Limit; {
		if ctx.Err() != nil {
			return nil
		}
		row, err := src.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		num, rowErr := row.Num, (*csvio.RowError)(nil)
		if err != nil {
			if !errors.As(err, &rowErr) { // only here: taking rowErr's address moves it to the heap
				return err
			}
			num = rowErr.Row
		}
		if p.cfg.Rows.past(num) {
			break
		}
		if !p.cfg.Rows.has(num) {
			continue
		}
		seen++
		p.stats.Read.Add(1)
		if rowErr != nil {
			var policyID, id string
			if len(row.Fields) >= 2 { // the record was read, but is not a row
				policyID, id = row.Fields[0], row.Fields[1]
			}
			f.record(invalid(rowErr.Row, policyID, id, rowErr.Err))
		} else if err := f.take(ctx, row); err != nil {
			return err
		}
		if canTell && b.Buffered() == 0 { // the next Read may wait: let nothing wait with it
			f.send(ctx)
		}
	}
	p.stats.AllRead.Store(true) // to the end of the input, --rows or --limit
	return nil
}

// feed is what the reader has gathered for the stages after it: items for
// the packer, outcomes for the writer. Handing them over a chunk at a time
// saves a goroutine switch a row.
type feed struct {
	p        *pipeline
	items    chan<- []*item
	chunk    []*item
	outcomes []csvio.Result
	scratch  []byte // a dry run's PATCH bodies, built to validate and thrown away
}

// take validates one row and gathers its item, or records its outcome. It
// fails when the row does not match the results file being resumed.
func (f *feed) take(ctx context.Context, row csvio.Row) error {
	p := f.p
	policyID, id := row.Fields[0], row.Fields[1]
	if h := p.cfg.History; h != nil {
		if !h.Match(row.Num, []string{policyID, id}) {
			return &MismatchError{Row: row.Num, PolicyID: policyID, ID: id}
		}
		if h.Done(row.Num) {
			p.stats.Skipped.Add(1)
			return nil
		}
	}
	if p.cfg.DryRun {
		var err error
		if f.scratch, err = p.cfg.Schema.Validate(f.scratch[:0], policyID, id, row.Fields[2:]); err != nil {
			f.record(invalid(row.Num, policyID, id, err))
		} else {
			f.record(csvio.Result{Row: row.Num, Keys: []string{policyID, id}, Outcome: csvio.Valid})
		}
		return nil
	}
	it, res := p.validate(row)
	if res != nil {
		f.record(*res)
		return nil
	}
	if f.chunk = append(f.chunk, it); len(f.chunk) == readChunk {
		f.send(ctx)
	}
	return nil
}

// record gathers an outcome, stamped now.
func (f *feed) record(r csvio.Result) {
	r.FinishedAt = time.Now()
	if f.outcomes = append(f.outcomes, r); len(f.outcomes) == readBurst {
		f.p.emit(f.outcomes...)
		f.outcomes = nil
	}
}

// send hands over what was gathered: outcomes first, as the packer may
// keep the reader waiting.
func (f *feed) send(ctx context.Context) {
	f.p.emit(f.outcomes...)
	f.outcomes = nil
	if len(f.chunk) == 0 {
		return
	}
	select {
	case f.items <- f.chunk:
		f.chunk = make([]*item, 0, readChunk)
	case <-ctx.Done():
	}
}

// validate returns the item for row, or the invalid outcome that replaces it.
func (p *pipeline) validate(row csvio.Row) (*item, *csvio.Result) {
	policyID, id := row.Fields[0], row.Fields[1]
	patch, err := p.cfg.Schema.NewPatch(policyID, id, row.Fields[2:])
	if err != nil {
		r := invalid(row.Num, policyID, id, err)
		return nil, &r
	}
	return &item{
		row:      row.Num,
		policyID: policyID,
		id:       id,
		key:      keyOf(policyID, id),
		patch:    patch,
	}, nil
}

// invalid is the outcome of a row that is not sent; record stamps it.
func invalid(row int, policyID, id string, err error) csvio.Result {
	return csvio.Result{Row: row, Keys: []string{policyID, id}, Outcome: csvio.Invalid, ErrorMessage: err.Error()}
}
