package batch

import (
	"sync/atomic"
	"time"

	"github.com/graphbatch/graphbatch/csvio"
)

// Stats are the live counts of a run, for progress displays. All fields
// may be read while the run goes on; Run updates them.
type Stats struct {
	Read      atomic.Int64 // data rows read (within --limit), skipped ones included
	Skipped   atomic.Int64 // rows an earlier run finished
	Updated   atomic.Int64
	Unchanged atomic.Int64 // read first and already as wanted: not written
	Failed    atomic.Int64
	Invalid   atomic.Int64
	Valid     atomic.Int64
	Envelopes atomic.Int64 // $batch requests sent
	Reads     atomic.Int64 // items sent to be read (GET), first sends and resends
	Sends     atomic.Int64 // items sent to be written, first sends and resends
	Resends   atomic.Int64 // items sent again after a 429, 5xx or lost answer
	Throttled atomic.Int64 // items (or whole envelopes' items) answered 429
	Faults    atomic.Int64 // items answered 5xx, or lost with their envelope
	AllRead   atomic.Bool  // every row to process was read: a stop left none unread
}

// Summary is a snapshot of Stats.
type Summary struct {
	Read      int64 `json:"read"`
	Skipped   int64 `json:"skipped"`
	Updated   int64 `json:"updated"`
	Unchanged int64 `json:"unchanged"`
	Failed    int64 `json:"failed"`
	Invalid   int64 `json:"invalid"`
	Valid     int64 `json:"valid"`
	Envelopes int64 `json:"envelopes"`
	Reads     int64 `json:"reads"`
	Sends     int64 `json:"sends"`
	Resends   int64 `json:"resends"`
	Throttled int64 `json:"throttled"`
	Faults    int64 `json:"faults"`
	AllRead   bool  `json:"allRead"`

	Duration time.Duration `json:"-"`
}

// Snapshot returns the current counts.
func (s *Stats) Snapshot() Summary {
	return Summary{
		Read:      s.Read.Load(),
		Skipped:   s.Skipped.Load(),
		Updated:   s.Updated.Load(),
		Unchanged: s.Unchanged.Load(),
		Failed:    s.Failed.Load(),
		Invalid:   s.Invalid.Load(),
		Valid:     s.Valid.Load(),
		Envelopes: s.Envelopes.Load(),
		Reads:     s.Reads.Load(),
		Sends:     s.Sends.Load(),
		Resends:   s.Resends.Load(),
		Throttled: s.Throttled.Load(),
		Faults:    s.Faults.Load(),
		AllRead:   s.AllRead.Load(),
	}
}

// Done returns how many rows have an outcome in this run.
func (s Summary) Done() int64 { return s.Updated + s.Unchanged + s.Failed + s.Invalid + s.Valid }

func (s *Stats) count(o csvio.Outcome) {
	switch o {
	case csvio.Updated:
		s.Updated.Add(1)
	case csvio.Unchanged:
		s.Unchanged.Add(1)
	case csvio.Failed:
		s.Failed.Add(1)
	case csvio.Invalid:
		s.Invalid.Add(1)
	case csvio.Valid:
		s.Valid.Add(1)
	}
}
