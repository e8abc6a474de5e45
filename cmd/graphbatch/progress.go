package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/graphbatch/graphbatch/batch"
)

// progressView is what a progress display shows at one moment.
type progressView struct {
	Total         int64   // data rows in the input, 0 while unknown
	Done          int64   // rows with an outcome, earlier runs' included
	Updated       int64   // earlier runs' included
	Unchanged     int64   // read first and already as wanted
	Reads         int64   // entities read (GET items sent)
	Failed        int64   //
	Invalid       int64   //
	Valid         int64   //
	RowsPerSecond float64 // over the last minute
	ETA           time.Duration
	ThrottledFor  time.Duration // how long sending waits for a Retry-After, 0 if not
	Elapsed       time.Duration
	DryRun        bool
}

// line renders v as one line of text, as the terminal display shows it.
func (v progressView) line() string {
	var b strings.Builder
	if v.Total > 0 {
		fmt.Fprintf(&b, "%d/%d rows", v.Done, v.Total)
	} else {
		fmt.Fprintf(&b, "%d rows", v.Done)
	}
	switch {
	case v.DryRun:
		fmt.Fprintf(&b, " · %d valid, %d invalid", v.Valid, v.Invalid)
	case v.Reads > 0:
		fmt.Fprintf(&b, " · %d updated, %d unchanged, %d failed, %d invalid · %d read", v.Updated, v.Unchanged, v.Failed, v.Invalid, v.Reads)
	default:
		fmt.Fprintf(&b, " · %d updated, %d failed, %d invalid", v.Updated, v.Failed, v.Invalid)
	}
	fmt.Fprintf(&b, " · %.1f rows/s", v.RowsPerSecond)
	switch {
	case v.ThrottledFor > 0:
		fmt.Fprintf(&b, " · throttled, resuming in %s", roundUp(v.ThrottledFor))
	case v.ETA > 0:
		fmt.Fprintf(&b, " · ETA %s", v.ETA.Round(time.Second))
	}
	return b.String()
}

func roundUp(d time.Duration) time.Duration {
	return (d + time.Second - 1).Truncate(time.Second)
}

// log writes v as one structured progress line, for cron and CI logs.
func (v progressView) log(log zerolog.Logger) {
	e := log.Info().Int64("done", v.Done).Int64("updated", v.Updated).Int64("failed", v.Failed).Int64("invalid", v.Invalid)
	if v.DryRun {
		e = e.Int64("valid", v.Valid)
	}
	if v.Reads > 0 {
		e = e.Int64("unchanged", v.Unchanged).Int64("reads", v.Reads)
	}
	if v.Total > 0 {
		e = e.Int64("total", v.Total).Float64("percent", float64(int(1000*float64(v.Done)/float64(v.Total)))/10)
	}
	e = e.Float64("rowsPerSecond", round1(v.RowsPerSecond)).Float64("elapsedSeconds", round1(v.Elapsed.Seconds()))
	if v.ETA > 0 {
		e = e.Float64("etaSeconds", round1(v.ETA.Seconds()))
	}
	if v.ThrottledFor > 0 {
		e = e.Float64("throttledForSeconds", round1(v.ThrottledFor.Seconds()))
	}
	e.Msg("progress")
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }

// progress samples a run's counts and shows them: as a bar on a terminal,
// or as a log line every interval. It is safe for concurrent use.
type progress struct {
	stats  *batch.Stats
	pacer  *batch.Pacer
	dryRun bool
	start  time.Time
	total  atomic.Int64 // rows, when known up front

	size   int64        // bytes of the input, 0 if unknown
	offset func() int64 // bytes of the input read so far, nil if unknown

	mu      sync.Mutex
	samples []sample // the last minute of done counts, for the rate
	view    atomic.Pointer[progressView]
}

type sample struct {
	at   time.Time
	done int64
}

// rateWindow is how far back the rate and ETA look.
const rateWindow = time.Minute

func newProgress(stats *batch.Stats, pacer *batch.Pacer, dryRun bool) *progress {
	p := &progress{stats: stats, pacer: pacer, dryRun: dryRun, start: time.Now()}
	p.view.Store(&progressView{DryRun: dryRun})
	return p
}

// readFrom lets the display estimate the rows of an input of size bytes
// from offset, the bytes read so far.
func (p *progress) readFrom(size int64, offset func() int64) {
	p.size, p.offset = size, offset
}

