// Package batch runs the update pipeline: it reads rows, validates them,
// packs valid ones into $batch envelopes, sends them through a pool of
// workers sharing one pacer, resends what Graph asks to have resent, and
// records exactly one outcome per row.
package batch

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/graphbatch/graphbatch/csvio"
	"github.com/graphbatch/graphbatch/graph"
)

// Config says how to run. Zero values mean the documented defaults.
type Config struct {
	// Schema is the resource and API version rows are validated against.
	// The source's Row.Fields must be in the order of Schema.Columns.
	Schema      *graph.Schema
	BatchSize   int           // items per envelope, 1 to graph.MaxBatchSize; default graph.MaxBatchSize
	Concurrency int           // envelopes in flight at once; default DefaultConcurrency
	MaxAttempts int           // sends of a row answered 5xx or lost before it is failed (429s and 401s do not count); default DefaultMaxAttempts
	MaxWait     time.Duration // longest wait one Retry-After may impose; default DefaultMaxWait
	Limit       int           // process only the first Limit data rows (of Rows, if set); 0 means all
	Rows        RowRange      // process only these data rows; the zero value means all
	DryRun      bool          // validate only: outcomes are valid or invalid and nothing is sent
	Pacer       *Pacer        // shared by all workers; default a Pacer with no ceiling
	Stats       *Stats        // live counts; default a private one
	Log         zerolog.Logger
	// History is what an earlier run recorded, for --resume: rows it
	// updated are skipped, and rows must have the keys it recorded for
	// them. Nil means a fresh run.
	History *csvio.History
	// Stop, when closed, stops the run gracefully: nothing more is read or
	// sent, envelopes in flight finish and are recorded, and every wait
	// (throttling, backoff) ends at once. Run then returns ErrInterrupted.
	// Cancelling Run's context instead stops everything at once.
	Stop <-chan struct{}
}

// RowRange is a slice of the input by data row number, both ends included;
// Last 0 means to the end.
type RowRange struct{ First, Last int }

// has reports whether row n is in the range.
func (r RowRange) has(n int) bool { return n >= r.First && (r.Last == 0 || n <= r.Last) }

// Count returns how many of the rows 1 to n are in the range.
func (r RowRange) Count(n int) int {
	if r.Last > 0 {
		n = min(n, r.Last)
	}
	return max(n-max(r.First, 1)+1, 0)
}

// past reports whether row n is beyond the range.
func (r RowRange) past(n int) bool { return r.Last != 0 && n > r.Last }

// Defaults for Config's zero values.
const (
	DefaultConcurrency = 4
	DefaultMaxAttempts = 8
	DefaultMaxWait     = 10 * time.Minute
)

func (c *Config) setDefaults() {
	if c.BatchSize <= 0 || c.BatchSize > graph.MaxBatchSize {
		c.BatchSize = graph.MaxBatchSize
	}
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.MaxWait <= 0 {
		c.MaxWait = DefaultMaxWait
	}
	if c.Pacer == nil {
		c.Pacer = NewPacer(Rate{})
	}
	if c.Stats == nil {
		c.Stats = new(Stats)
	}
	if c.Rows.First < 1 {
		c.Rows.First = 1
	}
}

// rowReader is where rows come from; *csvio.Reader is one.
type rowReader interface {
	Read() (csvio.Row, error)
}

// resultWriter is where outcomes go; *csvio.Writer is one.
type resultWriter interface {
	Write(*csvio.Result) error
	Flush() error
}

// sender sends one envelope; *graph.Client is one.
type sender interface {
	Batch(ctx context.Context, v graph.Version, reqs []graph.Request) (*graph.BatchResult, error)
	// Reauthenticate gets a new token after Graph refused the token of
	// generation gen (BatchResult.TokenGen).
	Reauthenticate(ctx context.Context, gen uint64) error
}

// flushInterval is how often the results file is flushed, so that its
// fsync comes in time even while no row finishes.
const flushInterval = 250 * time.Millisecond

// ErrInterrupted is returned by Run after a graceful stop (Config.Stop).
var ErrInterrupted = errors.New("interrupted")

// MismatchError says that the results file being resumed was written for
// another input, or that the input changed since: a row's keys differ from
// the ones recorded under its number. The run stops at that row; rows
// before it matched.
type MismatchError struct {
	Row          int
	PolicyID, ID string // as the input has them
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("the results file does not belong to this input: row %d (policyId %q, id %q) was recorded with other keys", e.Row, e.PolicyID, e.ID)
}

