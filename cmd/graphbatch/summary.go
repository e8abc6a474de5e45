package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/graphbatch/graphbatch/batch"
	"github.com/graphbatch/graphbatch/graph"
)

// runSummary is the summary of one update run, as --summary writes it for
// monitoring. Rows updated include those an earlier run of a --resume
// chain updated; the other counts are this run's.
type runSummary struct {
	Resource        string    `json:"resource"`
	APIVersion      string    `json:"apiVersion"`
	Input           string    `json:"input"`
	Results         string    `json:"results"`
	DryRun          bool      `json:"dryRun"`
	Plan            bool      `json:"plan,omitempty"`
	StartedAt       time.Time `json:"startedAt"`
	FinishedAt      time.Time `json:"finishedAt"`
	DurationSeconds float64   `json:"durationSeconds"`
	Rows            rowCounts `json:"rows"`
	RowsPerSecond   float64   `json:"rowsPerSecond"`
	Envelopes       int64     `json:"envelopes"`   // $batch requests sent
	Reads           int64     `json:"reads"`       // items sent to be read (GET), resends included
	Sends           int64     `json:"sends"`       // items sent to be written (PATCH), resends included
	WritesSaved     int64     `json:"writesSaved"` // rows read and found unchanged: PATCHes not sent
	Retries         int64     `json:"retries"`     // items sent again
	Throttled       int64     `json:"throttled"`   // items answered 429
	Faults          int64     `json:"faults"`      // items answered 5xx or lost
	Status          string    `json:"status"`      // completed, rowsFailed, interrupted, fatal or usage
	ExitCode        int       `json:"exitCode"`    //
	Error           string    `json:"error,omitempty"`
	ResumeCommand   string    `json:"resumeCommand,omitempty"`

	allRead bool // a stop left no row of the input unread
}

type rowCounts struct {
	Read           int64 `json:"read"`               // data rows read in this run
	Updated        int64 `json:"updated"`            // in this run and earlier ones
	UpdatedEarlier int64 `json:"updatedEarlier"`     // of those and the unchanged, in earlier runs (skipped now)
	Unchanged      int64 `json:"unchanged"`          // read first and already as wanted: not written (in a plan: nothing to change)
	ToChange       int64 `json:"toChange,omitempty"` // in a plan: rows that would change
	Failed         int64 `json:"failed"`
	Invalid        int64 `json:"invalid"`
	Valid          int64 `json:"valid"`
	Unfinished     int64 `json:"unfinished"` // read but left without an outcome by an interruption
}

func newRunSummary(opts *updateOptions, sum batch.Summary, start time.Time, runErr error) runSummary {
	code := exitCode(runErr)
	if runErr == nil && sum.Failed+sum.Invalid > 0 {
		code = exitRowsFailed
	}
	s := runSummary{
		Resource:        opts.Resource,
		APIVersion:      opts.Target.APIVersion,
		Input:           opts.In,
		Results:         opts.Out,
		DryRun:          opts.DryRun,
		Plan:            opts.Plan,
		StartedAt:       start.UTC(),
		FinishedAt:      time.Now().UTC(),
		DurationSeconds: float64(sum.Duration.Milliseconds()) / 1000,
		Rows: rowCounts{
			Read:           sum.Read,
			Updated:        sum.Updated + sum.Skipped,
			UpdatedEarlier: sum.Skipped,
			Unchanged:      sum.Unchanged,
			Failed:         sum.Failed,
			Invalid:        sum.Invalid,
			Valid:          sum.Valid,
			Unfinished:     sum.Read - sum.Skipped - sum.Done(),
		},
		Envelopes:   sum.Envelopes,
		Reads:       sum.Reads,
		Sends:       sum.Sends,
		WritesSaved: sum.Unchanged,
		Retries:     sum.Resends,
		Throttled:   sum.Throttled,
		Faults:      sum.Faults,
		ExitCode:    code,
		allRead:     sum.AllRead,
	}
	if opts.Plan {
		s.Rows.ToChange, s.Rows.Valid = sum.Valid, 0
	}
	if secs := sum.Duration.Seconds(); secs > 0 {
		s.RowsPerSecond = round1(float64(sum.Done()) / secs)
	}
	switch code {
	case exitOK:
		s.Status = "completed"
	case exitRowsFailed:
		s.Status = "rowsFailed"
	case exitInterrupted:
		s.Status = "interrupted"
		s.ResumeCommand = resumeCommand(opts)
	case exitUsage:
		s.Status = "usage" // nothing was sent: fix the command line or the input
	default:
		s.Status = "fatal"
		s.ResumeCommand = resumeCommand(opts) // once the cause is fixed
	}
	if runErr != nil && !errors.Is(runErr, batch.ErrInterrupted) {
		s.Error = runErr.Error()
	}
	return s
}

