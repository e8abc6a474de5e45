package batch

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/graphbatch/graphbatch/graph"
)

// Rate is a ceiling on sends: at most N items in any window of Per. It has
// the shape of a documented graph.Limit, which converts to it.
type Rate graph.Limit

// ParseRate parses "N/DURATION", such as "100/20s", or "N/UNIT" with a
// bare unit, such as "5/s".
func ParseRate(s string) (Rate, error) {
	n, per, ok := strings.Cut(s, "/")
	count, err := strconv.Atoi(strings.TrimSpace(n))
	if !ok || err != nil || count < 1 {
		return Rate{}, fmt.Errorf("rate %q: want N/DURATION with N ≥ 1, e.g. 100/20s or 5/s", s)
	}
	per = strings.TrimSpace(per)
	if per != "" && (per[0] < '0' || per[0] > '9') {
		per = "1" + per
	}
	d, err := time.ParseDuration(per)
	if err != nil || d <= 0 {
		return Rate{}, fmt.Errorf("rate %q: want N/DURATION with a positive duration, e.g. 100/20s or 5/s", s)
	}
	return Rate{N: count, Per: d}, nil
}

func (r Rate) String() string { return fmt.Sprintf("%d/%s", r.N, r.Per) }

// windowSlack widens the pacer's window a little beyond the ceiling's, so
// that sends do not reach Graph closer together than Graph counts them.
const windowSlack = 0.02

// Pacer decides when items may be sent. One Pacer is shared by every
// envelope of a kind in a run, because Graph throttles per app and
// tenant, not per request: a Retry-After seen by one holds back all.
//
// It enforces two things. A ceiling: at most limit items in any sliding
// window, where limit starts at the configured rate's N. And a "not before"
// time that every Retry-After pushes forward.
//
// The limit adapts (see cutLimit and climbLimit). After a 429 it drops to
// what Graph admitted from us in the window that ended with the throttled
// send, but never below half of what it was; that count is taken once the
// Retry-After has passed, when every answer of the episode is in. It climbs
// back by a fiftieth of the ceiling for every window without a 429. Alone,
// graphbatch stays at the ceiling; when another app takes part of the
// budget, it settles at what is left.
//
// A Pacer is safe for concurrent use. It reads the time from one clock,
// time.Now.
type Pacer struct {
	mu        sync.Mutex
	rate      Rate          // the ceiling; N == 0 means none
	window    time.Duration // rate.Per widened by windowSlack (readSlack)
	limit     float64       // items allowed per window now, 1 ≤ limit ≤ rate.N
	granted   events        // sends in the current window, oldest first
	admitted  events        // items answered without a 429, by send time (about in order), for the last two windows
	notBefore time.Time     // no send before this: the latest Retry-After
	steadyAt  time.Time     // the last 429, or the last climb: the limit climbs a window after it

	cutPending bool      // a 429 came; cut the limit when its Retry-After has passed
	throttled  time.Time // send time of the envelope whose 429 started the episode
	cutAt      time.Time // 429s for sends before this were already accounted for
}

type event struct {
	at time.Time
	n  int
}

// NewPacer returns a Pacer with ceiling r. A zero Rate means no ceiling:
// only Retry-After holds sends back.
func NewPacer(r Rate) *Pacer { return newPacer(r, windowSlack) }

// readSlack widens a read pacer's window more than windowSlack. Reads and
// writes share Graph's "any request" budget, and the read ceiling takes
// all of it that writes leave (CONTRACT §8): reads that reach Graph late
// in its window, behind a slow network or a busy machine, would take the
// writes' share, and a write answered 429 cuts the write pacer for many
// windows (see Pacer), while a slightly slower read costs little.
const readSlack = 0.10

// NewReadPacer returns a Pacer for reads with ceiling r, whose window is
// widened by readSlack, so that reads arriving late never crowd out
// writes.
func NewReadPacer(r Rate) *Pacer { return newPacer(r, readSlack) }

func newPacer(r Rate, slack float64) *Pacer {
	return &Pacer{
		rate:     r,
		window:   time.Duration(float64(r.Per) * (1 + slack)),
		limit:    float64(r.N),
		steadyAt: time.Now(),
	}
}

// Acquire waits until at least one item may be sent and returns how many
// of want may go now (at least 1, at most want). The caller must send that
// many. It returns early with ctx's error when ctx is done.
func (p *Pacer) Acquire(ctx context.Context, want int) (int, error) {
	for {
		if err := ctx.Err(); err != nil {
			return 0, err // stopped: grant nothing, even if a send would be allowed
		}
		n, wait := p.TryAcquire(want)
		if n > 0 {
			return n, nil
		}
		if err := sleep(ctx, wait); err != nil {
			return 0, err
		}
	}
}