// Run reads every row from src and writes one outcome per row to dst.
// Rows that fail validation are recorded as invalid without being sent; a
// row Graph refuses is recorded as failed and the run goes on. Run returns
// an error only when the run could not go on: src or dst failed, signing
// in failed, the input does not match Config.History (*MismatchError), the
// run was stopped (ErrInterrupted) or ctx was cancelled.
// Rows still in flight then have no outcome, and a later --resume sends
// them again. send may be nil for a dry run.
func Run(ctx context.Context, src rowReader, dst resultWriter, send sender, cfg Config) (Summary, error) {
	cfg.setDefaults()
	start := time.Now()
	p := &pipeline{
		cfg:        cfg,
		send:       send,
		stats:      cfg.Stats,
		locks:      newKeyLocks(),
		results:    make(chan []csvio.Result, 32),
		writerDone: make(chan struct{}),
	}
	parent := ctx
	g, ctx := errgroup.WithContext(ctx)
	// soft ends reading, packing and waiting; ctx, sends in flight. Stages
	// that end with soft return nil: a stop is not their failure.
	soft, stopped := softContext(ctx, cfg.Stop)
	items := make(chan []*item, 4)
	envelopes := make(chan []*item)
	var producers sync.WaitGroup // everyone who sends on p.results
	producers.Add(1 + cfg.Concurrency)
	g.Go(func() error { defer producers.Done(); return p.read(soft, src, items) })
	g.Go(func() error { return p.pack(soft, items, envelopes) })
	for range cfg.Concurrency {
		g.Go(func() error { defer producers.Done(); return p.work(ctx, soft, envelopes) })
	}
	g.Go(func() error { producers.Wait(); close(p.results); return nil })
	g.Go(func() error { return p.write(dst) })
	err := g.Wait()
	switch {
	case err != nil:
	case parent.Err() != nil:
		err = parent.Err()
	case stopped():
		err = ErrInterrupted
	}
	sum := p.stats.Snapshot()
	sum.Duration = time.Since(start)
	return sum, err
}

// softContext returns a context that is done when ctx is, or when stop is
// closed, and reports whether stop was.
func softContext(ctx context.Context, stop <-chan struct{}) (context.Context, func() bool) {
	soft, cancel := context.WithCancel(ctx)
	var stopped atomic.Bool
	go func() {
		select {
		case <-stop:
			stopped.Store(true)
			cancel()
		case <-soft.Done():
		}
	}()
	return soft, stopped.Load
}

type pipeline struct {
	cfg        Config
	send       sender
	stats      *Stats
	locks      *keyLocks
	results    chan []csvio.Result // outcomes, a burst at a time
	writerDone chan struct{}       // closed when write returns
	problems   int                 // invalid or failed rows seen by the writer

	throttleLogged atomic.Int64 // the pacer's wait logged last, Unix ns
}

// emit hands outcomes to the writer. If the writer has stopped, the run is
// failing and the outcomes are dropped: what cannot be recorded is lost
// to --resume, which sends the rows again.
func (p *pipeline) emit(rs ...csvio.Result) {
	if len(rs) == 0 {
		return
	}
	select {
	case p.results <- rs:
	case <-p.writerDone:
	}
}

// write owns dst. It hands outcomes to dst within groupCommit of their
// arrival, in one Flush for all that arrived meanwhile, so that a crash
// loses at most the outcomes of rows still in flight or just answered; it
// also flushes every flushInterval, for dst's fsync, and at the end.
func (p *pipeline) write(dst resultWriter) error {
	defer close(p.writerDone)
	tick := time.NewTicker(flushInterval)
	defer tick.Stop()
	var commit <-chan time.Time // set while outcomes wait for their flush
	for {
		select {
		case rs, ok := <-p.results:
			if !ok {
				return dst.Flush()
			}
			for i := range rs {
				if err := p.record(dst, &rs[i]); err != nil {
					return err
				}
			}
			if commit == nil {
				commit = time.After(groupCommit)
			}
		case <-commit:
			commit = nil
			if err := dst.Flush(); err != nil {
				return err
			}
		case <-tick.C:
			if err := dst.Flush(); err != nil {
				return err
			}
		}
	}
}

// groupCommit is how long an outcome may wait for others to share its
// write to the results file: a write per envelope would cost more than
// the rest of recording it.
const groupCommit = 5 * time.Millisecond

func (p *pipeline) record(dst resultWriter, r *csvio.Result) error {
	p.stats.count(r.Outcome)
	p.logProblem(r)
	return dst.Write(r)
}

// maxLoggedProblems is how many invalid or failed rows are also logged;
// the results file has them all.
const maxLoggedProblems = 20

// logProblem logs the first maxLoggedProblems rows that did not succeed,
// in words a person can act on. Only the writer goroutine calls it.
func (p *pipeline) logProblem(r *csvio.Result) {
	if r.Outcome != csvio.Invalid && r.Outcome != csvio.Failed {
		return
	}
	p.problems++
	switch {
	case p.problems < maxLoggedProblems:
	case p.problems == maxLoggedProblems:
		p.cfg.Log.Warn().Msgf("more rows are invalid or failed; the results file has every one")
		return
	default:
		return
	}
	if r.Outcome == csvio.Invalid {
		p.cfg.Log.Warn().Int("row", r.Row).Msgf("row %d, %s", r.Row, r.ErrorMessage)
		return
	}
	p.cfg.Log.Warn().Int("row", r.Row).Int("httpStatus", r.HTTPStatus).Str("errorCode", r.ErrorCode).Str("requestId", r.RequestID).
		Int("attempts", r.Attempts).Msgf("row %d failed: %d %s: %s", r.Row, r.HTTPStatus, r.ErrorCode, r.ErrorMessage)
}
