package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/rs/zerolog"

	"github.com/graphbatch/graphbatch/batch"
	"github.com/graphbatch/graphbatch/csvio"
	"github.com/graphbatch/graphbatch/graph"
)

// runUpdate runs graphbatch update, or with opts.Plan graphbatch plan.
func runUpdate(ctx context.Context, opts *updateOptions, std streams) (err error) {
	start := time.Now()
	var sum batch.Summary
	writeSummary := true
	defer func() {
		// Whatever the exit, so that a failed start never leaves an
		// earlier run's summary in place (README, "Files and servers").
		if !writeSummary {
			return
		}
		if werr := opts.writeSummary(sum, start, err); werr != nil && err == nil {
			err = werr
		}
	}()
	if err := opts.checkFiles(std); err != nil {
		// A summary that is the input, or another file of the run, is
		// not written; an earlier one elsewhere is replaced.
		writeSummary = !concerns(err, "--summary")
		return err
	}
	stopProfiles, err := startProfiles(opts.CPUProfile, opts.MemProfile)
	if err != nil {
		return err
	}
	defer stopProfiles()
	logs := &swapWriter{w: std.Err}
	log, err := opts.Log.logger(std, logs)
	if err != nil {
		return err
	}
	r := &runner{opts: opts, std: std, log: log}
	defer r.close()
	cfg, err := r.prepare(ctx)
	if err != nil {
		return err
	}
	prog := newProgress(cfg.Stats, cfg.Pacer, opts.DryRun)
	if cfg.Rows == (batch.RowRange{}) && opts.Limit == 0 { // else the bytes read say little of the rows to do
		prog.readFrom(r.inputSize, r.rows.Offset)
	}
	stopProgress := opts.showProgress(prog, std, logs, log)
	hard, cancelHard := hardContext(ctx, std.Abort)
	defer cancelHard()
	var runErr error
	sum, runErr = batch.Run(hard, r.rows, r.results, r.send, cfg)
	stopProgress()
	if err := r.close(); err != nil && runErr == nil {
		runErr = err
	}
	newRunSummary(opts, sum, start, runErr).print(std.Err)
	if runErr != nil {
		return runErr
	}
	if sum.Failed+sum.Invalid > 0 {
		return errRowsFailed
	}
	return nil
}

// runner holds what one update or plan has open.
type runner struct {
	opts      *updateOptions
	std       streams
	log       zerolog.Logger
	target    *graph.Target
	input     io.ReadCloser
	inputSize int64
	rows      *csvio.Reader
	results   batch.ResultWriter
	closers   []func() error // in the order opened
	send      batch.Sender
}

// prepare checks the command line, signs in and opens the files, in the
// order that lets a problem stop the run before anything is sent and
// before any file is created: the flags, the target, the input's header,
// sign-in, then the results file's lock (and with --resume the whole input
// against it) and the backup.
func (r *runner) prepare(ctx context.Context) (batch.Config, error) {
	o := r.opts
	if err := o.check(); err != nil {
		return batch.Config{}, err
	}
	t, err := o.Target.open(o.Resource)
	if err != nil {
		return batch.Config{}, err
	}
	r.target = t
	cfg := batch.Config{
		Target:        t,
		NullToken:     o.Target.NullToken,
		BatchSize:     o.BatchSize,
		Concurrency:   o.Concurrency,
		Limit:         o.Limit,
		MaxAttempts:   o.MaxAttempts,
		MaxFailures:   o.MaxFailures,
		DryRun:        o.DryRun,
		SkipUnchanged: o.SkipUnchanged,
		Stats:         new(batch.Stats),
		Log:           r.log,
		Stop:          ctx.Done(),
	}
	if cfg.Rows, err = parseRows(o.Rows); err != nil {
		return cfg, err
	}
	rate, readRate, err := o.rates(t, r.log)
	if err != nil {
		return cfg, err
	}
	cfg.Pacer, cfg.ReadPacer = batch.NewPacer(rate), batch.NewReadPacer(readRate)
	if err := r.openInput(); err != nil {
		return cfg, err
	}
	send, closeSend, err := o.sender(ctx, r.std, r.log, t)
	if err != nil {
		return cfg, err
	}
	r.closers = append(r.closers, func() error { closeSend(); return nil })
	if send != nil {
		r.send = send
	}
	if cfg.History, err = r.openResults(&cfg); err != nil {
		return cfg, err
	}
	if err := r.openBackup(&cfg); err != nil {
		return cfg, err
	}
	r.log.Debug().Str("target", t.Template).Str("apiVersion", string(t.Version)).Str("metadata", t.Model.Source).Str("in", o.In).Str("out", o.Out).
		Stringer("rate", rate).Stringer("readRate", readRate).Msg("starting")
	return cfg, nil
}

