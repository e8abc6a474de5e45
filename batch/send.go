package batch

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/graphbatch/graphbatch/csvio"
	"github.com/graphbatch/graphbatch/graph"
)

// work delivers envelopes until there are no more. Sends use ctx; waits
// use soft, so that a graceful stop ends them at once while the envelope
// in flight is answered and recorded.
func (p *pipeline) work(ctx, soft context.Context, envelopes <-chan []*item) error {
	for env := range envelopes {
		if err := p.deliver(ctx, soft, env); err != nil {
			return err
		}
	}
	return nil
}

// deliver sends the rows of one envelope until each has an outcome. Only
// rows Graph asks to have sent again are sent again, in a new envelope.
// After a stop, rows still waiting are left without an outcome: --resume
// sends them.
func (p *pipeline) deliver(ctx, soft context.Context, env []*item) error {
	pending := env
	for len(pending) > 0 {
		n, err := p.cfg.Pacer.Acquire(soft, len(pending))
		if err != nil {
			return ctx.Err() // nil after a graceful stop
		}
		nx, err := p.sendOnce(ctx, pending[:n])
		if err != nil {
			return err
		}
		pending = append(nx.again, pending[n:]...)
		if len(pending) > 0 {
			if err := sleep(soft, nx.wait); err != nil {
				return ctx.Err()
			}
		}
	}
	return nil
}

// setItemIDs gives each item its $batch id, its row number: unique in any
// envelope, and what a person comparing logs with the results file wants.
// The ids are cut from one string: two allocations an envelope, not twenty.
func setItemIDs(items []*item) {
	var ends [graph.MaxBatchSize]int
	buf := make([]byte, 0, 8*len(items))
	for i, it := range items {
		buf = strconv.AppendInt(buf, int64(it.row), 10)
		ends[i] = len(buf)
	}
	all, start := string(buf), 0
	for i, it := range items {
		it.reqID, start = all[start:ends[i]], ends[i]
	}
}

// next is what one envelope's answer leaves to do.
type next struct {
	again  []*item       // rows to send again
	wait   time.Duration // how long to wait first
	reauth bool          // Graph refused the token: refresh it first
	sent   time.Time     // when the envelope was sent

	outcomes []csvio.Result // rows that finished, to record
	finished []*item        // their items, to unlock once recorded
	answered time.Time      // when the answer came: the rows' finishedAt

	throttled []time.Duration // the waits asked by each 429: one per item, or one for a whole envelope
}

func (n *next) retry(it *item, wait time.Duration) {
	n.again = append(n.again, it)
	n.wait = max(n.wait, wait)
}

// sendOnce sends items as one envelope, records the outcome of every item
// that has one, and returns what is left to do. It fails only if ctx is
// done or signing in fails, when the run cannot go on.
func (p *pipeline) sendOnce(ctx context.Context, items []*item) (*next, error) {
	reqs := make([]graph.Request, len(items))
	setItemIDs(items)
	for i, it := range items {
		reqs[i] = graph.NewPatchRequest(it.reqID, it.patch)
		if it.sends > 0 {
			p.stats.Resends.Add(1)
		}
		it.sends++
	}
	p.stats.Envelopes.Add(1)
	p.stats.Sends.Add(int64(len(items)))
	nx := &next{sent: time.Now(), outcomes: make([]csvio.Result, 0, len(items)), finished: make([]*item, 0, len(items))}
	res, err := p.send.Batch(ctx, p.cfg.Schema.Version, reqs)
	if ctx.Err() != nil {
		return nil, ctx.Err() // no outcome: the answer, if any, is lost with the run
	}
	nx.answered = time.Now()
	p.logEnvelope(items, res, err, nx.answered.Sub(nx.sent))
	if errors.Is(err, graph.ErrAuth) {
		return nil, err
	}
	if refusedFreshToken(items, err) {
		return nil, fmt.Errorf("%w: Graph refused the token again just after it was renewed: %w", graph.ErrAuth, err)
	}
	if err != nil {
		p.envelopeFailed(nx, items, res, err)
	} else {
		p.itemsAnswered(nx, items, res)
	}
	p.logThrottle(nx, res)
	p.emit(nx.outcomes...)
	for _, it := range nx.finished {
		p.locks.unlock(it)
	}
	if nx.reauth && res != nil {
		if err := p.send.Reauthenticate(ctx, res.TokenGen); err != nil {
			return nil, fmt.Errorf("graph refused the token and no new one could be had: %w", err)
		}
	}
	return nx, nil
}

// refusedFreshToken reports whether err is Graph refusing a whole envelope
// (401) whose rows were already refused once, before the token was
// renewed. Then the token is not the trouble but the sign-in itself (a
// token for another tenant or resource, or none at all): every row would
// fail the same way, so the run stops instead and leaves them for --resume.
func refusedFreshToken(items []*item, err error) bool {
	var ge *graph.Error
	return errors.As(err, &ge) && ge.Status == http.StatusUnauthorized &&
		slices.ContainsFunc(items, func(it *item) bool { return it.reauths > 0 })
}

// envelopeFailed handles an envelope that got no per-item answers.
func (p *pipeline) envelopeFailed(nx *next, items []*item, res *graph.BatchResult, err error) {
	var ge *graph.Error
	if !errors.As(err, &ge) {
		// A transport error or an unreadable answer: Graph may or may not have
		// applied the PATCHes. They are idempotent, so sending again is safe.
		ge = &graph.Error{Message: "no usable answer from Graph: " + err.Error()}
		if res != nil {
			ge.ClientRequestID = res.ClientRequestID
		}
		p.apply(nx, items, ge, transient)
		return
	}
	p.apply(nx, items, ge, classify(ge.Status))
}

