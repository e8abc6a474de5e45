// Command genmodel turns Graph's CSDL into the gzipped compact model that
// package graph embeds (graph.Model.MarshalBinary). It runs from
// `go generate ./graph`; since it imports package graph, the file it
// writes must already exist (any content) for it to build.
package main

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"os"

	"github.com/graphbatch/graphbatch/graph"
)

func main() {
	in := flag.String("in", "", "the CSDL file, plain or gzipped")
	out := flag.String("out", "", "where to write the gzipped compact model")
	flag.Parse()
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "genmodel:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	if in == "" || out == "" {
		return fmt.Errorf("usage: genmodel -in CSDL -out FILE")
	}
	m, err := graph.LoadModel(in)
	if err != nil {
		return err
	}
	data, err := m.MarshalBinary()
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return err
	}
	if _, err := zw.Write(data); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(out, buf.Bytes(), 0o644)
}
