package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
	"github.com/vbauerster/mpb/v8"

	"github.com/graphbatch/graphbatch/batch"
	"github.com/graphbatch/graphbatch/graph"
	"github.com/graphbatch/graphbatch/graph/graphtest"
	"github.com/graphbatch/graphbatch/signin"
)

// updateOptions are the parsed flags of graphbatch update.
type updateOptions struct {
	Resource      string // the TARGET argument: an alias or a path template
	In, Out       string
	Overwrite     bool
	Resume        bool
	DryRun        bool
	Target        targetOptions
	SignIn        signInOptions
	Emulator      bool
	Concurrency   int
	BatchSize     int
	Limit         int
	Rate          string
	MaxAttempts   int
	MaxFailures   int
	ReadRate      string
	SkipUnchanged bool
	Backup        string
	Plan          bool // graphbatch plan: read, write nothing to Graph; Out is the plan
	NoThrottle    bool
	Rows          string
	Progress      string
	Interval      time.Duration
	Summary       string
	CPUProfile    string
	MemProfile    string
	Log           logOptions
}

const updateLong = `Update one Graph object per CSV row.

TARGET is an alias ('graphbatch resources' lists them) or a path template of
Graph's metadata, such as '/users/{id}'. The first line of the CSV names the
columns: the template's key columns, then any of the target's writable
properties ('graphbatch resources TARGET' lists them with their types). An
empty cell leaves that property alone; #null sets it to null. Rows are
validated, packed into $batch envelopes of up to 20 PATCHes, and sent; every
row gets one line in the results file (default: the input path with
.results.csv for .csv).

--skip-unchanged reads each row's entity first and writes only rows that
change something; --backup FILE also saves what each row changes, before it
is changed, as a CSV that 'graphbatch update TARGET --in FILE' restores.

Exit status:
  0    every row was updated or unchanged (or valid, with --dry-run)
  1    the run could not go on (sign-in failed, results file not writable, ...)
  2    usage or input error found before anything was sent
  3    the run finished, but at least one row is failed or invalid
  130  interrupted by Ctrl-C or SIGTERM`

const updateExample = `  # Try it on the shipped sample against the built-in emulator
  graphbatch update device-statuses --in samples/device-statuses.csv --emulator

  # Unattended, as an app registration with a client secret
  export AZURE_TENANT_ID=... AZURE_CLIENT_ID=... AZURE_CLIENT_SECRET=...
  graphbatch update device-statuses --in fix.csv

  # With a certificate, in GCC High
  AZURE_CLIENT_CERTIFICATE_PATH=app.pfx graphbatch update user-statuses --in fix.csv --cloud usgov

  # Check a file without sending anything
  graphbatch update user-statuses --in users.csv --dry-run

  # Pilot the first 10 rows on beta
  graphbatch update device-statuses --in fix.csv --api-version beta --limit 10

  # Continue a run that was stopped, or send again the rows that failed
  graphbatch update device-statuses --in fix.csv --resume

  # Any target of Graph's metadata; write only what changes, and keep a backup
  graphbatch update '/users/{id}' --in hr.csv --skip-unchanged --backup hr.backup.csv
  graphbatch update users --in hr.backup.csv --out undo.results.csv     # undo`

func newUpdateCmd(std streams) *cobra.Command {
	opts := &updateOptions{BatchSize: graph.MaxBatchSize}
	cmd := &cobra.Command{
		Use:     "update TARGET --in FILE [--out FILE] [flags]",
		Short:   "Update Graph objects from a CSV file",
		Long:    updateLong,
		Example: updateExample,
		Args:    usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Resource = args[0]
			return runUpdate(cmd.Context(), opts, std)
		},
	}
	opts.addFlags(cmd)
	return cmd
}

