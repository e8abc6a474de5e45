package batch

import (
	"fmt"
	"time"

	"github.com/graphbatch/graphbatch/csvio"
)

// Timing of the results file: outcomes reach the file within groupCommit
// of being known, in one write for all that arrived meanwhile (a write per
// envelope would cost more than the rest of recording it), and it is
// flushed every flushInterval even while no row finishes, so that its
// fsync comes in time.
const (
	groupCommit   = 5 * time.Millisecond
	flushInterval = 250 * time.Millisecond
)

// write owns dst: it records the outcomes the scheduler hands over, in
// order, until there are no more. A crash loses at most the outcomes of
// rows in flight or just answered.
func write(dst ResultWriter, outcomes <-chan []record, cfg *Config) error {
	tick := time.NewTicker(flushInterval)
	defer tick.Stop()
	var commit <-chan time.Time // set while outcomes wait for their flush
	for {
		select {
		case rs, ok := <-outcomes:
			if !ok {
				return dst.Flush()
			}
			for i := range rs {
				if err := cfg.record(dst, &rs[i]); err != nil {
					return err
				}
			}
			if commit == nil {
				commit = time.After(groupCommit)
			}
		case <-commit:
			commit = nil
			if err := dst.Flush(); err != nil {
				return err
			}
		case <-tick.C:
			if err := dst.Flush(); err != nil {
				return err
			}
		}
	}
}

// record is one row's outcome, with its lines of the plan, if any, and the
// line of the file the row starts on, for the log.
type record struct {
	csvio.Result
	plan [][]string
	line int
}

// record writes one outcome to dst, and its plan lines to the plan.
func (c *Config) record(dst ResultWriter, r *record) error {
	c.Stats.count(r.Outcome)
	if err := dst.Write(&r.Result); err != nil {
		return err
	}
	for _, line := range r.plan {
		if err := c.Plan.Write(line); err != nil {
			return fmt.Errorf("plan: %w", err)
		}
	}
	return nil
}
