package batch

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/graphbatch/graphbatch/csvio"
	"github.com/graphbatch/graphbatch/graph"
)

// work delivers envelopes until there are no more.
func (p *pipeline) work(ctx context.Context, envelopes <-chan []*item) error {
	for env := range envelopes {
		if err := p.deliver(ctx, env); err != nil {
			return err
		}
	}
	return nil
}

// deliver sends the rows of one envelope until each has an outcome. Only
// rows Graph asks to have sent again are sent again, in a new envelope.
func (p *pipeline) deliver(ctx context.Context, env []*item) error {
	pending := env
	for len(pending) > 0 {
		n, err := p.cfg.Pacer.Acquire(ctx, len(pending))
		if err != nil {
			return err
		}
		again, wait, err := p.sendOnce(ctx, pending[:n])
		if err != nil {
			return err
		}
		pending = append(again, pending[n:]...)
		if len(pending) > 0 {
			if err := sleep(ctx, wait); err != nil {
				return err
			}
		}
	}
	return nil
}

// sendOnce sends items as one envelope, records the outcome of every item
// that has one, and returns the items to send again with how long to wait
// first. It fails only if ctx is done.
func (p *pipeline) sendOnce(ctx context.Context, items []*item) (again []*item, wait time.Duration, err error) {
	reqs := make([]graph.Request, len(items))
	for i, it := range items {
		reqs[i] = graph.NewPatchRequest(it.reqID, it.patch)
		if it.sends > 0 {
			p.stats.Resends.Add(1)
		}
		it.sends++
	}
	p.stats.Envelopes.Add(1)
	p.stats.Sends.Add(int64(len(items)))
	sent := time.Now()
	res, err := p.send.Batch(ctx, p.cfg.Schema.Version, reqs)
	if ctx.Err() != nil {
		return nil, 0, ctx.Err() // no outcome: the answer, if any, is lost with the run
	}
	p.logEnvelope(items, res, err, time.Since(sent))
	if err != nil {
		again, wait = p.envelopeFailed(items, res, err, sent)
		return again, wait, nil
	}
	again, wait = p.itemsAnswered(items, res, sent)
	return again, wait, nil
}

// envelopeFailed handles an envelope that got no per-item answers.
func (p *pipeline) envelopeFailed(items []*item, res *graph.BatchResult, err error, sent time.Time) ([]*item, time.Duration) {
	var ge *graph.Error
	if !errors.As(err, &ge) {
		// A transport error or an unreadable answer: Graph may or may not have
		// applied the PATCHes. They are idempotent, so sending again is safe.
		ge = &graph.Error{Message: "no usable answer from Graph: " + err.Error()}
		if res != nil {
			ge.ClientRequestID = res.ClientRequestID
		}
		return p.retryOrFail(items, ge, transient, sent)
	}
	return p.retryOrFail(items, ge, classify(ge.Status), sent)
}

// itemsAnswered handles Graph's per-item answers, matched by id.
func (p *pipeline) itemsAnswered(items []*item, res *graph.BatchResult, sent time.Time) (again []*item, wait time.Duration) {
	byID := make(map[string]*graph.Response, len(res.Responses))
	admitted := 0 // told to the pacer first, so a 429 below sees this envelope's share
	for i := range res.Responses {
		r := &res.Responses[i]
		byID[strings.ToLower(r.ID)] = r
		if r.Status != http.StatusTooManyRequests {
			admitted++
		}
	}
	p.cfg.Pacer.Admitted(admitted, sent)
	for _, it := range items {
		r := byID[it.reqID]
		if r == nil {
			missing := &graph.Error{Message: "Graph's answer had no response for this item", RequestID: res.RequestID, ClientRequestID: res.ClientRequestID}
			a, w := p.retryOrFail([]*item{it}, missing, transient, sent)
			again, wait = append(again, a...), max(wait, w)
			continue
		}
		v := classify(r.Status)
		if v == done {
			p.finish(it, csvio.Updated, r.Status, nil, firstNonEmpty(r.Header("request-id"), res.RequestID), res.ClientRequestID)
			continue
		}
		ge := r.Err()
		ge.RequestID = firstNonEmpty(ge.RequestID, res.RequestID)
		ge.ClientRequestID = firstNonEmpty(ge.ClientRequestID, res.ClientRequestID)
		a, w := p.retryOrFail([]*item{it}, ge, v, sent)
		again, wait = append(again, a...), max(wait, w)
	}
	return again, wait
}

// retryOrFail applies verdict v, caused by ge, to items sent at sent: it
// records final outcomes and returns the items to send again and how long
// to wait.
func (p *pipeline) retryOrFail(items []*item, ge *graph.Error, v verdict, sent time.Time) (again []*item, wait time.Duration) {
	switch v {
	case throttled:
		p.stats.Throttled.Add(int64(len(items)))
		for _, it := range items {
			it.throttles++
		}
		p.cfg.Pacer.Throttle(p.retryWait(ge, items[0].throttles), sent)
		return items, 0 // the pacer holds every worker back
	case transient:
		p.stats.Faults.Add(int64(len(items)))
		for _, it := range items {
			it.failures++
			if it.failures >= p.cfg.MaxAttempts {
				p.finish(it, csvio.Failed, ge.Status, ge, ge.RequestID, ge.ClientRequestID)
				continue
			}
			again = append(again, it)
			wait = max(wait, p.retryWait(ge, it.failures))
		}
		return again, wait
	}
	for _, it := range items {
		p.finish(it, csvio.Failed, ge.Status, ge, ge.RequestID, ge.ClientRequestID)
	}
	return nil, 0
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

// finish records the outcome of it and lets the next row for its entity go.
func (p *pipeline) finish(it *item, o csvio.Outcome, status int, ge *graph.Error, requestID, clientRequestID string) {
	r := csvio.Result{
		Row:             it.row,
		PolicyID:        it.policyID,
		ID:              it.id,
		Outcome:         o,
		HTTPStatus:      status,
		Attempts:        it.sends,
		RequestID:       requestID,
		ClientRequestID: clientRequestID,
		FinishedAt:      time.Now(),
	}
	if ge != nil {
		r.ErrorCode, r.ErrorMessage = ge.Code, ge.Message
	}
	p.emit(r)
	p.locks.unlock(it)
}

func (p *pipeline) logEnvelope(items []*item, res *graph.BatchResult, err error, took time.Duration) {
	e := p.cfg.Log.Debug()
	if !e.Enabled() {
		return
	}
	if res != nil {
		e = e.Str("clientRequestId", res.ClientRequestID).Str("requestId", res.RequestID)
		statuses := make(map[int]int)
		for _, r := range res.Responses {
			statuses[r.Status]++
		}
		e = e.Interface("statuses", statuses)
	}
	e.Int("items", len(items)).Dur("took", took).Err(err).Msg("envelope")
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
