package graph

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// The built-in v1.0 model is generated from Graph's official CSDL
// (metadata/v1.0-Prod.csdl.gz) into the compact form of MarshalBinary.
// Run `go generate ./graph` after replacing the CSDL.
//go:generate go run ./internal/genmodel -in metadata/v1.0-Prod.csdl.gz -out metadata/v1.0.model.gz

// v1Compact is the generated compact form of the v1.0 model, gzipped.
//
//go:embed metadata/v1.0.model.gz
var v1Compact []byte

// v1CSDL is Graph's official v1.0 CSDL, gzipped, as GET /v1.0/$metadata
// answers it; only BuiltinCSDL reads it.
//
//go:embed metadata/v1.0-Prod.csdl.gz
var v1CSDL []byte

// betaSeed is a hand-written CSDL fragment of beta: the two seed entities
// and the path to them.
//
//go:embed metadata/beta-seed.xml
var betaSeed []byte

// The sources of the built-in models, as Model.Source reports them.
const (
	v1Source   = "built-in v1.0 metadata (msgraph-metadata f54f11b, 2026-08-20)"
	betaSource = "built-in beta metadata (the seed entities only)"
)

var builtinModels = map[Version]func() (*Model, error){
	V1: sync.OnceValues(func() (*Model, error) {
		return loadBuiltin(v1Source, false, func() (*Model, error) { return readCompact(bytes.NewReader(v1Compact)) })
	}),
	Beta: sync.OnceValues(func() (*Model, error) {
		return loadBuiltin(betaSource, true, func() (*Model, error) { return ParseCSDL(bytes.NewReader(betaSeed)) })
	}),
}

// BuiltinModel returns the metadata built into graphbatch for API version
// v: all of v1.0, and only the seed entities of beta (its Model is
// Partial). It is loaded on first use and shared afterwards; callers must
// not change it.
func BuiltinModel(v Version) (*Model, error) {
	load := builtinModels[v]
	if load == nil {
		return nil, fmt.Errorf("no built-in metadata for API version %q", v)
	}
	return load()
}

// BuiltinCSDL returns the CSDL document the built-in model of API version
// v comes from, as Graph's GET /{v}/$metadata answers it: for v1.0 the
// official document (3.4 MB of XML), for beta the hand-written seed
// fragment. Each call returns a new copy, which the caller may keep.
func BuiltinCSDL(v Version) ([]byte, error) {
	switch v {
	case V1:
		zr, err := gzip.NewReader(bytes.NewReader(v1CSDL))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", v1Source, err)
		}
		return io.ReadAll(zr)
	case Beta:
		return bytes.Clone(betaSeed), nil
	}
	return nil, fmt.Errorf("no built-in metadata for API version %q", v)
}

func loadBuiltin(source string, partial bool, load func() (*Model, error)) (*Model, error) {
	m, err := load()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	m.Source, m.Partial = source, partial
	return m, nil
}

// LoadModel reads the metadata in the file at path: a CSDL document such
// as a saved $metadata (UTF-8, or UTF-16 with a byte order mark), or the
// compact form of MarshalBinary; either may be gzipped.
func LoadModel(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := readModel(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m.Source = path
	return m, nil
}

// readModel reads a CSDL document (UTF-8, or UTF-16 with a byte order
// mark) or a compact model, plain or gzipped.
func readModel(r io.Reader) (*Model, error) {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, err
		}
		br = bufio.NewReader(zr)
	}
	if bom, _ := br.Peek(2); bytes.Equal(bom, []byte{0xff, 0xfe}) || bytes.Equal(bom, []byte{0xfe, 0xff}) {
		// UTF-16, as Windows PowerShell 5.1 writes text with ">".
		dec := unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()
		br = bufio.NewReader(transform.NewReader(br, dec))
	}
	if magic, _ := br.Peek(len(compactMagic)); isCompact(magic) {
		data, err := io.ReadAll(br)
		if err != nil {
			return nil, err
		}
		return decodeModel(data)
	}
	return ParseCSDL(br)
}

// readCompact reads a gzipped compact model.
func readCompact(r io.Reader) (*Model, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		return nil, err
	}
	return decodeModel(data)
}
