package graphtest

import (
	"io"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/graphbatch/graphbatch/graph"
)

// maxRequestBytes is the largest request body the emulator reads: far
// more than 20 PATCH items need.
const maxRequestBytes = 4 << 20

// readBody reads a request body of at most maxRequestBytes; ok is false
// if it is longer, or cannot be read.
func readBody(r *http.Request) (body []byte, ok bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes+1))
	return body, err == nil && len(body) <= maxRequestBytes
}

// serveBatch answers POST /{version}/$batch.
func (s *Server) serveBatch(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		s.countEnvelope(http.StatusUnauthorized)
		return
	}
	ids := newRequestIDs(r)
	status, reqs, msg := s.checkRequest(r)
	if status != http.StatusOK {
		s.countEnvelope(status)
		writeError(w, status, ids, "BadRequest", msg)
		return
	}
	if status, retryAfter, ok := s.envelopeFault(); ok {
		s.countEnvelope(status)
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
		writeError(w, status, ids, http.StatusText(status), "The service is busy. Retry after the time in the Retry-After header.")
		return
	}
	drop, applyFirst := s.drop()
	if drop && !applyFirst {
		panic(http.ErrAbortHandler) // the server closes the connection without an answer
	}
	v, root, app := graph.Version(r.PathValue("version")), baseURL(r), appOf(r)
	out := make([]graph.Response, len(reqs))
	for i, req := range reqs {
		c := &call{v: v, root: root, app: app, method: strings.ToUpper(req.Method), url: req.URL, body: req.Body, ids: ids}
		a := s.item(c, req)
		out[i] = graph.Response{ID: req.ID, Status: a.status, Headers: a.headers, Body: a.body}
	}
	if drop {
		panic(http.ErrAbortHandler)
	}
	if err := s.delay(r); err != nil {
		return // the client gave up; the items were applied all the same
	}
	s.shuffle(out)
	s.writeBatch(w, ids, out)
}

// checkRequest checks the version, the media type and the envelope of a
// $batch request, and returns its items, or the status and message that
// refuse it.
func (s *Server) checkRequest(r *http.Request) (int, []graph.Request, string) {
	if v := r.PathValue("version"); s.models[graph.Version(v)] == nil {
		return http.StatusNotFound, nil, segmentNotFound(v)
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return http.StatusUnsupportedMediaType, nil, "A supported MIME type could not be found that matches the content type of the response."
	}
	body, ok := readBody(r)
	if !ok {
		return http.StatusRequestEntityTooLarge, nil, "The request is larger than the 4 MiB the emulator reads."
	}
	return checkEnvelope(body)
}

// writeBatch writes a $batch answer.
func (s *Server) writeBatch(w http.ResponseWriter, ids requestIDs, out []graph.Response) {
	answer := appendBatchAnswer(nil, out)
	s.countEnvelope(http.StatusOK)
	ids.set(w.Header())
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(answer)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(answer)
}

// appendBatchAnswer appends the JSON of a $batch answer, as graph.Marshal
// of a graph.BatchResponse would, without its reflection and without
// checking again the bodies the emulator wrote itself.
func appendBatchAnswer(dst []byte, out []graph.Response) []byte {
	dst = append(dst, `{"responses":[`...)
	for i, r := range out {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(append(dst, `{"id":`...), r.ID)
		dst = strconv.AppendInt(append(dst, `,"status":`...), int64(r.Status), 10)
		if len(r.Headers) > 0 {
			dst = append(dst, `,"headers":{`...)
			for j, k := range slices.Sorted(maps.Keys(r.Headers)) {
				if j > 0 {
					dst = append(dst, ',')
				}
				dst = appendString(append(appendString(dst, k), ':'), r.Headers[k])
			}
			dst = append(dst, '}')
		}
		if len(r.Body) > 0 {
			dst = append(append(dst, `,"body":`...), r.Body...)
		}
		dst = append(dst, '}')
	}
	return append(dst, "]}"...)
}

// item answers one request of an envelope.
func (s *Server) item(c *call, req graph.Request) answer {
	var a answer
	if len(req.Body) > 0 && !hasContentType(req.Headers) {
		a = errorAnswer(http.StatusBadRequest, c.ids, "BadRequest", "Content-Type header must be specified when a body is present.")
	} else {
		a = s.serve(c)
	}
	s.countItem(a.status)
	return a
}

// checkEnvelope applies Graph's rules for a $batch body and returns its
// requests, or the status and message that refuse the whole envelope.
func checkEnvelope(body []byte) (int, []graph.Request, string) {
	env, err := graph.DecodeBatchRequest(body)
	if err != nil || len(env.Requests) == 0 {
		return http.StatusBadRequest, nil, "Invalid batch payload format."
	}
	if len(env.Requests) > graph.MaxBatchSize {
		return http.StatusBadRequest, nil, "Number of requests inside batch exceeds the limit."
	}
	seen := make(map[string]bool, len(env.Requests))
	for _, req := range env.Requests {
		id := strings.ToLower(req.ID)
		switch {
		case id == "" || req.Method == "" || req.URL == "":
			return http.StatusBadRequest, nil, "Invalid batch payload format."
		case seen[id]:
			return http.StatusBadRequest, nil, "Request Id " + req.ID + " has to be unique in a batch."
		case strings.Contains(req.URL, "://"):
			return http.StatusBadRequest, nil, "Invalid batch payload format."
		}
		seen[id] = true
	}
	return http.StatusOK, env.Requests, ""
}

// serveDirect answers a request sent straight to a path under a version
// root, outside $batch.
func (s *Server) serveDirect(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	ids := newRequestIDs(r)
	v := graph.Version(r.PathValue("version"))
	var a answer
	if body, ok := readBody(r); !ok {
		a = errorAnswer(http.StatusRequestEntityTooLarge, ids, "BadRequest", "The request is larger than the 4 MiB the emulator reads.")
	} else {
		rel := strings.TrimPrefix(r.URL.EscapedPath(), "/"+string(v))
		if r.URL.RawQuery != "" {
			rel += "?" + r.URL.RawQuery
		}
		a = s.serve(&call{v: v, root: baseURL(r), app: appOf(r), method: r.Method, url: rel, body: body, ids: ids})
	}
	s.countItem(a.status)
	writeAnswer(w, ids, a)
}

// delay waits out the configured latency, or until the client gives up.
func (s *Server) delay(r *http.Request) error {
	if s.opts.Latency <= 0 {
		return nil
	}
	t := time.NewTimer(s.opts.Latency)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-r.Context().Done():
		return r.Context().Err()
	}
}

func (s *Server) shuffle(out []graph.Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
}
