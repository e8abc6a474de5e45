package graphtest

import "maps"

// Counters count what the emulator has seen since it started. Reads and
// writes are counted apart: Reads and Patches, ThrottledReads and
// Throttled, EarlyReadRetries and EarlyRetries.
type Counters struct {
	Envelopes        int         `json:"envelopes"`        // $batch requests answered, whatever their status
	Items            int         `json:"items"`            // requests answered inside envelopes or on their own
	Reads            int         `json:"reads"`            // GETs answered 200: an entity, or a page of a list
	Patches          int         `json:"patches"`          // PATCHes applied
	EnvelopeStatuses map[int]int `json:"envelopeStatuses"` // $batch answers by HTTP status
	Statuses         map[int]int `json:"statuses"`         // item answers by HTTP status
	Throttled        int         `json:"throttled"`        // PATCHes answered 429 for going over a limit
	ThrottledReads   int         `json:"throttledReads"`   // GETs answered 429 for going over a limit
	EarlyRetries     int         `json:"earlyRetries"`     // throttled PATCHes sent again before their Retry-After ended
	EarlyReadRetries int         `json:"earlyReadRetries"` // throttled GETs sent again before their Retry-After ended
	ItemFaults       int         `json:"itemFaults"`       // items answered an injected 5xx
	EnvelopeFaults   int         `json:"envelopeFaults"`   // envelopes answered an injected 429 or 503
	Dropped          int         `json:"dropped"`          // connections dropped without an answer
	TokensIssued     int         `json:"tokensIssued"`     // tokens the authority issued
	Unauthorized     int         `json:"unauthorized"`     // requests answered 401 for a missing, unknown, expired or revoked token
	ExpiredTokens    int         `json:"expiredTokens"`    // of those, requests with an expired or revoked token
}

func newCounters() Counters {
	return Counters{EnvelopeStatuses: make(map[int]int), Statuses: make(map[int]int)}
}

// Counters returns a copy of the counters.
func (s *Server) Counters() Counters {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.counters
	c.EnvelopeStatuses = maps.Clone(c.EnvelopeStatuses)
	c.Statuses = maps.Clone(c.Statuses)
	return c
}

// count changes the counters under the server's lock.
func (s *Server) count(change func(*Counters)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	change(&s.counters)
}

func (s *Server) countEnvelope(status int) {
	s.count(func(c *Counters) {
		c.Envelopes++
		c.EnvelopeStatuses[status]++
	})
}

func (s *Server) countItem(status int) {
	s.count(func(c *Counters) {
		c.Items++
		c.Statuses[status]++
	})
}
