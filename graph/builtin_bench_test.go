package graph

import (
	"bytes"
	"os"
	"testing"
)

// BenchmarkLoadV1 compares the two ways to load the v1.0 model: the
// embedded compact form, as BuiltinModel does on first use, and the CSDL
// it is generated from. Run with -benchtime 20x.
func BenchmarkLoadV1(b *testing.B) {
	csdl, err := os.ReadFile("metadata/v1.0-Prod.csdl.gz")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("compact", func(b *testing.B) {
		for b.Loop() {
			if _, err := readCompact(bytes.NewReader(v1Compact)); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(msPerOp(b), "ms/op")
		b.ReportMetric(float64(len(v1Compact)), "embedded-bytes")
	})
	b.Run("csdl", func(b *testing.B) {
		for b.Loop() {
			if _, err := readModel(bytes.NewReader(csdl)); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(msPerOp(b), "ms/op")
		b.ReportMetric(float64(len(csdl)), "gzipped-csdl-bytes")
	})
}

func msPerOp(b *testing.B) float64 {
	return b.Elapsed().Seconds() * 1000 / float64(b.N)
}

// BenchmarkBuiltinModel measures what a command does with the metadata
// before its first request: load the built-in v1.0 model (as BuiltinModel
// does once per process), resolve a target, and list its columns, which
// the input's header is checked against. Each step alone, then all three,
// as a process pays for them. Run with -benchtime 20x.
func BenchmarkBuiltinModel(b *testing.B) {
	const template = "/users/{id}"
	load := func(b *testing.B) *Model {
		m, err := loadBuiltin(v1Source, false, func() (*Model, error) { return readCompact(bytes.NewReader(v1Compact)) })
		if err != nil {
			b.Fatal(err)
		}
		return m
	}
	resolve := func(b *testing.B, m *Model) *Target {
		t, err := OpenTarget("users", m, V1)
		if err != nil || t.Template != template {
			b.Fatalf("OpenTarget(users) = %v, %v; want %s", t, err, template)
		}
		return t
	}
	b.Run("load", func(b *testing.B) {
		for b.Loop() {
			load(b)
		}
		b.ReportMetric(msPerOp(b), "ms/op")
	})
	m := load(b)
	b.Run("resolve", func(b *testing.B) {
		for b.Loop() {
			resolve(b, m)
		}
		b.ReportMetric(msPerOp(b), "ms/op")
	})
	t := resolve(b, m)
	b.Run("columns", func(b *testing.B) {
		var n int
		for b.Loop() {
			n = len(t.Columns())
		}
		b.ReportMetric(msPerOp(b), "ms/op")
		b.ReportMetric(float64(n), "columns")
	})
	b.Run("first-request", func(b *testing.B) {
		for b.Loop() {
			_ = resolve(b, load(b)).Columns()
		}
		b.ReportMetric(msPerOp(b), "ms/op")
	})
}
