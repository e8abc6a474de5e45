package batch

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"testing"

	"github.com/graphbatch/graphbatch/csvio"
	"github.com/graphbatch/graphbatch/graph"
	"github.com/graphbatch/graphbatch/graph/graphtest"
)

// generated returns a CSV of n valid rows for r on v1.0.
func generated(r *graph.Resource, n int) []byte {
	var b bytes.Buffer
	switch r.Name {
	case "device-statuses":
		b.WriteString("policyId,id,deviceDisplayName,deviceModel,userPrincipalName,status,lastReportedDateTime\n")
		for i := range n {
			fmt.Fprintf(&b, "6513270e-269e-4d37-b2a7-4de452e6b438,%08x-36f6-45cc-81e7-4ef5e8e25d94,CONTOSO-LT-%07d,Latitude 7440,user%d@contoso.com,compliant,2026-11-01T08:00:00Z\n", i, i, i)
		}
	case "user-statuses":
		b.WriteString("policyId,id,userDisplayName,userPrincipalName,devicesCount,status,lastReportedDateTime\n")
		for i := range n {
			fmt.Fprintf(&b, "6513270e-269e-4d37-b2a7-4de452e6b438,%08x-36f6-45cc-81e7-4ef5e8e25d94,User %d,user%d@contoso.com,%d,nonCompliant,2026-11-01T08:00:00.1234567+01:00\n", i, i, i, 1+i%4)
		}
	default:
		panic("no generator for " + r.Name)
	}
	return b.Bytes()
}

// perRow reports rows/s and allocations per row for rows processed per
// iteration, from the memory statistics before the loop.
func perRow(b *testing.B, rows int, before *runtime.MemStats) {
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	total := float64(rows) * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/total, "allocs/row")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/total, "ns/row")
}

func runCSV(b *testing.B, data []byte, schema *graph.Schema, send sender, cfg Config) {
	rd, err := csvio.NewReader(bytes.NewReader(data), csvio.Header{Columns: schema.Columns(), Required: []string{graph.PolicyIDColumn, graph.IDColumn}})
	if err != nil {
		b.Fatal(err)
	}
	rd.ReuseFields = true
	cfg.Schema = schema
	sum, err := Run(b.Context(), rd, csvio.NewWriter(io.Discard, []string{graph.PolicyIDColumn, graph.IDColumn}), send, cfg)
	if err != nil {
		b.Fatal(err)
	}
	if sum.Invalid+sum.Failed != 0 {
		b.Fatalf("%d invalid, %d failed", sum.Invalid, sum.Failed)
	}
}

// BenchmarkReadValidate measures reading, validating and recording rows,
// as a dry run does, per resource.
func BenchmarkReadValidate(b *testing.B) {
	const rows = 100_000
	for _, r := range graph.Resources {
		b.Run(r.Name, func(b *testing.B) {
			data, schema := generated(r, rows), graph.NewSchema(r, graph.V1)
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			for b.Loop() {
				runCSV(b, data, schema, nil, Config{DryRun: true})
			}
			perRow(b, rows, &before)
		})
	}
}

// BenchmarkPipeline measures the whole pipeline, real client and real
// sockets, against an emulator in the same process with no limits and no
// store: what graphbatch costs when Graph is not the bottleneck. Its
// allocations include the emulator's; samples/scale.sh measures the client
// alone, with the emulator in another process.
func BenchmarkPipeline(b *testing.B) {
	const rows = 100_000
	emu := graphtest.NewServer(graphtest.Options{Limits: &graphtest.NoLimits, Discard: true})
	defer emu.Close()
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost, t.WriteBufferSize, t.ReadBufferSize = DefaultConcurrency+1, 32<<10, 32<<10
	client := graph.NewClient(&http.Client{Transport: t}, emu.URL, nil)
	r := graph.Resources[0]
	data, schema := generated(r, rows), graph.NewSchema(r, graph.V1)
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	for b.Loop() {
		runCSV(b, data, schema, client, Config{})
	}
	perRow(b, rows, &before)
}
