// Package graphtest is a Microsoft Graph emulator for tests and demos, in
// the manner of net/http/httptest. It serves the part of Graph graphbatch
// uses — POST /{v1.0|beta}/$batch, and PATCH and GET on the entity paths of
// every graph.Resource — with Graph's validation and error shape, answers
// in shuffled order, an in-memory store and counters readable from Go and
// over HTTP (GET /_emulator/counters, GET /_emulator/store).
//
// By default it throttles like Intune (see IntuneLimits): a write over the
// limit answers 429 TooManyRequests with a Retry-After inside a $batch that
// itself answers 200. Options can also inject faults and latency.
//
// It does not import testing, so programs can use it too: graphbatch
// emulate serves it.
package graphtest

import (
	"crypto/x509"
	"encoding/json"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/graphbatch/graphbatch/graph"
)

// Options configure an emulator. The zero value is a well-behaved Graph
// with Intune's write limits.
type Options struct {
	// Seed makes shuffling and fault injection repeatable; 0 picks one at random.
	Seed uint64
	// Limits are the write limits; nil means IntuneLimits, &NoLimits none.
	Limits *Limits
	// Faults are failures to inject; the zero value injects none.
	Faults Faults
	// Latency delays every $batch answer, after its items were applied, as
	// a slow network would: a client that gives up meanwhile has changed
	// Graph without knowing it.
	Latency time.Duration
	// Authority, when set, makes the emulator a token endpoint and makes
	// its Graph require the tokens it issues (see Authority).
	Authority *Authority
	// TLS serves https, with a certificate for 127.0.0.1 that Client and
	// Certificate give; MSAL needs an https authority.
	TLS bool
	// Discard keeps no entities: PATCHes are validated, counted and
	// answered with the properties they set, and GET finds nothing. For
	// load tests of millions of rows, where a store would cost the
	// emulator more than the client it measures.
	Discard bool
}

// Server is a Graph emulator. Its methods are safe for concurrent use.
type Server struct {
	// URL is the Graph root of a listening server, e.g. http://127.0.0.1:41234,
	// with no version and no trailing slash. It is empty for New.
	URL string

	opts Options
	http *httptest.Server
	mux  *http.ServeMux
	auth *authority

	mu         sync.Mutex
	rng        *rand.Rand
	store      map[entityKey]*entity
	throttle   *throttle
	counters   Counters
	properties map[schemaKey]map[string]graph.Property // read-only after New
}

// New returns an emulator that is not listening; serve its Handler.
func New(opts Options) *Server {
	seed := opts.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	limits := IntuneLimits
	if opts.Limits != nil {
		limits = *opts.Limits
	}
	s := &Server{
		opts:       opts,
		rng:        rand.New(rand.NewPCG(seed, seed>>1|1)),
		store:      make(map[entityKey]*entity),
		throttle:   newThrottle(limits),
		counters:   newCounters(),
		auth:       newAuthority(opts.Authority),
		properties: propertyTables(),
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("POST /{version}/$batch", s.serveBatch)
	s.mux.HandleFunc("PATCH /{version}/", s.serveEntity)
	s.mux.HandleFunc("GET /{version}/", s.serveEntity)
	s.mux.HandleFunc("GET /_emulator/counters", s.serveCounters)
	s.mux.HandleFunc("GET /_emulator/store", s.serveStore)
	if s.auth != nil {
		s.registerAuthority()
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		ids := newRequestIDs(r)
		writeError(w, http.StatusNotFound, ids, "BadRequest", segmentNotFound(firstSegment(r.URL.Path)))
	})
	return s
}

// NewServer starts an emulator listening on a free loopback port.
// The caller should call Close when finished.
func NewServer(opts Options) *Server {
	s, err := Listen("127.0.0.1:0", opts)
	if err != nil {
		panic("graphtest: " + err.Error())
	}
	return s
}

// Listen starts an emulator listening on addr, such as 127.0.0.1:8080.
func Listen(addr string, opts Options) (*Server, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := New(opts)
	s.http = httptest.NewUnstartedServer(s)
	s.http.Listener.Close()
	s.http.Listener = l
	if opts.TLS {
		s.http.StartTLS()
	} else {
		s.http.Start()
	}
	s.URL = s.http.URL
	return s, nil
}

// Client returns an HTTP client for a listening server that trusts its
// TLS certificate.
func (s *Server) Client() *http.Client { return s.http.Client() }

// Certificate returns the TLS certificate of a server started with
// Options.TLS, or nil.
func (s *Server) Certificate() *x509.Certificate { return s.http.Certificate() }

// ServeHTTP serves the emulated Graph.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

// Handler returns the emulator as an http.Handler, for in-process use.
func (s *Server) Handler() http.Handler { return s }

// Close stops a listening server, dropping open connections.
func (s *Server) Close() {
	if s.http != nil {
		s.http.CloseClientConnections()
		s.http.Close()
	}
}

func (s *Server) serveCounters(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Counters())
}

func (s *Server) serveStore(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Entities())
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func firstSegment(path string) string {
	path = strings.TrimPrefix(path, "/")
	if i := strings.IndexByte(path, '/'); i >= 0 {
		return path[:i]
	}
	return path
}
