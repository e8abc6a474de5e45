package batch

import (
	"math/rand/v2"
	"net/http"
	"time"
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
