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

// buffered reports whether src has input at hand, so that its next Read
// will not wait. Sources that cannot tell are taken to have it.
func buffered(src rowReader) bool {
	b, ok := src.(interface{ Buffered() int })
	return !ok || b.Buffered() > 0
}

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
	var chunk []*item // rows are handed to the packer a chunk at a time
	send := func() bool {
		if len(chunk) == 0 {
			return true
		}
		select {
		case items <- chunk:
			chunk = make([]*item, 0, readChunk)
			return true
		case <-ctx.Done():
			return false
		}
	}
	defer send()
	var (
		outcomes []csvio.Result // recorded a burst at a time: a million rows of a dry run are a million outcomes
		scratch  []byte         // a dry run's PATCH bodies, built to validate and thrown away
		now      = time.Now()   // the finishedAt of a burst's outcomes
	)
	record := func(r csvio.Result) {
		if outcomes = append(outcomes, r); len(outcomes) == readBurst {
			p.emit(outcomes...)
			outcomes, now = nil, time.Now()
		}
	}
	defer func() { p.emit(outcomes...) }()
	for seen := 0; p.cfg.Limit == 0 || seen < p.cfg.Limit; {
		if ctx.Err() != nil {
			return nil
		}
		row, err := src.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		num, rowErr := row.Num, (*csvio.RowError)(nil)
		if err != nil {
			if !errors.As(err, &rowErr) { // only here: taking rowErr's address moves it to the heap
				return err
			}
			num = rowErr.Row
		}
		if p.cfg.Rows.past(num) {
			return nil
		}
		if !p.cfg.Rows.has(num) {
			continue
		}
		seen++
		p.stats.Read.Add(1)
		if rowErr != nil {
			record(invalid(rowErr.Row, "", "", rowErr.Err, now))
			continue
		}
		if h := p.cfg.History; h != nil {
			if !h.Match(row.Num, row.Fields[0], row.Fields[1]) {
				return &MismatchError{Row: row.Num, PolicyID: row.Fields[0], ID: row.Fields[1]}
			}
			if h.Updated(row.Num) {
				p.stats.Skipped.Add(1)
				continue
			}
		}
		if p.cfg.DryRun {
			var err error
			if scratch, err = p.cfg.Schema.Validate(scratch[:0], row.Fields[0], row.Fields[1], row.Fields[2:]); err != nil {
				record(invalid(row.Num, row.Fields[0], row.Fields[1], err, now))
			} else {
				record(csvio.Result{Row: row.Num, PolicyID: row.Fields[0], ID: row.Fields[1], Outcome: csvio.Valid, FinishedAt: now})
			}
			continue
		}
		it, res := p.validate(row, now)
		switch {
		case res != nil:
			record(*res)
		default:
			// Send when the chunk is full, or when the next Read could wait
			// for a slow input (a pipe): no row waits for others to come.
			if chunk = append(chunk, it); len(chunk) == readChunk || !buffered(src) {
				if !send() {
					return nil
				}
			}
		}
	}
	return nil
}

// validate returns the item for row, or the invalid outcome that replaces it.
func (p *pipeline) validate(row csvio.Row, now time.Time) (*item, *csvio.Result) {
	policyID, id := row.Fields[0], row.Fields[1]
	patch, err := p.cfg.Schema.NewPatch(policyID, id, row.Fields[2:])
	if err != nil {
		r := invalid(row.Num, policyID, id, err, now)
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

func invalid(row int, policyID, id string, err error, at time.Time) csvio.Result {
	return csvio.Result{
		Row:          row,
		PolicyID:     policyID,
		ID:           id,
		Outcome:      csvio.Invalid,
		ErrorMessage: err.Error(),
		FinishedAt:   at,
	}
}
