package batch

import (
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/graphbatch/graphbatch/graph"
	"github.com/graphbatch/graphbatch/graph/graphtest"
)

// The pacing benchmarks run in real time against a listening emulator:
// 2,000 rows at Intune's limit take about 6.5 minutes, so run one at a time,
// once:
//
//	go test -run NONE -bench 'Pacing/alone' -benchtime 1x ./batch
//
// GRAPHBATCH_BENCH_ROWS changes the number of rows. They report:
//   - goodput: rows updated per second after the first window's burst,
//     divided by the emulator's per-app limit per second (1 is perfect);
//   - throttled/send: the share of item sends answered 429;
//   - early-retries: items sent again before their Retry-After ended;
//   - updated/row: 1 when every row ended updated.
func BenchmarkPacing(b *testing.B) {
	rows := 2000
	if s := os.Getenv("GRAPHBATCH_BENCH_ROWS"); s != "" {
		rows, _ = strconv.Atoi(s)
	}
	window := 20 * time.Second
	b.Run("alone", func(b *testing.B) {
		benchPacing(b, rows, graphtest.Options{Limits: &graphtest.IntuneLimits}, NewPacer(Rate{100, window}), 100)
	})
	b.Run("shared-tenant", func(b *testing.B) {
		// Another app takes half the tenant's budget: the emulator admits 50
		// of our writes per window, the pacer starts at 100.
		limits := graphtest.Limits{AppWrites: 50, TenantWrites: 200, Window: window}
		benchPacing(b, rows, graphtest.Options{Limits: &limits}, NewPacer(Rate{100, window}), 50)
	})
	b.Run("faults", func(b *testing.B) {
		faults := graphtest.Faults{ItemRate: 0.05, EnvelopeRate: 0.05, DropRate: 0.02}
		benchPacing(b, rows, graphtest.Options{Limits: &graphtest.NoLimits, Faults: faults}, NewPacer(Rate{}), 0)
	})
}

func benchPacing(b *testing.B, rows int, opts graphtest.Options, pacer *Pacer, limit int) {
	for b.Loop() {
		emu := graphtest.NewServer(opts)
		client := graph.NewClient(&http.Client{Timeout: time.Minute}, emu.URL, nil)
		w := &memWriter{}
		start := time.Now()
		sum, err := Run(b.Context(), &sliceReader{rows: distinctRows(rows)}, w, client, Config{Target: deviceTarget, Pacer: pacer})
		elapsed := time.Since(start)
		emu.Close()
		if err != nil {
			b.Fatal(err)
		}
		c := emu.Counters()
		if limit > 0 {
			b.ReportMetric(float64(int(sum.Updated)-limit)/elapsed.Seconds()/(float64(limit)/20), "goodput")
		}
		b.ReportMetric(float64(c.Throttled)/float64(sum.Sends), "throttled/send")
		b.ReportMetric(float64(c.EarlyRetries), "early-retries")
		b.ReportMetric(float64(sum.Updated)/float64(rows), "updated/row")
		b.ReportMetric(float64(sum.Sends)/float64(rows), "sends/row")
		b.ReportMetric(elapsed.Seconds(), "s/run")
	}
}
