package batch

import (
	"context"
	"sync"
	"time"
)

// Pacer decides when items may be sent. One Pacer is shared by every worker
// of a run, because Graph throttles per app and tenant, not per request: a
// Retry-After seen by one worker holds back all of them. It is safe for
// concurrent use.
type Pacer struct {
	mu        sync.Mutex
	notBefore time.Time // no send before this: the latest Retry-After
}

// NewPacer returns a Pacer.
func NewPacer() *Pacer { return &Pacer{} }

// Acquire waits until up to want items may be sent and returns how many.
// It returns early with ctx's error when ctx is done.
func (p *Pacer) Acquire(ctx context.Context, want int) (int, error) {
	for {
		p.mu.Lock()
		wait := time.Until(p.notBefore)
		p.mu.Unlock()
		if wait <= 0 {
			return want, ctx.Err()
		}
		if err := sleep(ctx, wait); err != nil {
			return 0, err
		}
	}
}

// Throttle records that Graph asked to wait d before sending again.
func (p *Pacer) Throttle(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t := time.Now().Add(d); t.After(p.notBefore) {
		p.notBefore = t
	}
}

// Admitted records that n items were answered without a 429.
func (p *Pacer) Admitted(n int) {}

// ThrottledUntil returns when the last Retry-After ends; a time in the past
// means no wait.
func (p *Pacer) ThrottledUntil() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.notBefore
}
