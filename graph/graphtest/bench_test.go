package graphtest_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/graphbatch/graphbatch/graph"
	"github.com/graphbatch/graphbatch/graph/graphtest"
)

// BenchmarkBatch measures the emulator's cost per item of full envelopes
// of device-status PATCHes, as graphbatch's load tests send them.
func BenchmarkBatch(b *testing.B) {
	for _, discard := range []bool{true, false} {
		b.Run("discard="+strconv.FormatBool(discard), func(b *testing.B) {
			emu := graphtest.New(graphtest.Options{Limits: &graphtest.NoLimits, Discard: discard})
			bodies := make([][]byte, 1000) // 20,000 entities
			for n := range bodies {
				reqs := make([]graph.Request, graph.MaxBatchSize)
				for i := range reqs {
					reqs[i] = patchItem(strconv.Itoa(i), deviceStatus("p", strconv.Itoa(n*graph.MaxBatchSize+i)),
						`{"status":"compliant","lastReportedDateTime":"2024-01-31T09:30:00Z","deviceDisplayName":"Laptop"}`)
				}
				bodies[n] = []byte(envelope(reqs...))
			}
			b.ReportAllocs()
			for n := 0; b.Loop(); n++ {
				req := httptest.NewRequest(http.MethodPost, "/v1.0/$batch", bytes.NewReader(bodies[n%len(bodies)]))
				req.Header.Set("Content-Type", jsonType)
				w := httptest.NewRecorder()
				emu.Handler().ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("POST $batch = %d", w.Code)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*graph.MaxBatchSize)/1e3, "µs/item")
		})
	}
}
