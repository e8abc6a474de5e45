package batch

import (
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/graphbatch/graphbatch/graph"
	"github.com/graphbatch/graphbatch/graph/graphtest"
)

// BenchmarkSkipUnchanged runs --skip-unchanged in real time against a
// listening emulator whose limits keep Intune's 10:1 ratio of requests to
// writes, scaled down by ten so that each case takes well under a minute:
// 50 writes and 500 requests of any kind per 2 s, instead of 100 and
// 1,000 per 20 s. The read ceiling is what graphbatch takes by default,
// the request limit less the writes' (graph.Profile.ReadLimit): 450 per
// 2 s, through NewReadPacer, as graphbatch update paces them. Run one case
// at a time, once:
//
//	go test -run NONE -bench 'SkipUnchanged/applied' -benchtime 1x ./batch
//
// GRAPHBATCH_BENCH_ROWS changes the number of rows (default 2,000). Cases:
//   - applied: every row already equals the store (a re-run): no writes,
//     and the run takes rows ÷ the read ceiling;
//   - 30%-changed: 30 % of the rows differ: writes = changed rows, and the
//     run takes the longer of rows ÷ the read ceiling and changed rows ÷
//     the write ceiling, about a third of writing every row;
//   - the same with -jitter: each envelope reaches the emulator up to
//     100 ms after the pacer let it go, as over a network. That is more
//     than the writes' windowSlack at these 2 s windows (40 ms; 400 ms at
//     Intune's 20 s): writes of one window then reach the emulator within
//     the last one's and are answered 429, and each 429 cuts the write
//     pacer for windows after (expect bound > 1.1 there). Reads, paced
//     with readSlack, must get no 429.
//
// It reports s/run, reads, writes, the 429s of each and the items sent
// again before their Retry-After ended, and bound: the wall time over that
// bound (at most 1.1 passes), and vs-write-all: how many times faster it is
// than writing every row at the write ceiling.
func BenchmarkSkipUnchanged(b *testing.B) {
	rows := 2000
	if s := os.Getenv("GRAPHBATCH_BENCH_ROWS"); s != "" {
		rows, _ = strconv.Atoi(s)
	}
	b.Run("applied", func(b *testing.B) { benchSkipUnchanged(b, rows, 0, 0) })
	b.Run("30%-changed", func(b *testing.B) { benchSkipUnchanged(b, rows, 0.3, 0) })
	// As over a network to Graph, each envelope reaches it up to 100 ms
	// after it was let go, at random.
	b.Run("applied-jitter", func(b *testing.B) { benchSkipUnchanged(b, rows, 0, 100*time.Millisecond) })
	b.Run("30%-changed-jitter", func(b *testing.B) { benchSkipUnchanged(b, rows, 0.3, 100*time.Millisecond) })
}

// jittery delays each request by up to max, at random, before sending it.
type jittery struct {
	http.RoundTripper
	max time.Duration
}

func (j jittery) RoundTrip(req *http.Request) (*http.Response, error) {
	time.Sleep(rand.N(j.max + 1))
	return j.RoundTripper.RoundTrip(req)
}

// Scaled Intune limits: 10 times the requests as writes, per 2 s.
var scaledIntune = graph.Profile{Write: graph.Limit{N: 50, Per: 2 * time.Second}, Any: graph.Limit{N: 500, Per: 2 * time.Second}}

func benchSkipUnchanged(b *testing.B, rows int, share float64, jitter time.Duration) {
	limits := graphtest.Limits{AppWrites: scaledIntune.Write.N, TenantWrites: 2 * scaledIntune.Write.N, AppRequests: scaledIntune.Any.N,
		Window: scaledIntune.Write.Per, RequestWindow: scaledIntune.Any.Per}
	write, read := Rate(scaledIntune.Write), Rate(scaledIntune.ReadLimit())
	changed := int(float64(rows) * share)
	for b.Loop() {
		emu := graphtest.NewServer(graphtest.Options{Limits: &limits})
		for i, r := range distinctRows(rows) {
			status := "compliant" // what the row wants
			if i%10 < int(share*10) {
				status = "nonCompliant"
			}
			if err := emu.Put(graph.V1, graphtest.DeviceStatusPath(r.Fields[0], r.Fields[1]), map[string]any{"status": status}); err != nil {
				b.Fatal(err)
			}
		}
		hc := &http.Client{Timeout: time.Minute}
		if jitter > 0 {
			hc.Transport = jittery{http.DefaultTransport, jitter}
		}
		client := graph.NewClient(hc, emu.URL, nil)
		cfg := Config{Target: deviceTarget, SkipUnchanged: true, Pacer: NewPacer(write), ReadPacer: NewReadPacer(read)}
		start := time.Now()
		sum, err := Run(b.Context(), &sliceReader{rows: distinctRows(rows)}, &memWriter{}, client, cfg)
		elapsed := time.Since(start)
		emu.Close()
		if err != nil {
			b.Fatal(err)
		}
		c := emu.Counters()
		if c.Patches != changed || sum.Updated != int64(changed) || sum.Unchanged != int64(rows-changed) {
			b.Errorf("%d PATCHes, %d updated, %d unchanged; want %d, %d, %d", c.Patches, sum.Updated, sum.Unchanged, changed, changed, rows-changed)
		}
		readTime := float64(rows) / float64(read.N) * read.Per.Seconds()
		writeTime := float64(changed) / float64(write.N) * write.Per.Seconds()
		b.ReportMetric(elapsed.Seconds(), "s/run")
		b.ReportMetric(float64(c.Reads), "reads")
		b.ReportMetric(float64(c.Patches), "writes")
		b.ReportMetric(float64(c.ThrottledReads), "read-429s")
		b.ReportMetric(float64(c.Throttled), "write-429s")
		b.ReportMetric(float64(c.EarlyReadRetries+c.EarlyRetries), "early-retries")
		b.ReportMetric(elapsed.Seconds()/max(readTime, writeTime), "bound")
		b.ReportMetric(float64(rows)/float64(write.N)*write.Per.Seconds()/elapsed.Seconds(), "vs-write-all")
	}
}
