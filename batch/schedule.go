package batch

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/graphbatch/graphbatch/csvio"
	"github.com/graphbatch/graphbatch/graph"
)

// Bounds on what the scheduler holds.
const (
	// maxHeld bounds the rows taken from the reader and not yet finished,
	// so that memory does not grow with the input, even when many rows
	// wait in line behind one busy entity: past it, reading pauses.
	maxHeld = 4096
	// maxEnvelopeBytes bounds the bodies packed into one envelope, well
	// under what Graph accepts in one request, so that a few large rows
	// go in envelopes of their own instead of sinking twenty.
	maxEnvelopeBytes = 2 << 20
	// linger is how long a partly filled envelope waits for more rows
	// before it is sent anyway. Rows arrive from the reader far faster
	// than this, so envelopes are full unless the input is slow (a pipe)
	// or ending.
	linger = 5 * time.Millisecond
)

// job is a worker's next task: send an envelope, or, with no rows, get a
// new token in place of the one of generation reauthGen.
type job struct {
	kind      kind
	rows      []*item
	reqs      []graph.Request
	reauthGen uint64
}

// kind is what an envelope does with its rows: read them or write them.
// The two never share an envelope, and each has its pacer.
type kind int

const (
	writes kind = iota
	reads
	kinds
)

// answer is what a worker hands back: Graph's answer to one job.
type answer struct {
	job
	res      *graph.BatchResult
	err      error
	sent, at time.Time // when the envelope was sent, and answered
}

// scheduler owns every row from the reader's hand-off to its outcome. Only
// its own goroutine (run) touches its fields.
type scheduler struct {
	cfg      Config
	incoming chan chunk
	jobs     chan job
	answers  chan answer

	lines      keyLines         // rows waiting behind another row for their entity
	ready      [kinds]fifo      // rows whose turn it is, to be sent as soon as the pacer allows
	readySince [kinds]time.Time // when each queue last went from empty to not, or sent
	pacers     [kinds]*Pacer    // Config.Pacer and Config.ReadPacer
	waiting    dueHeap          // rows backing off
	readsOff   bool             // Graph refuses to read the target: rows are written unread
	held       int              // rows taken from the reader without an outcome yet
	idle       int              // workers without a job
	inFlight   int              // jobs out

	readerDone bool
	stopping   bool  // take and send nothing more; finish what is in flight
	stopErr    error // why, when it is not Config.Stop

	reauthing   bool
	afterReauth []*item      // rows refused with the token being replaced
	refusal     *graph.Error // why they were

	pending   []record  // outcomes for the writer
	problems  int       // invalid or failed rows logged
	streak    streak    // the latest run of rows failed alike
	loggedEnd time.Time // the end of the throttle wait logged last

	toBackup []*item // rows read, whose backup goes to the disk before they are written
}

// streak is a run of rows that failed with the same permanent error.
type streak struct {
	n      int
	status int
	code   string
}

func newScheduler(cfg Config) *scheduler {
	return &scheduler{
		cfg:      cfg,
		incoming: make(chan chunk, 4),
		jobs:     make(chan job, cfg.Concurrency),
		answers:  make(chan answer, cfg.Concurrency),
		lines:    make(keyLines),
		idle:     cfg.Concurrency,
		pacers:   [kinds]*Pacer{writes: cfg.Pacer, reads: cfg.ReadPacer},
	}
}