// header is what the input's header must hold for the target.
func (r *runner) header() csvio.Header {
	return csvio.Header{Columns: r.target.Columns(), Required: r.target.Keys, Hint: r.opts.Target.columnHint(r.target)}
}

// openInput opens --in and reads its header. With --resume, input that is
// not a regular file (a pipe) is first copied to a temporary file: the
// whole input is checked against the results file before anything is
// sent, then read again, and a pipe can be read only once.
func (r *runner) openInput() error {
	in := io.NopCloser(r.std.In)
	if r.opts.In != "-" {
		f, err := os.Open(r.opts.In)
		if err != nil {
			return &usageError{err}
		}
		in = f
	}
	r.input = in
	r.closers = append(r.closers, in.Close)
	if r.opts.Resume && inputSize(in) == 0 {
		spool, err := os.CreateTemp("", "graphbatch-input-*.csv")
		if err != nil {
			return err
		}
		// Unlinked at once where the system allows an open file to be
		// (not Windows), so that no copy of the input outlives a kill -9.
		if os.Remove(spool.Name()) == nil {
			r.closers = append(r.closers, spool.Close)
		} else {
			r.closers = append(r.closers, func() error { spool.Close(); return os.Remove(spool.Name()) })
		}
		if _, err := io.Copy(spool, in); err != nil {
			return &usageError{fmt.Errorf("%s: %w", r.opts.In, err)}
		}
		if _, err := spool.Seek(0, io.SeekStart); err != nil {
			return err
		}
		r.input = spool
	}
	return r.readHeader()
}

// readHeader starts reading the input from its first line.
func (r *runner) readHeader() error {
	rows, err := csvio.NewReader(r.input, r.header())
	if err != nil {
		return &usageError{fmt.Errorf("%s: %w", r.opts.In, err)}
	}
	rows.ReuseFields = true // batch keeps a row's cells, never its Fields slice
	r.rows, r.inputSize = rows, inputSize(r.input)
	return nil
}

// openResults opens and locks the results file (with --plan, the plan): a
// new one, or with --overwrite one started over, or with --resume the one
// an earlier run wrote, whose record the whole input must match.
func (r *runner) openResults(cfg *batch.Config) (*csvio.History, error) {
	o := r.opts
	mode := csvio.New
	switch {
	case o.Resume:
		mode = csvio.Resume
	case o.Overwrite:
		mode = csvio.Overwrite
	}
	if o.Plan {
		plan, err := csvio.OpenTable(o.Out, "plan", planHeader(r.target), mode, nil)
		if errors.Is(err, csvio.ErrExists) {
			return nil, usagef("%v: add --overwrite to replace it", err) // a plan is not resumed
		}
		if err != nil {
			return nil, fileUsage(err)
		}
		r.closers = append(r.closers, plan.Close)
		cfg.Plan, r.results = plan, discard{}
		return nil, nil
	}
	j, h, err := csvio.OpenJournal(o.Out, r.target.Keys, mode)
	if err != nil {
		return nil, fileUsage(err)
	}
	r.closers = append(r.closers, j.Close)
	r.results = j
	if !o.Resume {
		return nil, nil
	}
	r.log.Info().Str("results", o.Out).Int("rowsRecorded", h.Rows()).Int("rowsDone", h.DoneRows()).
		Msg("resuming: rows already updated (or unchanged) are skipped")
	if h.DoneRows() > 0 {
		return h, r.checkResume(h)
	}
	return h, nil
}

