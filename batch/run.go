// Package batch runs graphbatch's engine: it reads rows, validates them,
// packs the valid ones into $batch envelopes (reading each row's entity
// first when asked, to skip what is unchanged, back up what changes, or
// plan), sends them through a pool of stateless workers paced to Graph's
// limits, sends again what Graph asks to have sent again, and records
// exactly one outcome per row. Export lists a collection into a CSV.
//
// One goroutine, the scheduler, owns every row from the moment it is read
// until its outcome is recorded: the rows waiting behind another row for
// the same entity, the rows backing off, the pacer's grants and the
// envelopes. The reader hands it rows; workers hand it answers; it hands
// outcomes to the writer, which owns the results file.
package batch

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/graphbatch/graphbatch/csvio"
	"github.com/graphbatch/graphbatch/graph"
)

// Config says how to run. Zero values mean the documented defaults.
type Config struct {
	// Target is where rows go, resolved against the metadata of its API
	// version. The source's Row.Fields must be in the order of
	// Target.Columns(): the key columns first.
	Target *graph.Target
	// NullToken is the cell that sends JSON null; default
	// graph.DefaultNullToken.
	NullToken   string
	BatchSize   int           // items per envelope, 1 to graph.MaxBatchSize; default graph.MaxBatchSize
	Concurrency int           // envelopes in flight at once; default DefaultConcurrency
	MaxAttempts int           // sends of a row answered 5xx or lost before it is failed (429s and 401s do not count); default DefaultMaxAttempts
	MaxWait     time.Duration // longest wait one Retry-After may impose; default DefaultMaxWait
	// MaxFailures stops the run when that many rows in a row, with no
	// success between them, fail with the same permanent error (a route or
	// a permission the tenant refuses); 0 never stops.
	MaxFailures int
	Limit       int      // process only the first Limit data rows (of Rows, if set); 0 means all
	Rows        RowRange // process only these data rows; the zero value means all
	DryRun      bool     // validate only: outcomes are valid or invalid and nothing is sent
	Pacer       *Pacer   // paces writes; default a Pacer with no ceiling
	ReadPacer   *Pacer   // paces reads; default a Pacer with no ceiling
	// SkipUnchanged reads each row's entity before writing it, and records
	// a row whose values all equal Graph's as unchanged, unwritten.
	SkipUnchanged bool
	// Backup, when set, reads each row's entity and records the values it
	// is about to change before the row is written (--backup).
	Backup *Backup
	// Plan, when set, reads each row's entity, writes nothing to Graph, and
	// gets a line for every property a row would change: row, keys,
	// property, current, desired. Rows that would change are valid; the
	// others unchanged.
	Plan  TableWriter
	Stats *Stats // live counts; default a private one
	Log   zerolog.Logger
	// History is what an earlier run recorded, for --resume: rows it
	// finished are skipped, and must have the keys it recorded for them.
	// Nil means a fresh run.
	History *csvio.History
	// Stop, when closed, stops the run gracefully (see Run).
	Stop <-chan struct{}
}

// RowRange is a slice of the input by data row number, both ends included;
// Last 0 means to the end.
type RowRange struct{ First, Last int }

// has reports whether row n is in the range.
func (r RowRange) has(n int) bool { return n >= r.First && (r.Last == 0 || n <= r.Last) }

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
	if c.ReadPacer == nil {
		c.ReadPacer = NewPacer(Rate{})
	}
	if c.Stats == nil {
		c.Stats = new(Stats)
	}
	if c.Rows.First < 1 {
		c.Rows.First = 1
	}
	if c.NullToken == "" {
		c.NullToken = graph.DefaultNullToken
	}
}

// RowReader is where rows come from; *csvio.Reader is one.
type RowReader interface {
	Read() (csvio.Row, error)
}

// ResultWriter is where outcomes go; *csvio.Journal is one.
type ResultWriter interface {
	Write(*csvio.Result) error
	Flush() error
}

// Sender sends envelopes to Graph; *graph.Client is one.
type Sender interface {
	Batch(ctx context.Context, v graph.Version, reqs []graph.Request) (*graph.BatchResult, error)
	// Reauthenticate gets a new token after Graph refused the token of
	// generation gen (BatchResult.TokenGen).
	Reauthenticate(ctx context.Context, gen uint64) error
}

// ErrInterrupted is returned by Run after a graceful stop (Config.Stop).
var ErrInterrupted = errors.New("interrupted")

// MismatchError says that the results file being resumed was written for
// another input, or that the input changed since: a row it finished has
// other keys in the input than it recorded.
type MismatchError struct {
	Row  int
	Keys []string // as the input has them
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("the results file does not belong to this input: row %d (keys %q) was recorded with other keys", e.Row, e.Keys)
}

// FailureStreakError stops a run in which Config.MaxFailures rows in a row
// failed with the same permanent error: a route the tenant refuses, a
// permission the app lacks. Rows not sent are left for --resume.
type FailureStreakError struct {
	Rows int
	Err  *graph.Error // the last of them
}

func (e *FailureStreakError) Error() string {
	code := e.Err.Code
	if code == "" {
		code = "error"
	}
	return fmt.Sprintf("stopped: %d rows in a row failed with %d %s: %s", e.Rows, e.Err.Status, code, e.Err.Message)
}

func (e *FailureStreakError) Unwrap() error { return e.Err }

// Run reads every row from src and writes one outcome per row to dst.
// Rows that fail validation are recorded as invalid without being sent; a
// row Graph refuses is recorded as failed and the run goes on. send may be
// nil for a dry run.
//
// Two signals stop a run, and nothing else does:
//   - Closing cfg.Stop stops it gracefully: nothing more is read or sent,
//     every wait (throttling, backoff) ends at once, envelopes in flight
//     are answered and recorded, and Run returns ErrInterrupted.
//   - Cancelling ctx abandons it at once: envelopes in flight are cut
//     off, and Run returns ctx's error.
//
// Either way, rows without an outcome are sent again by a later --resume.
// Run also returns an error when the run could not go on: src or dst
// failed, signing in failed, the input does not match cfg.History
// (*MismatchError), or too many rows failed alike (*FailureStreakError).
func Run(ctx context.Context, src RowReader, dst ResultWriter, send Sender, cfg Config) (Summary, error) {
	cfg.setDefaults()
	start := time.Now()
	g, ctx := errgroup.WithContext(ctx)
	s := newScheduler(cfg)
	quit := make(chan struct{}) // closed when the scheduler stops taking rows
	go read(src, &cfg, cfg.Target.NewRow(cfg.NullToken), s.incoming, quit)
	var workers sync.WaitGroup
	for range cfg.Concurrency {
		workers.Go(func() { work(ctx, send, cfg.Target.Version, s.jobs, s.answers) })
	}
	outcomes := make(chan []record, 16)
	g.Go(func() error { defer close(quit); defer close(s.jobs); return s.run(ctx, outcomes) })
	g.Go(func() error { return write(dst, outcomes, &cfg) })
	err := g.Wait()
	workers.Wait()
	sum := cfg.Stats.Snapshot()
	sum.Duration = time.Since(start)
	return sum, err
}
