package batch

import (
	"context"
	"time"

	"github.com/graphbatch/graphbatch/graph"
)

// work carries out jobs until there are no more: it sends each envelope,
// or refreshes the token, and hands back the answer. A worker keeps no
// state between jobs; what to do with an answer is the scheduler's
// business.
func work(ctx context.Context, send Sender, v graph.Version, jobs <-chan job, answers chan<- answer) {
	for j := range jobs {
		a := answer{job: j, sent: time.Now()}
		if j.rows == nil {
			a.err = send.Reauthenticate(ctx, j.reauthGen)
		} else {
			a.res, a.err = send.Batch(ctx, v, j.reqs)
		}
		a.at = time.Now()
		answers <- a // never blocks: its buffer holds an answer per worker
	}
}
