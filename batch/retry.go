package batch

import (
	"errors"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/graphbatch/graphbatch/graph"
)

// verdict is what to do with a row after one answer from Graph.
type verdict int

const (
	done      verdict = iota // 2xx: the row is updated
	throttled                // 429: wait as told and send again; never a failure
	transient                // 5xx, lost answers: send again, a bounded number of times
	reauth                   // 401: refresh the token once, then send again
	permanent                // other 4xx: the row failed, sending again cannot help
)

// classify maps an HTTP status, of an item or of an envelope, to a verdict.
func classify(status int) verdict {
	switch {
	case status >= 200 && status < 300:
		return done
	case status == http.StatusTooManyRequests:
		return throttled
	case status == http.StatusUnauthorized:
		return reauth
	case status == http.StatusNotImplemented, status == http.StatusHTTPVersionNotSupported:
		return permanent
	case status >= 500:
		return transient
	}
	return permanent
}

// verdictOf is the verdict on err, an error for a whole answer, and the
// *graph.Error that says why: Graph's, or, for a transport error or an
// unreadable answer, one made of err. Graph may or may not have carried
// out what such an answer lost; PATCHes and GETs are idempotent, so it is
// sent again.
func verdictOf(err error) (verdict, *graph.Error) {
	if ge, ok := errors.AsType[*graph.Error](err); ok {
		return classify(ge.Status), ge
	}
	return transient, &graph.Error{Message: "no usable answer from Graph: " + graph.Clean(err.Error())}
}

// Backoff bounds, for answers that say nothing of when to come back.
const (
	backoffBase = 1 * time.Second
	backoffCap  = 60 * time.Second
)

// backoff returns how long to wait before the next send of something that
// has failed n times (n ≥ 1): exponential from backoffBase, capped at
// backoffCap, with "equal jitter" so that workers that failed together do
// not come back together.
func backoff(n int) time.Duration {
	d := backoffCap
	if n < 16 {
		d = min(backoffBase<<(n-1), backoffCap)
	}
	return d/2 + rand.N(d/2+1)
}
