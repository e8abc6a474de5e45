package graph

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RetryAfter parses a Retry-After value, from an HTTP header or from a $batch
// item's headers, into how long to wait from now. Whole seconds, fractional
// seconds (rounded up to the next whole second: Graph has sent "0.249"
// inside batch items) and HTTP dates are understood; a date in the past
// means no wait. ok is false for an absent, negative or unparseable value,
// when the caller should fall back to its own backoff.
func RetryAfter(value string, now time.Time) (wait time.Duration, ok bool) {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(value, 64); err == nil {
		if secs < 0 || math.IsNaN(secs) || math.IsInf(secs, 0) {
			return 0, false
		}
		secs = math.Ceil(secs)
		if secs > maxRetryAfterSeconds {
			secs = maxRetryAfterSeconds
		}
		return time.Duration(secs) * time.Second, true
	}
	when, err := http.ParseTime(value)
	if err != nil {
		return 0, false
	}
	return max(when.Sub(now), 0), true
}

// maxRetryAfterSeconds keeps an absurd value from overflowing a Duration;
// callers cap the wait further and say so.
const maxRetryAfterSeconds = 1 << 32
