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