// itemsAnswered handles Graph's per-item answers, matched by id.
func (p *pipeline) itemsAnswered(nx *next, items []*item, res *graph.BatchResult) {
	byID := make(map[string]*graph.Response, len(res.Responses))
	admitted := 0 // told to the pacer first, so a 429 below sees this envelope's share
	for i := range res.Responses {
		r := &res.Responses[i]
		byID[strings.ToLower(r.ID)] = r
		if r.Status != http.StatusTooManyRequests {
			admitted++
		}
	}
	p.cfg.Pacer.Admitted(admitted, nx.sent)
	for _, it := range items {
		r := byID[it.reqID]
		if r == nil {
			missing := &graph.Error{Message: "Graph's answer had no response for this item", RequestID: res.RequestID, ClientRequestID: res.ClientRequestID}
			p.apply(nx, []*item{it}, missing, transient)
			continue
		}
		if classify(r.Status) == done {
			nx.finish(it, csvio.Updated, r.Status, nil, res.RequestID, res.ClientRequestID)
			continue
		}
		ge := r.Err()
		ge.RequestID = cmp.Or(ge.RequestID, res.RequestID)
		ge.ClientRequestID = cmp.Or(ge.ClientRequestID, res.ClientRequestID)
		p.apply(nx, []*item{it}, ge, classify(r.Status))
	}
}

// apply applies verdict v, caused by ge, to items: it records final
// outcomes and adds what must be sent again to nx.
func (p *pipeline) apply(nx *next, items []*item, ge *graph.Error, v verdict) {
	switch v {
	case throttled:
		p.stats.Throttled.Add(int64(len(items)))
		for _, it := range items {
			it.throttles++
			nx.retry(it, 0) // the pacer holds every worker back
		}
		wait := p.retryWait(ge, items[0].throttles)
		nx.throttled = append(nx.throttled, wait)
		p.cfg.Pacer.Throttle(wait, nx.sent)
	case transient:
		p.stats.Faults.Add(int64(len(items)))
		for _, it := range items {
			it.failures++
			if it.failures >= p.cfg.MaxAttempts {
				nx.fail(it, ge)
				continue
			}
			nx.retry(it, p.retryWait(ge, it.failures))
		}
	case reauth:
		for _, it := range items {
			it.reauths++
			if it.reauths > 1 { // refused with a fresh token too
				nx.fail(it, ge)
				continue
			}
			nx.retry(it, 0)
			nx.reauth = true
		}
	default:
		for _, it := range items {
			nx.fail(it, ge)
		}
	}
}

// retryWait is how long to wait before sending again after the n-th
// failure ge: Graph's Retry-After if it gave one, else a backoff.
func (p *pipeline) retryWait(ge *graph.Error, n int) time.Duration {
	d, ok := graph.RetryAfter(ge.RetryAfter, time.Now())
	if !ok {
		return backoff(n)
	}
	if d > p.cfg.MaxWait {
		p.cfg.Log.Warn().Str("retryAfter", ge.RetryAfter).Dur("cappedTo", p.cfg.MaxWait).Msg("Graph asked for a very long wait; waiting the maximum instead")
		return p.cfg.MaxWait
	}
	return d
}

func (nx *next) fail(it *item, ge *graph.Error) {
	nx.finish(it, csvio.Failed, ge.Status, ge, ge.RequestID, ge.ClientRequestID)
}

// finish gives it its outcome. sendOnce records it, then lets the next row
// for its entity go.
func (nx *next) finish(it *item, o csvio.Outcome, status int, ge *graph.Error, requestID, clientRequestID string) {
	r := csvio.Result{
		Row:             it.row,
		Keys:            []string{it.policyID, it.id},
		Outcome:         o,
		HTTPStatus:      status,
		Attempts:        it.sends,
		RequestID:       requestID,
		ClientRequestID: clientRequestID,
		FinishedAt:      nx.answered,
	}
	if ge != nil {
		r.ErrorCode, r.ErrorMessage = ge.Code, ge.Message
	}
	nx.outcomes = append(nx.outcomes, r)
	nx.finished = append(nx.finished, it)
}

// logThrottle logs one line per throttle episode: the first envelope whose
// 429 pushes the pacer's wait half a second or more past the last one
// logged. It tells the longest wait asked and the pacer's rate.
func (p *pipeline) logThrottle(nx *next, res *graph.BatchResult) {
	if len(nx.throttled) == 0 {
		return
	}
	until := p.cfg.Pacer.ThrottledUntil().UnixNano()
	last := p.throttleLogged.Load()
	if until-last < int64(500*time.Millisecond) || !p.throttleLogged.CompareAndSwap(last, until) {
		return
	}
	e := p.cfg.Log.Info().Int("items", len(nx.throttled)).Float64("waitSeconds", slices.Max(nx.throttled).Seconds())
	if n, per := p.cfg.Pacer.Limit(); n > 0 {
		e = e.Stringer("rate", Rate{N: n, Per: per})
	}
	if res != nil {
		e = e.Str("clientRequestId", res.ClientRequestID)
	}
	e.Msg("throttled by Graph (429): all workers wait as asked")
}

func (p *pipeline) logEnvelope(items []*item, res *graph.BatchResult, err error, took time.Duration) {
	e := p.cfg.Log.Debug()
	if !e.Enabled() {
		return
	}
	if res != nil {
		statuses := make(map[string]int)
		for _, r := range res.Responses {
			statuses[fmt.Sprint(r.Status)]++
		}
		e = e.Str("clientRequestId", res.ClientRequestID).Str("requestId", res.RequestID).Interface("statuses", statuses)
	}
	e.Int("items", len(items)).Float64("ms", float64(took.Microseconds())/1000).Err(err).Msg("envelope")
}
