// Package batch runs the update pipeline: it reads rows, validates them,
// packs valid ones into $batch envelopes, sends them through a pool of
// workers sharing one pacer, resends what Graph asks to have resent, and
// records exactly one outcome per row.
package batch

import (
	"context"
	"sync"
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
	MaxAttempts int           // sends of a row before a 5xx or lost answer makes it failed (429s do not count); default DefaultMaxAttempts
	MaxWait     time.Duration // longest wait one Retry-After may impose; default DefaultMaxWait
	Limit       int           // process only the first Limit data rows; 0 means all
	DryRun      bool          // validate only: outcomes are valid or invalid and nothing is sent
	Pacer       *Pacer        // shared by all workers; default a Pacer with no ceiling
	Stats       *Stats        // live counts; default a private one
	Log         zerolog.Logger
}

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

// flushInterval is how often outcomes are passed to the results file even
// when few rows finish.
const flushInterval = time.Second

// Run reads every row from src and writes one outcome per row to dst.
// Rows that fail validation are recorded as invalid without being sent; a
// row Graph refuses is recorded as failed and the run goes on. Run returns
// an error only when the run could not go on: src or dst failed, or ctx was
// cancelled, in which case rows in flight have no outcome and a later
// --resume sends them again. send may be nil for a dry run.
func Run(ctx context.Context, src rowReader, dst resultWriter, send sender, cfg Config) (Summary, error) {
	cfg.setDefaults()
	start := time.Now()
	p := &pipeline{
		cfg:        cfg,
		send:       send,
		stats:      cfg.Stats,
		locks:      newKeyLocks(),
		results:    make(chan csvio.Result, 1024),
		writerDone: make(chan struct{}),
	}
	g, ctx := errgroup.WithContext(ctx)
	items := make(chan *item, 2*graph.MaxBatchSize)
	envelopes := make(chan []*item)
	var producers sync.WaitGroup // everyone who sends on p.results
	producers.Add(1 + cfg.Concurrency)
	g.Go(func() error { defer producers.Done(); return p.read(ctx, src, items) })
	g.Go(func() error { return p.pack(ctx, items, envelopes) })
	for range cfg.Concurrency {
		g.Go(func() error { defer producers.Done(); return p.work(ctx, envelopes) })
	}
	g.Go(func() error { producers.Wait(); close(p.results); return nil })
	g.Go(func() error { return p.write(dst) })
	err := g.Wait()
	sum := p.stats.Snapshot()
	sum.Duration = time.Since(start)
	return sum, err
}

type pipeline struct {
	cfg        Config
	send       sender
	stats      *Stats
	locks      *keyLocks
	results    chan csvio.Result
	writerDone chan struct{} // closed when write returns
}

// emit hands an outcome to the writer. If the writer has stopped, the run
// is failing and the outcome is dropped: what cannot be recorded is lost to
// --resume, which sends the row again.
func (p *pipeline) emit(r csvio.Result) {
	select {
	case p.results <- r:
	case <-p.writerDone:
	}
}

// write owns dst: it records every outcome and flushes at least every
// flushInterval and at the end.
func (p *pipeline) write(dst resultWriter) error {
	defer close(p.writerDone)
	tick := time.NewTicker(flushInterval)
	defer tick.Stop()
	for {
		select {
		case r, ok := <-p.results:
			if !ok {
				return dst.Flush()
			}
			p.stats.count(r.Outcome)
			if err := dst.Write(&r); err != nil {
				return err
			}
		case <-tick.C:
			if err := dst.Flush(); err != nil {
				return err
			}
		}
	}
}