// addFlags adds the flags of update, and with opts.Plan those of plan.
func (opts *updateOptions) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&opts.In, "in", "", "input CSV `PATH`; - reads standard input")
	if opts.Plan {
		f.StringVar(&opts.Out, "out", "", "the plan, a CSV `PATH` (default: the input path with .plan.csv in place of .csv)")
		f.BoolVar(&opts.Overwrite, "overwrite", false, "replace an existing plan")
	} else {
		f.StringVar(&opts.Out, "out", "", "results CSV `PATH` (default: the input path with .results.csv in place of .csv)")
		f.BoolVar(&opts.Overwrite, "overwrite", false, "replace an existing results file")
		f.BoolVar(&opts.Resume, "resume", false, "continue the run that wrote --out: skip rows it updated, send the rest, append")
		f.BoolVar(&opts.DryRun, "dry-run", false, "validate every row and write the results; send nothing")
		f.StringVar(&opts.Rate, "rate", "", "ceiling on PATCHes sent, `N/DURATION` such as 100/20s or 5/s (default: the documented write limit of the target's service, 'graphbatch resources TARGET' says)")
		f.BoolVar(&opts.SkipUnchanged, "skip-unchanged", false, "read each row's entity first; a row whose values all equal Graph's is unchanged and not written")
		f.StringVar(&opts.Backup, "backup", "", "before each row is written, save what it changes to `FILE`, in this command's input format: 'update TARGET --in FILE' restores it (implies reading first)")
		f.IntVar(&opts.BatchSize, "batch-size", graph.MaxBatchSize, "requests per $batch envelope, 1-20")
	}
	f.StringVar(&opts.ReadRate, "read-rate", "", "ceiling on reads (GET), `N/DURATION` (default: the service's documented limit for any request, less the write rate)")
	f.BoolVar(&opts.Emulator, "emulator", false, "run against an in-process Graph emulator: no tenant, no credentials")
	f.IntVar(&opts.Concurrency, "concurrency", batch.DefaultConcurrency, "most $batch requests in flight at once")
	f.IntVar(&opts.Limit, "limit", 0, "process only the first `N` data rows (a pilot run)")
	f.IntVar(&opts.MaxAttempts, "max-attempts", batch.DefaultMaxAttempts, "sends of a row before a 5xx or a lost answer makes it failed; 429s do not count")
	f.IntVar(&opts.MaxFailures, "max-failures", 100, "stop when `N` rows in a row fail with the same permanent error (a route or permission the tenant refuses); 0 never stops")
	f.StringVar(&opts.Rows, "rows", "", "process only data rows `A-B` of the file (1-based, both included; A- runs to the end)")
	f.StringVar(&opts.Progress, "progress", "auto", "progress display: auto (a bar on a terminal, log lines otherwise), always (a bar) or never")
	f.DurationVar(&opts.Interval, "progress-interval", 10*time.Second, "how often progress is logged when not shown as a bar")
	f.StringVar(&opts.Summary, "summary", "", "also write the run's summary as JSON to `PATH`, for monitoring")
	f.BoolVar(&opts.NoThrottle, "emulator-no-throttle", false, "with --emulator: turn off its limits (and, without --rate, graphbatch's own ceilings), for large local runs")
	f.StringVar(&opts.CPUProfile, "cpuprofile", "", "write a CPU profile to `PATH` (for performance work)")
	f.StringVar(&opts.MemProfile, "memprofile", "", "write a heap profile to `PATH` at the end (for performance work)")
	_ = f.MarkHidden("cpuprofile")
	_ = f.MarkHidden("memprofile")
	opts.Target.addFlags(cmd)
	opts.SignIn.addFlags(cmd)
	opts.Log.addFlags(cmd)
}

// check validates the flags against each other.
func (o *updateOptions) check() error {
	switch {
	case o.In == "":
		return usagef("--in is required: the CSV file to read (- for standard input)")
	case o.In == "-" && o.Out == "":
		return usagef("--out is required when --in is - (standard input)")
	case o.BatchSize < 1 || o.BatchSize > graph.MaxBatchSize:
		return usagef("--batch-size must be between 1 and %d, not %d", graph.MaxBatchSize, o.BatchSize)
	case o.Concurrency < 1:
		return usagef("--concurrency must be at least 1, not %d", o.Concurrency)
	case o.Limit < 0:
		return usagef("--limit must not be negative")
	case o.Progress != "auto" && o.Progress != "always" && o.Progress != "never":
		return usagef("--progress must be auto, always or never, not %q", o.Progress)
	case o.Interval <= 0:
		return usagef("--progress-interval must be positive")
	case o.DryRun && (o.SkipUnchanged || o.Backup != ""):
		return usagef("--dry-run sends nothing, so it cannot read first: drop --skip-unchanged and --backup, or use 'graphbatch plan'")
	case o.Resume && o.Overwrite:
		return usagef("--resume and --overwrite cannot be used together: --resume continues the results file, --overwrite starts it over")
	case o.MaxAttempts < 1:
		return usagef("--max-attempts must be at least 1, not %d", o.MaxAttempts)
	case o.MaxFailures < 0:
		return usagef("--max-failures must not be negative (0 never stops)")
	case o.NoThrottle && !o.Emulator:
		return usagef("--emulator-no-throttle needs --emulator")
	case o.Emulator && o.SignIn.GraphEndpoint != "":
		return usagef("--emulator and --graph-endpoint cannot be used together")
	case o.Emulator && o.SignIn.Auth != string(signin.Auto) && o.SignIn.Auth != string(signin.None):
		return usagef("--emulator needs no sign-in; drop --auth %s", o.SignIn.Auth)
	}
	// Checked here too, so that a dry run, which signs in to nothing, does
	// not pass a command line the real run would refuse.
	if o.SignIn.Auth != "" {
		if _, err := signin.ParseMethod(o.SignIn.Auth); err != nil {
			return &usageError{err}
		}
	}
	if _, err := o.SignIn.cloud(); err != nil {
		return err
	}
	o.defaultOut()
	return nil
}

