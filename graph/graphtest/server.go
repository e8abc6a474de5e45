// Package graphtest is a Microsoft Graph emulator for tests and demos, in
// the manner of net/http/httptest. It serves any Graph entity from the
// same metadata graphbatch reads (a graph.Model per API version: all of
// v1.0 and the seed entities of beta, built in):
//
//   - POST /{v}/$batch, with Graph's envelope rules, answered in shuffled order;
//   - PATCH and GET on any entity path (entity sets, singletons,
//     navigation properties, contained or not, keys as single segments),
//     with Graph's validation of bodies and Graph's error shape;
//   - GET of a collection, with $filter, $select, $top and server-driven
//     paging through @odata.nextLink;
//   - GET /{v}/$metadata, the CSDL the model comes from;
//   - GET /_emulator/counters and GET /_emulator/store, what it has seen.
//
// Entities live in an in-memory store. An entity never written exists
// all the same, with default values, so that any sample can be sent to
// it; keys beginning with "missing-" name entities that do not exist.
//
// It throttles like Graph: each service (Intune device configuration,
// Intune devices, the directory, …) gets its documented limits (see
// LimitsOf), and a request over a limit answers 429 TooManyRequests with
// a Retry-After, inside a $batch that itself answers 200. Options can
// change the limits, refuse routes as Intune does, inject faults and
// latency, and make it a sign-in authority.
//
// It does not import testing, so programs can use it too: graphbatch
// emulate serves it.
package graphtest

import (
	"crypto/x509"
	"fmt"
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
// with each service's documented limits.
type Options struct {
	// Seed makes shuffling and fault injection repeatable; 0 picks one at random.
	Seed uint64
	// Models are the metadata served, per API version. v1.0 and beta
	// default to graph.BuiltinModel; other versions are served only if
	// given here.
	Models map[graph.Version]*graph.Model
	// CSDL is what GET /{v}/$metadata answers, per version; by default
	// graph.BuiltinCSDL, which describes the built-in models: set it
	// with Models when serving other metadata.
	CSDL map[graph.Version][]byte
	// Limits, when set, replace every service's limits: &NoLimits turns
	// throttling off. When nil, each service gets LimitsOf its
	// graph.Profile.
	Limits *Limits
	// PageSize is the most entities a page of a list holds; 0 means
	// DefaultPageSize. A smaller $top makes smaller pages.
	PageSize int
	// Refuse refuses routes as real Intune does for some tenants.
	Refuse Refusal
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
	// answered, GET answers every entity with default values and lists
	// are empty. For load tests of millions of rows, where a store would
	// cost the emulator more than the client it measures.
	Discard bool
}

// Server is a Graph emulator. Its methods are safe for concurrent use.
type Server struct {
	// URL is the Graph root of a listening server, e.g. http://127.0.0.1:41234,
	// with no version and no trailing slash. It is empty for New.
	URL string

	opts   Options
	http   *httptest.Server
	mux    *http.ServeMux
	auth   *authority
	models map[graph.Version]*model                 // read-only after New
	csdl   map[graph.Version]func() ([]byte, error) // read-only after New

	mu       sync.Mutex
	rng      *rand.Rand
	store    *store
	throttle *throttle
	counters Counters
}

// New returns an emulator that is not listening; serve its Handler. It
// panics if the built-in metadata cannot be read, which only a broken
// build can cause.
func New(opts Options) *Server {
	seed := opts.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	s := &Server{
		opts:     opts,
		models:   models(opts.Models),
		rng:      rand.New(rand.NewPCG(seed, seed>>1|1)),
		store:    newStore(),
		throttle: newThrottle(),
		counters: newCounters(),
		auth:     newAuthority(opts.Authority),
	}
	s.csdl = csdlDocs(opts, s.models)
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("POST /{version}/$batch", s.serveBatch)
	s.mux.HandleFunc("GET /{version}/$metadata", s.serveMetadata)
	s.mux.HandleFunc("/{version}/", s.serveDirect)
	s.mux.HandleFunc("GET /_emulator/counters", s.serveCounters)
	s.mux.HandleFunc("GET /_emulator/store", s.serveStore)
	if s.auth != nil {
		s.registerAuthority()
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, newRequestIDs(r), "BadRequest", segmentNotFound(firstSegment(r.URL.Path)))
	})
	return s
}

// models returns the models to serve: given, or built in.
func models(given map[graph.Version]*graph.Model) map[graph.Version]*model {
	out := make(map[graph.Version]*model)
	for _, v := range graph.Versions {
		m, err := graph.BuiltinModel(v)
		if err != nil {
			panic(fmt.Sprintf("graphtest: %v", err))
		}
		out[v] = newModel(v, m)
	}
	for v, m := range given {
		out[v] = newModel(v, m)
	}
	return out
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

func firstSegment(path string) string {
	path = strings.TrimPrefix(path, "/")
	if i := strings.IndexByte(path, '/'); i >= 0 {
		return path[:i]
	}
	return path
}
