package graphtest

import (
	"net/http"
	"strconv"
)

// Faults are failures the emulator injects at random, to prove that a
// client survives them. Rates are probabilities from 0 to 1.
type Faults struct {
	ItemRate     float64 // an item (a PATCH or a GET) answers 500, 503 or 504 and is not applied
	EnvelopeRate float64 // a whole envelope answers 429 or 503 with a Retry-After, nothing applied
	DropRate     float64 // the connection is dropped without an answer; half the time after applying the items
}

// chance reports whether an event of probability rate happens. The caller
// holds the server's lock.
func (s *Server) chance(rate float64) bool {
	return rate > 0 && s.rng.Float64() < rate
}

// envelopeFault returns the status and Retry-After of an injected envelope
// failure, or ok false.
func (s *Server) envelopeFault() (status, retryAfter int, ok bool) {
	if s.opts.Faults.EnvelopeRate <= 0 {
		return 0, 0, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.chance(s.opts.Faults.EnvelopeRate) {
		return 0, 0, false
	}
	s.counters.EnvelopeFaults++
	status = http.StatusServiceUnavailable
	if s.rng.IntN(2) == 0 {
		status = http.StatusTooManyRequests
	}
	return status, 1 + s.rng.IntN(2), true
}

// drop decides whether to drop this envelope's connection, and whether to
// apply its items first.
func (s *Server) drop() (drop, applyFirst bool) {
	if s.opts.Faults.DropRate <= 0 {
		return false, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.chance(s.opts.Faults.DropRate) {
		return false, false
	}
	s.counters.Dropped++
	return true, s.rng.IntN(2) == 0
}

// itemFault returns an injected 5xx answer for one item, or ok false.
func (s *Server) itemFault(ids requestIDs) (answer, bool) {
	if s.opts.Faults.ItemRate <= 0 {
		return answer{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.chance(s.opts.Faults.ItemRate) {
		return answer{}, false
	}
	s.counters.ItemFaults++
	switch s.rng.IntN(3) {
	case 0:
		return errorAnswer(http.StatusInternalServerError, ids, "InternalServerError", "An internal server error occurred."), true
	case 1:
		a := errorAnswer(http.StatusServiceUnavailable, ids, "ServiceUnavailable", "The service is temporarily unavailable.")
		a.headers["Retry-After"] = strconv.Itoa(1 + s.rng.IntN(2))
		return a, true
	}
	return errorAnswer(http.StatusGatewayTimeout, ids, "GatewayTimeout", "The gateway timed out."), true
}