// print writes the summary for a person.
func (s runSummary) print(w io.Writer) {
	var b strings.Builder
	r := s.Rows
	fmt.Fprintf(&b, "\n%s in %s (%.1f rows/s):", plural(r.Read, "row"), time.Duration(s.DurationSeconds*float64(time.Second)), s.RowsPerSecond)
	switch {
	case s.Plan:
		fmt.Fprintf(&b, " %d to change, %d unchanged, %d missing or unreadable, %d invalid\n", r.ToChange, r.Unchanged, r.Failed, r.Invalid)
	case s.DryRun:
		fmt.Fprintf(&b, " %d valid, %d invalid\n", r.Valid, r.Invalid)
	case r.Unchanged > 0:
		fmt.Fprintf(&b, " %d updated, %d unchanged, %d failed, %d invalid\n", r.Updated, r.Unchanged, r.Failed, r.Invalid)
	case r.UpdatedEarlier > 0:
		fmt.Fprintf(&b, " %d updated (%d in earlier runs), %d failed, %d invalid\n", r.Updated, r.UpdatedEarlier, r.Failed, r.Invalid)
	default:
		fmt.Fprintf(&b, " %d updated, %d failed, %d invalid\n", r.Updated, r.Failed, r.Invalid)
	}
	if !s.DryRun && s.Envelopes > 0 {
		fmt.Fprintf(&b, "  %d $batch requests: %d reads, %d writes (%d sent again); %d answered 429 (throttled), %d answered 5xx or lost\n",
			s.Envelopes, s.Reads, s.Sends, s.Retries, s.Throttled, s.Faults)
	}
	if s.WritesSaved > 0 {
		fmt.Fprintf(&b, "  %d writes saved: those rows already held their values\n", s.WritesSaved)
	}
	if s.Plan {
		fmt.Fprintf(&b, "  plan: %s\n", s.Results)
	} else {
		fmt.Fprintf(&b, "  results: %s\n", s.Results)
	}
	switch s.Status {
	case "interrupted":
		fmt.Fprintf(&b, "Interrupted: %s. To continue:\n  %s\n", s.leftover(), s.ResumeCommand)
	case "fatal":
		fmt.Fprintf(&b, "Stopped by the error below: %s. Once it is fixed, continue with:\n  %s\n", s.leftover(), s.ResumeCommand)
	case "rowsFailed":
		if s.Plan {
			fmt.Fprintf(&b, "%d rows are missing or could not be read, and %d invalid: the log names the first; 'graphbatch update --dry-run' writes a results file naming every invalid row.\n", r.Failed, r.Invalid)
		} else if s.DryRun {
			fmt.Fprintf(&b, "%s invalid: the errorMessage column says why.\n", plural(r.Invalid, "row"))
		} else {
			fmt.Fprintf(&b, "%s failed and %d invalid: the errorMessage column says why. Fix them and run again with --resume to send only the rows not yet updated.\n", plural(r.Failed, "row"), r.Invalid)
		}
	}
	_, _ = io.WriteString(w, terminalSafe(b.String()))
}

// leftover says what a stopped run left for --resume.
func (s runSummary) leftover() string {
	if s.allRead {
		return fmt.Sprintf("%d rows read have no outcome yet", s.Rows.Unfinished)
	}
	return fmt.Sprintf("%d rows read have no outcome yet, and the rest of the file was not read", s.Rows.Unfinished)
}

// write writes the summary as JSON to path.
func (s runSummary) write(path string) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("--summary: %w", err)
	}
	return nil
}

// resumeCommand is the command line that continues this run.
func resumeCommand(opts *updateOptions) string {
	args := []string{"graphbatch", "update", opts.Resource, "--in", opts.In, "--out", opts.Out, "--resume"}
	if opts.Plan {
		args = []string{"graphbatch", "plan", opts.Resource, "--in", opts.In, "--out", opts.Out, "--overwrite"}
	}
	if opts.Backup != "" {
		args = append(args, "--backup", opts.Backup)
	}
	if opts.Target.APIVersion != string(graph.V1) {
		args = append(args, "--api-version", opts.Target.APIVersion)
	}
	for i, a := range args {
		args[i] = shellWord(a)
	}
	return strings.Join(args, " ") + " [your other flags]"
}

// plural returns "1 row", "2 rows".
func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// writeRefusedSummary writes --summary for an update command line that
// cobra refused before the command ran (a bad flag), so that an earlier
// run's summary does not stay in place. The flags were not parsed, so
// --summary and --in are found in args as written.
func writeRefusedSummary(args []string, std streams, err error) {
	opts := &updateOptions{Summary: flagValue(args, "summary"), In: flagValue(args, "in"), Out: flagValue(args, "out")}
	if opts.Summary == "" || opts.checkFiles(std) != nil {
		return
	}
	_ = opts.writeSummary(batch.Summary{}, time.Now(), err)
}

// flagValue returns the value args give the flag --name, in either form
// (--name V or --name=V), or "".
func flagValue(args []string, name string) string {
	for i, a := range args {
		if a == "--" {
			break
		}
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v
		}
		if a == "--"+name && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}
