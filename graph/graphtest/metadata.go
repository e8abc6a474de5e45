package graphtest

import (
	"net/http"
	"strconv"
	"sync"

	"github.com/graphbatch/graphbatch/graph"
)

// csdlDocs returns, per served version, a function that gives the CSDL
// document GET /{v}/$metadata answers: Options.CSDL's, else the built-in
// one, decompressed once on first use.
func csdlDocs(opts Options, models map[graph.Version]*model) map[graph.Version]func() ([]byte, error) {
	docs := make(map[graph.Version]func() ([]byte, error))
	for v := range models {
		if doc, ok := opts.CSDL[v]; ok {
			docs[v] = func() ([]byte, error) { return doc, nil }
		} else {
			docs[v] = sync.OnceValues(func() ([]byte, error) { return graph.BuiltinCSDL(v) })
		}
	}
	return docs
}

// serveMetadata answers GET /{version}/$metadata with the version's CSDL.
// Like Graph, it needs no token.
func (s *Server) serveMetadata(w http.ResponseWriter, r *http.Request) {
	ids := newRequestIDs(r)
	v := graph.Version(r.PathValue("version"))
	doc := s.csdl[v]
	if doc == nil {
		writeError(w, http.StatusNotFound, ids, "BadRequest", segmentNotFound(string(v)))
		return
	}
	xml, err := doc()
	if err != nil {
		writeError(w, http.StatusInternalServerError, ids, "InternalServerError", err.Error())
		return
	}
	ids.set(w.Header())
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(xml)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(xml)
}