// estimateTotal returns the rows to do: known once every row is read,
// before that estimated from how much of the input they took; 0 while
// unknown.
func (p *progress) estimateTotal(s batch.Summary) int64 {
	if s.AllRead {
		return s.Read
	}
	if p.size <= 0 || p.offset == nil || s.Read == 0 {
		return 0
	}
	off := p.offset()
	if off <= 0 {
		return 0
	}
	return max(s.Read, int64(float64(s.Read)*float64(p.size)/float64(off)+0.5))
}

// sample takes the counts now and returns the new view.
func (p *progress) sample(now time.Time) progressView {
	s := p.stats.Snapshot()
	v := progressView{
		Total:     p.total.Load(),
		Done:      s.Done() + s.Skipped,
		Updated:   s.Updated + s.Skipped,
		Unchanged: s.Unchanged,
		Reads:     s.Reads,
		Failed:    s.Failed,
		Invalid:   s.Invalid,
		Valid:     s.Valid,
		Elapsed:   now.Sub(p.start),
		DryRun:    p.dryRun,
	}
	if v.Total == 0 {
		v.Total = p.estimateTotal(s)
	}
	if p.pacer != nil {
		v.ThrottledFor = max(p.pacer.ThrottledUntil().Sub(now), 0)
	}
	v.RowsPerSecond = p.rate(now, s.Done())
	if v.Total > v.Done && v.RowsPerSecond > 0 {
		v.ETA = time.Duration(float64(v.Total-v.Done) / v.RowsPerSecond * float64(time.Second))
	}
	p.view.Store(&v)
	return v
}

// rate returns rows finished per second over the last rateWindow (rows
// skipped from earlier runs do not count: they took no time).
func (p *progress) rate(now time.Time, done int64) float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.samples = append(p.samples, sample{now, done})
	for len(p.samples) > 2 && now.Sub(p.samples[1].at) >= rateWindow {
		p.samples = p.samples[1:]
	}
	first := p.samples[0]
	if len(p.samples) == 1 { // the first sample: since the start
		first = sample{p.start, 0}
	}
	if dt := now.Sub(first.at).Seconds(); dt > 0 {
		return float64(done-first.done) / dt
	}
	return 0
}

// bar shows progress as an mpb bar on w, redrawn every refresh. Log lines
// written to the returned bar's Write appear above it.
type bar struct {
	p    *mpb.Progress
	bar  *mpb.Bar
	prog *progress
	stop chan struct{}
	done chan struct{}
}

func newBar(prog *progress, w io.Writer, opts ...mpb.ContainerOption) *bar {
	b := &bar{prog: prog, stop: make(chan struct{}), done: make(chan struct{})}
	b.p = mpb.New(append([]mpb.ContainerOption{mpb.WithOutput(w)}, opts...)...)
	b.bar = b.p.New(0, mpb.BarStyle().Lbound("[").Rbound("]"),
		mpb.BarWidth(24),
		mpb.PrependDecorators(decor.Percentage(decor.WCSyncSpace)),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string { return " " + b.prog.view.Load().line() })),
	)
	go b.follow()
	return b
}

// follow keeps the bar's position and total in step with the run.
func (b *bar) follow() {
	defer close(b.done)
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		v := b.prog.sample(time.Now())
		if v.Total > 0 {
			b.bar.SetTotal(v.Total, false)
		}
		b.bar.SetCurrent(v.Done)
		select {
		case <-t.C:
		case <-b.stop:
			return
		}
	}
}

// Write prints log lines above the bar.
func (b *bar) Write(p []byte) (int, error) { return b.p.Write(p) }

// finish draws the final state and stops the bar.
func (b *bar) finish() {
	close(b.stop)
	<-b.done
	v := b.prog.sample(time.Now())
	b.bar.SetCurrent(v.Done)
	b.bar.SetTotal(-1, true) // complete at what was done
	b.p.Wait()
}

// logLines logs progress every interval until stopped.
func logLines(prog *progress, log zerolog.Logger, interval time.Duration) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				prog.sample(time.Now()).log(log)
			case <-quit:
				return
			}
		}
	}()
	return func() { close(quit); <-done }
}

// swapWriter is a writer whose destination can change while in use: log
// lines go above the bar while it shows, and straight to stderr otherwise.
type swapWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *swapWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (s *swapWriter) set(w io.Writer) {
	s.mu.Lock()
	s.w = w
	s.mu.Unlock()
}