// defaultOut sets --out to the input path with .results.csv (a plan:
// .plan.csv) for .csv.
func (o *updateOptions) defaultOut() {
	if o.Out != "" || o.In == "" || o.In == "-" {
		return
	}
	base := o.In
	if ext := filepath.Ext(base); strings.EqualFold(ext, ".csv") { // FIX.CSV as Windows names it
		base = strings.TrimSuffix(base, ext)
	}
	if o.Plan {
		o.Out = base + ".plan.csv"
		return
	}
	o.Out = base + ".results.csv"
}

// checkFiles refuses, before anything is opened for writing, a command
// line that names one file twice.
func (o *updateOptions) checkFiles(std streams) error {
	o.defaultOut()
	return distinctFiles(std.In,
		namedFile{"--in", o.In},
		namedFile{"--out", o.Out},
		namedFile{"--summary", o.Summary},
		namedFile{"--backup", o.Backup},
	)
}

// writeSummary writes --summary, if asked, for a run that ended with err.
func (o *updateOptions) writeSummary(sum batch.Summary, start time.Time, err error) error {
	if o.Summary == "" {
		return nil
	}
	if sum.Duration == 0 {
		sum.Duration = time.Since(start)
	}
	return newRunSummary(o, sum, start, err).write(o.Summary)
}

// showProgress starts the progress display --progress asks for and
// returns how to stop it: a bar on a terminal, with log lines printed
// above it, or a log line every --progress-interval.
func (o *updateOptions) showProgress(prog *progress, std streams, logs *swapWriter, log zerolog.Logger) (stop func()) {
	switch {
	case o.Progress == "never":
		return func() {}
	case o.Progress == "always" || std.ErrIsTerminal:
		var opts []mpb.ContainerOption
		if !std.ErrIsTerminal {
			opts = append(opts, mpb.WithAutoRefresh())
		}
		b := newBar(prog, std.Err, opts...)
		logs.set(b)
		return func() {
			b.finish()
			logs.set(std.Err)
		}
	}
	return logLines(prog, log, o.Interval)
}

// parseRows parses --rows A-B.
func parseRows(s string) (batch.RowRange, error) {
	if s == "" {
		return batch.RowRange{}, nil
	}
	a, b, ok := strings.Cut(s, "-")
	first, err1 := strconv.Atoi(strings.TrimSpace(a))
	last, err2 := 0, error(nil)
	if strings.TrimSpace(b) != "" {
		last, err2 = strconv.Atoi(strings.TrimSpace(b))
	}
	if !ok || err1 != nil || err2 != nil || first < 1 || (last != 0 && last < first) {
		return batch.RowRange{}, usagef("--rows %q: want A-B with 1 ≤ A ≤ B, such as 100-199, or A- for A to the end", s)
	}
	return batch.RowRange{First: first, Last: last}, nil
}

// drainTimeout bounds how long envelopes in flight may take to finish
// after Ctrl-C or SIGTERM.
const drainTimeout = 30 * time.Second

