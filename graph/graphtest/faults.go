package graphtest

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
)

// Faults are failures the emulator injects at random, to prove that a
// client survives them. Rates are probabilities from 0 to 1.
type Faults struct {
	ItemRate     float64 // an item answers 500, 503 or 504 and is not applied
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

// Transport returns a RoundTripper that serves every request in process
// with s's handler, whatever its URL's host: no socket is opened, so a test
// can use it inside a testing/synctest bubble. A dropped connection is an
// io.ErrUnexpectedEOF error.
func (s *Server) Transport() http.RoundTripper { return handlerTransport{s} }

type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (resp *http.Response, err error) {
	defer func() {
		if v := recover(); v != nil {
			if v != http.ErrAbortHandler {
				panic(v)
			}
			resp, err = nil, io.ErrUnexpectedEOF
		}
	}()
	sreq := req.Clone(req.Context())
	sreq.RequestURI = req.URL.RequestURI()
	sreq.RemoteAddr = "192.0.2.1:49152"
	if req.URL.Scheme == "https" { // as if it came over TLS, for URLs the handler builds
		sreq.TLS = &tls.ConnectionState{HandshakeComplete: true}
	}
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, sreq)
	return rec.Result(), nil
}