// TryAcquire grants up to want items now, or says how long to wait before
// asking again.
func (p *Pacer) TryAcquire(want int) (int, time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if now.Before(p.notBefore) {
		return 0, p.notBefore.Sub(now)
	}
	if p.rate.N == 0 {
		return want, 0
	}
	p.expire(now)
	p.adapt(now)
	free := int(p.limit) - p.granted.sum
	if free < 1 {
		return 0, p.freeAt(int(p.limit), now).Sub(now)
	}
	n := min(want, free)
	p.granted.push(now, n)
	return n, 0
}

// expire forgets sends that have left the window, and admitted items older
// than two windows.
func (p *Pacer) expire(now time.Time) {
	p.granted.dropThrough(now.Add(-p.window))
	p.admitted.dropThrough(now.Add(-2 * p.window))
}

// events is a queue of counted events with their running sum.
type events struct {
	q   []event
	sum int
}

func (e *events) push(at time.Time, n int) {
	e.q = append(e.q, event{at, n})
	e.sum += n
}

// dropThrough drops events from the front up to and including cutoff.
func (e *events) dropThrough(cutoff time.Time) {
	i := 0
	for i < len(e.q) && !e.q[i].at.After(cutoff) {
		e.sum -= e.q[i].n
		i++
	}
	e.q = e.q[i:]
}

// freeAt returns when a slot frees under limit: when enough of the oldest
// grants leave the window.
func (p *Pacer) freeAt(limit int, now time.Time) time.Time {
	over := p.granted.sum - limit // grants to expire before one slot is free
	for _, e := range p.granted.q {
		over -= e.n
		if over < 0 {
			return e.at.Add(p.window)
		}
	}
	return now
}

// adapt applies a pending cut, or climbs for each whole window since the
// last 429 or climb.
func (p *Pacer) adapt(now time.Time) {
	if p.cutPending {
		p.limit = cutLimit(p.limit, p.admittedAround(p.throttled))
		p.cutPending, p.cutAt, p.steadyAt = false, now, now
		return
	}
	if steps := int(now.Sub(p.steadyAt) / p.window); steps >= 1 && p.limit < float64(p.rate.N) {
		p.limit = climbLimit(p.limit, p.rate.N, steps)
		p.steadyAt = now
	}
}

// cutLimit is the limit after a throttle episode: what Graph admitted
// around the throttled send, but never more than limit, never less than
// half of it (multiplicative decrease), and at least 1.
func cutLimit(limit float64, admitted int) float64 {
	return max(1, min(limit, max(float64(admitted), limit/2)))
}

// climbLimit is the limit after windows quiet windows: a fiftieth of the
// ceiling more for each (additive increase, at least one item), never
// above the ceiling.
func climbLimit(limit float64, ceiling, windows int) float64 {
	return min(float64(ceiling), limit+float64(windows)*max(1, float64(ceiling)/50))
}

// burstSpan is how far apart the envelopes of one burst of grants may be
// sent and still count as sent together.
const burstSpan = time.Second

// admittedAround counts the admitted items Graph was counting when it
// throttled a send made at t: those sent in the ceiling's window up to t,
// and in the same burst as t.
func (p *Pacer) admittedAround(t time.Time) int {
	from, to := t.Add(-p.rate.Per), t.Add(burstSpan)
	n := 0
	for _, e := range p.admitted.q {
		if e.at.After(from) && !e.at.After(to) {
			n += e.n
		}
	}
	return n
}

// Throttle records a 429, for items sent at sentAt, that asked to wait d:
// no item is sent before d has passed, and the limit will drop once for
// this throttle episode.
func (p *Pacer) Throttle(d time.Duration, sentAt time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if until := now.Add(d); until.After(p.notBefore) {
		p.notBefore = until
	}
	p.steadyAt = now
	if p.rate.N == 0 || p.cutPending || sentAt.Before(p.cutAt) {
		return // an episode already accounted for
	}
	p.cutPending, p.throttled = true, sentAt
}

// Admitted records that n items sent at sentAt were answered with
// something other than 429.
func (p *Pacer) Admitted(n int, sentAt time.Time) {
	if n == 0 || p.rate.N == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.admitted.push(sentAt, n)
}

// ThrottledUntil returns when the latest Retry-After ends; a time in the
// past means no wait.
func (p *Pacer) ThrottledUntil() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.notBefore
}

// Limit returns how many items the pacer now lets through per window, and
// the window; 0 means no ceiling.
func (p *Pacer) Limit() (int, time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return int(p.limit), p.rate.Per
}

// sleep waits for d or until ctx is done, whichever comes first.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
