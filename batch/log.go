package batch

import (
	"fmt"
	"time"

	"github.com/graphbatch/graphbatch/csvio"
)

// maxLoggedProblems is how many invalid or failed rows are also logged;
// the results file has them all.
const maxLoggedProblems = 20

// logProblem logs the first maxLoggedProblems rows that did not succeed,
// in words a person can act on, with the line to find them at.
func (s *scheduler) logProblem(line int, res *csvio.Result) {
	if res.Outcome != csvio.Invalid && res.Outcome != csvio.Failed {
		return
	}
	s.problems++
	switch {
	case s.problems < maxLoggedProblems:
	case s.problems == maxLoggedProblems:
		s.cfg.Log.Warn().Msg("more rows are invalid or failed; the results file has every one")
		return
	default:
		return
	}
	where := fmt.Sprintf("row %d (line %d)", res.Row, line)
	if res.Outcome == csvio.Invalid {
		s.cfg.Log.Warn().Int("row", res.Row).Int("line", line).Msgf("row %d, %s", res.Row, res.ErrorMessage) // the message names the line
		return
	}
	s.cfg.Log.Warn().Int("row", res.Row).Int("line", line).Int("httpStatus", res.HTTPStatus).Str("errorCode", res.ErrorCode).
		Str("requestId", res.RequestID).Int("attempts", res.Attempts).
		Msgf("%s failed: %d %s: %s", where, res.HTTPStatus, res.ErrorCode, res.ErrorMessage)
}

// logThrottle logs one line per throttle episode: the first answer whose
// 429s push the pacer's wait half a second or more past the end of the
// wait logged last. It tells the longest wait asked and the pacer's rate.
func (s *scheduler) logThrottle(a *answer) {
	until := s.pacers[a.kind].ThrottledUntil()
	if until.Sub(s.loggedEnd) < 500*time.Millisecond || !until.After(a.at) {
		return
	}
	s.loggedEnd = until
	e := s.cfg.Log.Info().Float64("waitSeconds", until.Sub(a.at).Round(time.Millisecond).Seconds())
	if n, per := s.pacers[a.kind].Limit(); n > 0 {
		e = e.Stringer("rate", Rate{N: n, Per: per})
	}
	if a.res != nil {
		e = e.Str("clientRequestId", a.res.ClientRequestID)
	}
	e.Msg("throttled by Graph (429): all workers wait as asked")
}

// logEnvelope logs one envelope's answer at debug level.
func (s *scheduler) logEnvelope(a *answer) {
	e := s.cfg.Log.Debug()
	if !e.Enabled() {
		return
	}
	if a.res != nil {
		statuses := make(map[string]int)
		for _, r := range a.res.Responses {
			statuses[fmt.Sprint(r.Status)]++
		}
		e = e.Str("clientRequestId", a.res.ClientRequestID).Str("requestId", a.res.RequestID).Interface("statuses", statuses)
	}
	ids := make([]int, len(a.rows))
	for i, r := range a.rows {
		ids[i] = r.num
	}
	e.Int("items", len(a.rows)).Ints("rows", ids).Float64("ms", float64(a.at.Sub(a.sent).Microseconds())/1000).Err(a.err).Msg("envelope")
}
