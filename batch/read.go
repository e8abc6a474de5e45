package batch

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/graphbatch/graphbatch/csvio"
	"github.com/graphbatch/graphbatch/graph"
)

// item is one input row on its way to its outcome. Only the scheduler
// touches a row once the reader has handed it over.
type item struct {
	num, line int
	keys      []string
	key       string // the entity's identity (entityKey)
	patch     graph.Patch

	kind      kind      // what its next envelope does: read it first, or write it
	reqID     string    // the $batch item id, the row number
	reads     int       // times sent to be read
	writes    int       // times sent to be written
	failures  int       // sends answered 5xx or lost, counted against MaxAttempts
	throttles int       // sends answered 429
	reauths   int       // sends answered 401
	due       time.Time // while backing off: when it may be sent again

	// current is, between its read and its backup, what Graph holds
	// (Backup.current).
	current map[string]json.RawMessage
}

// chunk is what the reader hands the scheduler at a time: rows to send,
// the outcomes of rows that are not sent (invalid, or valid in a dry run),
// and at the end the reason reading stopped (nil at the end of the input).
type chunk struct {
	rows []*item
	done []record
	end  bool
	err  error
}

// readChunk is how many rows the reader gathers before handing them over:
// a hand-off a row would cost more than reading it.
const readChunk = 64

// read turns src's rows into rows for the scheduler, validating them; rows
// an earlier run finished are skipped. It stops at the end of the input,
// at --limit or --rows, or when quit is closed. A Read that blocks (a pipe)
// keeps it waiting, which is why Run does not wait for it.
func read(src RowReader, cfg *Config, patches *graph.Row, out chan<- chunk, quit <-chan struct{}) {
	var batch []*item
	var done []record
	hand := func(c chunk) bool {
		now := time.Now() // the outcomes of rows not sent are known when handed over
		for i := range done {
			done[i].FinishedAt = now
		}
		c.rows, c.done = batch, done
		batch, done = nil, nil
		select {
		case out <- c:
			return true
		case <-quit:
			return false
		}
	}
	b, canTell := src.(interface{ Buffered() int })
	for seen := 0; cfg.Limit == 0 || seen < cfg.Limit; {
		rec, err := src.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		num, rowErr := rec.Num, (*csvio.RowError)(nil)
		if err != nil {
			if !errors.As(err, &rowErr) {
				hand(chunk{end: true, err: err})
				return
			}
			num = rowErr.Row
		}
		if cfg.Rows.past(num) {
			break
		}
		if !cfg.Rows.has(num) {
			continue
		}
		seen++
		cfg.Stats.Read.Add(1)
		r, outcome, err := newItem(rec, rowErr, cfg, patches)
		switch {
		case err != nil:
			hand(chunk{end: true, err: err})
			return
		case r != nil:
			batch = append(batch, r)
		case outcome.Outcome != "":
			if done == nil {
				done = make([]record, 0, readChunk)
			}
			done = append(done, outcome)
		}
		if n := len(batch) + len(done); n == readChunk || (canTell && b.Buffered() == 0 && n > 0) { // the next Read may wait: let nothing wait with it
			if !hand(chunk{}) {
				return
			}
		}
	}
	cfg.Stats.AllRead.Store(true) // to the end of the input, --rows or --limit
	hand(chunk{end: true})
}

// newItem validates one record. It returns the item to send, or the
// outcome of a row that is not sent, or neither (a zero record) for a row
// an earlier run finished; and an error when the row does not match that
// run's record.
func newItem(rec csvio.Row, rowErr *csvio.RowError, cfg *Config, patches *graph.Row) (*item, record, error) {
	nkeys := len(cfg.Target.Keys)
	keys := make([]string, nkeys) // a copy: the reader may reuse Fields
	if len(rec.Fields) >= nkeys { // the record was read, even if it is not a row
		copy(keys, rec.Fields)
	}
	if rowErr != nil {
		return nil, invalid(rowErr.Row, rowErr.Line, keys, rowErr.Err), nil
	}
	if h := cfg.History; h != nil {
		if !h.Match(rec.Num, keys) {
			return nil, record{}, &MismatchError{Row: rec.Num, Keys: keys}
		}
		if h.Done(rec.Num) {
			cfg.Stats.Skipped.Add(1)
			return nil, record{}, nil
		}
	}
	if cfg.DryRun { // validated as for sending, but nothing built
		if err := patches.Check(rec.Fields); err != nil {
			return nil, invalid(rec.Num, rec.Line, keys, err), nil
		}
		return nil, record{Result: csvio.Result{Row: rec.Num, Keys: keys, Outcome: csvio.Valid}, line: rec.Line}, nil
	}
	patch, err := patches.NewPatch(rec.Fields)
	if err != nil {
		return nil, invalid(rec.Num, rec.Line, keys, err), nil
	}
	return &item{num: rec.Num, line: rec.Line, keys: keys, patch: patch, key: entityKey(keys)}, record{}, nil
}

// entityKey is the identity of the entity keys name, as Graph tells
// entities apart: keys trimmed, as their URL has them, and in lower case.
func entityKey(keys []string) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = strings.ToLower(strings.TrimSpace(k))
	}
	return strings.Join(parts, "\x00")
}

// invalid is the outcome of a row that is not sent. Its message starts
// with the line of the file the row starts on, for finding it in a
// spreadsheet, where row numbers and line numbers part at the first
// multi-line cell.
func invalid(num, line int, keys []string, err error) record {
	msg := err.Error()
	if line > 0 {
		msg = fmt.Sprintf("line %d: %s", line, msg)
	}
	return record{Result: csvio.Result{Row: num, Keys: keys, Outcome: csvio.Invalid, ErrorMessage: msg}, line: line}
}

// CheckHistory reads every row of src and checks it against h, what an
// earlier run recorded: a row it finished must have the keys it recorded
// (nkeys key columns, first in each row). It returns a *MismatchError for
// the first that does not, so that a changed input is caught before
// anything is sent.
func CheckHistory(src RowReader, nkeys int, h *csvio.History) error {
	for {
		rec, err := src.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if errors.As(err, new(*csvio.RowError)) {
			continue // not a row: its keys cannot be told
		}
		if err != nil {
			return err
		}
		if keys := rec.Fields[:nkeys]; !h.Match(rec.Num, keys) {
			return &MismatchError{Row: rec.Num, Keys: slices.Clone(keys)}
		}
	}
}
