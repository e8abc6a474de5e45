package graphtest

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
)

// Transport returns a RoundTripper that serves every request in process
// with s's handler, whatever its URL's host: no socket is opened, so a test
// can use it inside a testing/synctest bubble. A dropped connection is an
// io.ErrUnexpectedEOF error; a request whose context ends before its answer
// gets the context's error, as over a network.
func (s *Server) Transport() http.RoundTripper { return handlerTransport{s} }

type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (resp *http.Response, err error) {
	if req.Body != nil {
		defer req.Body.Close()
	}
	defer func() {
		if v := recover(); v != nil {
			if v != http.ErrAbortHandler {
				panic(v)
			}
			resp, err = nil, io.ErrUnexpectedEOF
		}
	}()
	sreq := req.Clone(req.Context())
	sreq.RequestURI = req.URL.RequestURI()
	sreq.RemoteAddr = "192.0.2.1:49152"
	if req.URL.Scheme == "https" { // as if it came over TLS, for URLs the handler builds
		sreq.TLS = &tls.ConnectionState{HandshakeComplete: true}
	}
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, sreq)
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	return rec.Result(), nil
}