// run is the scheduler's loop: it takes rows, hands out jobs, takes
// answers and hands outcomes to the writer until every row it took has an
// outcome, or the run stops.
func (s *scheduler) run(ctx context.Context, outcomes chan<- []record) error {
	defer close(outcomes)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	stop := s.cfg.Stop
	for {
		now := time.Now()
		for _, r := range s.waiting.popDue(now) {
			s.makeReady(r, now)
		}
		wake := s.dispatch(ctx, now)
		if err := s.hand(ctx, outcomes); err != nil {
			return err
		}
		if s.finished() {
			return s.result()
		}
		s.setTimer(timer, earliest(wake, s.waiting.next()), now)
		var in <-chan chunk
		if !s.readerDone && !s.stopping && s.held < maxHeld {
			in = s.incoming
		}
		select {
		case c := <-in:
			s.take(c, now)
		case a := <-s.answers:
			if err := s.handle(ctx, &a); err != nil {
				_ = s.hand(ctx, outcomes) // what is known is still recorded
				return err
			}
		case <-timer.C:
		case <-stop:
			stop = nil
			s.halt(nil)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// hand passes the outcomes gathered to the writer.
func (s *scheduler) hand(ctx context.Context, outcomes chan<- []record) error {
	if len(s.pending) == 0 {
		return nil
	}
	select {
	case outcomes <- s.pending:
		s.pending = nil
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// finished reports whether the run is over: every row taken has an
// outcome and no more will come, or a stop found nothing left in flight.
func (s *scheduler) finished() bool {
	if s.inFlight > 0 {
		return false
	}
	return s.stopping || (s.readerDone && s.held == 0)
}

func (s *scheduler) result() error {
	switch {
	case s.stopErr != nil:
		return s.stopErr
	case s.stopping:
		return ErrInterrupted
	}
	return nil
}

// halt stops taking and sending rows; err says why (nil: Config.Stop). The
// first reason given is the one Run returns.
func (s *scheduler) halt(err error) {
	if !s.stopping {
		s.stopping, s.stopErr = true, err
	}
}

// take receives a chunk from the reader.
func (s *scheduler) take(c chunk, now time.Time) {
	for i := range c.done {
		s.logProblem(c.done[i].line, &c.done[i].Result)
	}
	if len(s.pending) == 0 {
		s.pending = c.done // handed on as it is, unless outcomes wait already
	} else {
		s.pending = append(s.pending, c.done...)
	}
	for _, r := range c.rows {
		s.held++
		if s.cfg.reads() && !s.readsOff {
			r.kind = reads
		}
		if s.lines.admit(r) {
			s.makeReady(r, now)
		}
	}
	if c.end {
		s.readerDone = true
		if c.err != nil {
			s.halt(c.err)
		}
	}
}

// makeReady queues r to be sent, as its kind says, as soon as the pacer
// allows.
func (s *scheduler) makeReady(r *item, now time.Time) {
	if r.kind == reads && s.readsOff {
		r.kind = writes
	}
	q := &s.ready[r.kind]
	if q.len() == 0 {
		s.readySince[r.kind] = now
	}
	q.push(r)
}

// dispatch hands envelopes of ready rows to idle workers as far as the
// pacers allow, writes first (their budget is the scarce one), and returns
// when to try again (zero: when something happens).
func (s *scheduler) dispatch(ctx context.Context, now time.Time) time.Time {
	var wake time.Time
	for k := range kinds {
		wake = earliest(wake, s.dispatchKind(ctx, k, now))
	}
	return wake
}

func (s *scheduler) dispatchKind(ctx context.Context, k kind, now time.Time) time.Time {
	q := &s.ready[k]
	for s.idle > 0 && q.len() > 0 && !s.stopping && !s.reauthing && ctx.Err() == nil {
		want := s.fit(q, k)
		if want == q.len() && want < s.cfg.BatchSize && !s.readerDone && s.held < maxHeld && now.Before(s.readySince[k].Add(linger)) {
			return s.readySince[k].Add(linger) // more rows may come to fill it
		}
		n, wait := s.pacers[k].TryAcquire(want)
		if n == 0 {
			return now.Add(wait)
		}
		s.send(k, q.take(n))
		s.readySince[k] = now
	}
	return time.Time{}
}

// fit returns how many rows of q, oldest first, fit in one envelope of
// kind k. A read carries no body.
func (s *scheduler) fit(q *fifo, k kind) int {
	n, size := 0, 0
	for _, r := range q.rows {
		size += len(r.patch.URL)
		if k == writes {
			size += len(r.patch.Body)
		}
		if n == s.cfg.BatchSize || (n > 0 && size > maxEnvelopeBytes) {
			break
		}
		n++
	}
	return n
}

// send hands rows to a worker as one envelope of kind k. Each row's $batch
// id is its row number: unique in any envelope, and what a person
// comparing logs with the results file wants.
func (s *scheduler) send(k kind, rows []*item) {
	reqs := make([]graph.Request, len(rows))
	for i, r := range rows {
		r.reqID = strconv.Itoa(r.num)
		if k == reads {
			reqs[i] = graph.NewGetRequest(r.reqID, s.cfg.Target.ReadURL(r.patch.URL, r.patch))
			r.reads++
		} else {
			reqs[i] = graph.NewPatchRequest(r.reqID, r.patch)
			r.writes++
		}
		if (k == reads && r.reads > 1) || (k == writes && r.writes > 1) {
			s.cfg.Stats.Resends.Add(1)
		}
	}
	s.cfg.Stats.Envelopes.Add(1)
	if k == reads {
		s.cfg.Stats.Reads.Add(int64(len(rows)))
	} else {
		s.cfg.Stats.Sends.Add(int64(len(rows)))
	}
	s.start(job{kind: k, rows: rows, reqs: reqs})
}

func (s *scheduler) start(j job) {
	s.idle--
	s.inFlight++
	s.jobs <- j // never blocks: its buffer holds a job per worker
}

// handle takes one answer. It fails only when the run cannot go on:
// signing in failed, the backup could not be written, or ctx is done.
func (s *scheduler) handle(ctx context.Context, a *answer) error {
	s.idle++
	s.inFlight--
	if ctx.Err() != nil {
		return ctx.Err() // abandoned: the answer is lost with the run
	}
	if a.rows == nil {
		return s.reauthenticated(a)
	}
	s.logEnvelope(a)
	switch {
	case errors.Is(a.err, graph.ErrAuth):
		return a.err
	case refusedFreshToken(a):
		return fmt.Errorf("%w: Graph refused the token again just after it was renewed: %w", graph.ErrAuth, a.err)
	case a.err != nil:
		s.envelopeFailed(a)
	default:
		s.itemsAnswered(a)
	}
	s.logThrottle(a)
	if err := s.backUp(a.at); err != nil {
		return err
	}
	if len(s.afterReauth) > 0 && !s.reauthing && !s.stopping {
		s.reauthing = true
		s.start(job{reauthGen: a.res.TokenGen})
	}
	return nil
}

// reauthenticated takes the answer to a token refresh: the rows Graph
// refused with the old token go again, or the run cannot go on.
func (s *scheduler) reauthenticated(a *answer) error {
	s.reauthing = false
	switch {
	case errors.Is(a.err, graph.ErrNoToken):
		return fmt.Errorf("%w; no token was sent (--auth none), and this Graph wants one", s.refusal)
	case a.err != nil:
		return fmt.Errorf("graph refused the token and no new one could be had: %w", a.err)
	}
	for _, r := range s.afterReauth { // first, so that a refused fresh token shows at once
		if q := &s.ready[r.kind]; q.len() == 0 {
			s.readySince[r.kind] = a.at
		}
		s.ready[r.kind].pushFront([]*item{r})
	}
	s.afterReauth = nil
	return nil
}

// refusedFreshToken reports whether a is Graph refusing a whole envelope
// (401) whose rows were already refused once, before the token was
// renewed. Then the token is not the trouble but the sign-in itself (a
// token for another tenant or resource): every row would fail the same
// way, so the run stops instead and leaves them for --resume.
func refusedFreshToken(a *answer) bool {
	var ge *graph.Error
	if !errors.As(a.err, &ge) || ge.Status != http.StatusUnauthorized {
		return false
	}
	for _, r := range a.rows {
		if r.reauths > 0 {
			return true
		}
	}
	return false
}

// envelopeFailed handles an envelope that got no per-item answers.
func (s *scheduler) envelopeFailed(a *answer) {
	v, ge := verdictOf(a.err)
	if a.res != nil {
		ge.ClientRequestID = cmp.Or(ge.ClientRequestID, a.res.ClientRequestID)
	}
	for _, r := range a.rows {
		s.apply(r, v, ge, a)
	}
}

// itemsAnswered handles Graph's per-item answers, matched by id. A row
// whose id the answer lacks, or names twice, was not clearly answered.
func (s *scheduler) itemsAnswered(a *answer) {
	byID := make(map[string]*graph.Response, len(a.res.Responses))
	seen := make(map[string]int, len(a.res.Responses))
	admitted := 0 // told to the pacer first, so a 429 below sees this envelope's share
	for i := range a.res.Responses {
		r := &a.res.Responses[i]
		id := strings.ToLower(r.ID)
		byID[id] = r
		seen[id]++
		if r.Status != http.StatusTooManyRequests {
			admitted++
		}
	}
	s.pacers[a.kind].Admitted(admitted, a.sent)
	envelope := func(ge *graph.Error) *graph.Error {
		ge.RequestID = cmp.Or(ge.RequestID, a.res.RequestID)
		ge.ClientRequestID = cmp.Or(ge.ClientRequestID, a.res.ClientRequestID)
		return ge
	}
	for _, r := range a.rows {
		resp := byID[r.reqID]
		switch {
		case resp == nil:
			s.apply(r, transient, envelope(&graph.Error{Message: "Graph's answer had no response for this item"}), a)
		case seen[r.reqID] > 1:
			s.apply(r, transient, envelope(&graph.Error{Message: "Graph's answer named this item more than once"}), a)
		case resp.Status < 100 || resp.Status > 599:
			s.apply(r, transient, envelope(&graph.Error{Message: fmt.Sprintf("Graph's answer for this item has no valid status (%d)", resp.Status)}), a)
		case classify(resp.Status) == done && a.kind == reads:
			s.read(r, resp, envelope(&graph.Error{}), a)
		case classify(resp.Status) == done:
			s.finish(r, csvio.Updated, resp.Status, envelope(&graph.Error{}), a.at)
		default:
			s.apply(r, classify(resp.Status), envelope(resp.Err()), a)
		}
	}
}

// apply carries out verdict v, caused by ge, for row r. Every retry rule
// lives here: whether a row is sent again, when, or has its outcome.
func (s *scheduler) apply(r *item, v verdict, ge *graph.Error, a *answer) {
	switch v {
	case throttled:
		s.cfg.Stats.Throttled.Add(1)
		r.throttles++
		s.pacers[a.kind].Throttle(s.retryWait(ge, r.throttles), a.sent) // holds every send of its kind back
		s.makeReady(r, a.at)
	case transient:
		s.cfg.Stats.Faults.Add(1)
		r.failures++
		if r.failures >= s.cfg.MaxAttempts {
			s.fail(r, ge, a.at, false)
			return
		}
		s.waiting.add(r, a.at.Add(s.retryWait(ge, r.failures)))
	case reauth:
		r.reauths++
		if r.reauths > 1 { // refused with a fresh token too
			s.fail(r, ge, a.at, true)
			return
		}
		s.afterReauth = append(s.afterReauth, r)
		s.refusal = ge
	case permanent:
		if a.kind == reads {
			s.readRefused(r, ge, a)
			return
		}
		s.fail(r, ge, a.at, true)
	}
}

// retryWait is how long to wait before sending again after the n-th
// failure ge: Graph's Retry-After if it gave one, else a backoff.
func (s *scheduler) retryWait(ge *graph.Error, n int) time.Duration {
	d, ok := graph.RetryAfter(ge.RetryAfter, time.Now())
	if !ok {
		return backoff(n)
	}
	if d > s.cfg.MaxWait {
		s.cfg.Log.Warn().Str("retryAfter", graph.Clean(ge.RetryAfter)).Float64("cappedToSeconds", s.cfg.MaxWait.Seconds()).
			Msg("Graph asked for a very long wait; waiting the maximum instead")
		return s.cfg.MaxWait
	}
	return d
}

// fail gives r the outcome failed; permanent says sending again could not
// have helped, which counts towards Config.MaxFailures.
func (s *scheduler) fail(r *item, ge *graph.Error, at time.Time, permanent bool) {
	s.finish(r, csvio.Failed, ge.Status, ge, at)
	if !permanent {
		s.streak = streak{}
		return
	}
	if s.streak.status != ge.Status || s.streak.code != ge.Code {
		s.streak = streak{status: ge.Status, code: ge.Code}
	}
	s.streak.n++
	if limit := s.cfg.MaxFailures; limit > 0 && s.streak.n >= limit {
		s.halt(&FailureStreakError{Rows: s.streak.n, Err: ge})
	}
}

// finish records r's outcome and lets the next row for its entity go.
func (s *scheduler) finish(r *item, o csvio.Outcome, status int, ge *graph.Error, at time.Time) {
	res := csvio.Result{
		Row:             r.num,
		Keys:            r.keys,
		Outcome:         o,
		HTTPStatus:      status,
		Attempts:        r.reads + r.writes,
		RequestID:       ge.RequestID,
		ClientRequestID: ge.ClientRequestID,
		FinishedAt:      at,
	}
	if o == csvio.Failed {
		res.ErrorCode, res.ErrorMessage = ge.Code, ge.Message
	} else {
		s.streak = streak{}
	}
	s.logProblem(r.line, &res)
	s.pending = append(s.pending, record{Result: res, line: r.line})
	s.held--
	if next := s.lines.release(r); next != nil {
		s.makeReady(next, at)
	}
}

// setTimer makes t fire at when, or stops it for a zero when.
func (s *scheduler) setTimer(t *time.Timer, when, now time.Time) {
	if when.IsZero() {
		t.Stop()
		return
	}
	t.Reset(max(when.Sub(now), 0))
}

// earliest returns the earlier of two times, a zero time meaning never.
func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	}
	return b
}
