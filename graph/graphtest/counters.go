package graphtest

import "maps"

// Counters count what the emulator has seen since it started.
type Counters struct {
	Envelopes        int         `json:"envelopes"`        // $batch requests answered, whatever their status
	Items            int         `json:"items"`            // requests answered inside envelopes or on their own
	Patches          int         `json:"patches"`          // PATCHes applied to the store
	EnvelopeStatuses map[int]int `json:"envelopeStatuses"` // $batch answers by HTTP status
	Statuses         map[int]int `json:"statuses"`         // item answers by HTTP status
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

func (s *Server) countEnvelope(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counters.Envelopes++
	s.counters.EnvelopeStatuses[status]++
}

func (s *Server) countItem(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counters.Items++
	s.counters.Statuses[status]++
}