// hardContext returns the context sends run under: it outlives ctx, the
// graceful stop, by up to drainTimeout, and ends at once on abort (a
// second signal).
func hardContext(ctx context.Context, abort <-chan struct{}) (context.Context, context.CancelFunc) {
	hard, cancel := context.WithCancel(context.WithoutCancel(ctx))
	go func() {
		select {
		case <-ctx.Done():
		case <-hard.Done():
			return
		}
		t := time.NewTimer(drainTimeout)
		defer t.Stop()
		select {
		case <-t.C:
		case <-abort:
		case <-hard.Done():
		}
		cancel()
	}()
	return hard, cancel
}

// sender returns what sends envelopes, signed in, and how to release it.
// A dry run sends nothing and needs no sign-in.
func (o *updateOptions) sender(ctx context.Context, std streams, log zerolog.Logger, t *graph.Target) (*graph.Client, func(), error) {
	if o.DryRun {
		return nil, func() {}, nil
	}
	hc, err := o.SignIn.httpClient(o.Concurrency)
	if err != nil {
		return nil, nil, err
	}
	if o.Emulator {
		var eo graphtest.Options
		if o.NoThrottle {
			eo.Limits = &graphtest.NoLimits
		}
		emu := graphtest.NewServer(eo)
		return graph.NewClient(hc, emu.URL, nil), emu.Close, nil
	}
	cloud, err := o.SignIn.cloud()
	if err != nil {
		return nil, nil, err
	}
	tokens, err := o.SignIn.signIn(ctx, cloud, hc, std, log, t.Permission())
	if err != nil {
		return nil, nil, err
	}
	return graph.NewClient(hc, cloud.GraphRoot, tokens), func() {}, nil
}

// rates returns the ceilings on writes (--rate) and reads (--read-rate);
// without them, the documented limits of the target's service (writes,
// and any request less writes), or none against an emulator that does not
// throttle.
func (o *updateOptions) rates(t *graph.Target, log zerolog.Logger) (write, read batch.Rate, err error) {
	p := t.Profile()
	if o.Rate == "" && !o.NoThrottle && !p.Known {
		log.Warn().Str("target", t.Template).Stringer("rate", p.Write).Msgf("%s; set --rate to what the service allows", p.Source)
	}
	if write, err = parseRateFlag("--rate", o.Rate, p.Write, o.NoThrottle); err != nil {
		return write, read, err
	}
	read, err = parseRateFlag("--read-rate", o.ReadRate, p.ReadLimitBeside(graph.Limit(write)), o.NoThrottle)
	return write, read, err
}

// parseRateFlag parses a rate flag's value, or gives its default: def, or
// none with --emulator-no-throttle.
func parseRateFlag(flag, value string, def graph.Limit, none bool) (batch.Rate, error) {
	switch {
	case value == "" && none:
		return batch.Rate{}, nil
	case value == "":
		return batch.Rate(def), nil
	}
	r, err := batch.ParseRate(value)
	if err != nil {
		return batch.Rate{}, &usageError{fmt.Errorf("%s: %w", flag, err)}
	}
	return r, nil
}

// logLevels are the --log-level values: zerolog's others (fatal, panic,
// disabled, numbers) would hide the warnings a run must show.
var logLevels = []string{"trace", "debug", "info", "warn", "error"}

// logOptions are the logging flags shared by every command.
type logOptions struct {
	Format string
	Level  string
}

func (l *logOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&l.Format, "log-format", "auto", "log format: auto (console on a terminal, JSON otherwise), json or console")
	cmd.Flags().StringVar(&l.Level, "log-level", "info", "log level: "+strings.Join(logLevels, ", "))
}

// logger returns the zerolog logger the flags ask for, writing to w
// (stderr, or above a progress bar).
func (l *logOptions) logger(std streams, w io.Writer) (zerolog.Logger, error) {
	level, err := zerolog.ParseLevel(l.Level)
	if err != nil || !slices.Contains(logLevels, l.Level) {
		return zerolog.Logger{}, usagef("--log-level must be one of %s, not %q", strings.Join(logLevels, ", "), l.Level)
	}
	switch {
	case l.Format == "json", l.Format == "auto" && !std.ErrIsTerminal:
	case l.Format == "console", l.Format == "auto":
		w = zerolog.ConsoleWriter{Out: w, NoColor: !std.ErrIsTerminal, TimeFormat: time.TimeOnly}
	default:
		return zerolog.Logger{}, usagef("--log-format must be auto, json or console, not %q", l.Format)
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger(), nil
}