// fileUsage makes the errors of opening an output file that a person must
// fix on the command line usage errors; another run holding it stays a
// fatal one (exit 1), as the README's "Files and servers" says.
func fileUsage(err error) error {
	switch {
	case errors.Is(err, csvio.ErrNotResults), errors.Is(err, csvio.ErrNotTable):
		return usagef("--resume: %v", err)
	case errors.Is(err, csvio.ErrExists):
		return usagef("%v: add --resume to continue that run, or --overwrite to start over", err)
	case errors.Is(err, csvio.ErrSymlink), errors.Is(err, csvio.ErrPipe):
		return &usageError{err}
	}
	return err
}

// planHeader is the header of a plan: row, the key columns, property,
// current, desired (README, "Safe runs").
func planHeader(t *graph.Target) []string {
	h := append([]string{"row"}, t.Keys...)
	return append(h, "property", "current", "desired")
}

// discard is the results of a plan, which keeps none.
type discard struct{}

func (discard) Write(*csvio.Result) error { return nil }
func (discard) Flush() error              { return nil }

// checkResume reads the whole input against what the results file
// recorded before anything is sent (README, "Files and servers"): a row it finished must
// have the keys it recorded. Then the input is read again from its start
// (openInput made it a file that can be).
func (r *runner) checkResume(h *csvio.History) error {
	if err := batch.CheckHistory(r.rows, len(r.target.Keys), h); err != nil {
		return err
	}
	f, ok := r.input.(*os.File)
	if !ok {
		return fmt.Errorf("%s: the input cannot be read a second time", r.opts.In)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	return r.readHeader()
}

// openBackup opens --backup: a new file, or with --resume the one the
// run started, noting what it already holds.
func (r *runner) openBackup(cfg *batch.Config) error {
	o := r.opts
	if o.Backup == "" {
		return nil
	}
	cols := r.header().Columns
	present := r.rows.Present()
	var header []string
	for i, c := range cols {
		if i < len(r.target.Keys) || present[i] {
			header = append(header, c)
		}
	}
	mode := csvio.New
	if o.Resume {
		mode = csvio.Resume
	}
	// The Backup notes what the file holds as it is read, keeping no
	// record; it writes to the file once it is open.
	file := new(backupFile)
	backup := batch.NewBackup(file, header, len(r.target.Keys), o.Target.NullToken)
	tb, err := csvio.OpenTable(o.Backup, "backup file", header, mode, backup.Seen)
	if errors.Is(err, csvio.ErrExists) {
		return usagef("%v: a backup is never overwritten; give a new --backup file, or --resume the run that wrote it", err)
	}
	if err != nil {
		return fileUsage(err)
	}
	r.closers = append(r.closers, tb.Close)
	file.Table = tb
	cfg.Backup = backup
	return nil
}

// backupFile is the backup's file, set once OpenTable has read it.
type backupFile struct{ *csvio.Table }

// close closes what the run opened, last opened first, once.
func (r *runner) close() error {
	var err error
	for i := len(r.closers) - 1; i >= 0; i-- {
		if cerr := r.closers[i](); cerr != nil && err == nil {
			err = cerr
		}
	}
	r.closers = nil
	return err
}

// inputSize returns the input's size when it is a regular file, for the
// progress display; 0 when it has none (a pipe, a terminal).
func inputSize(in io.Reader) int64 {
	f, ok := in.(*os.File)
	if !ok {
		return 0
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return 0
	}
	return fi.Size()
}
