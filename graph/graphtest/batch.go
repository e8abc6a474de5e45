package graphtest

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/graphbatch/graphbatch/graph"
)

// requestIDs are the ids Graph puts in every answer.
type requestIDs struct {
	request, client string
}

func newRequestIDs(r *http.Request) requestIDs {
	return requestIDs{request: uuid.NewString(), client: r.Header.Get("client-request-id")}
}

// set puts the ids in the headers of an answer.
func (ids requestIDs) set(h http.Header) {
	h.Set("request-id", ids.request)
	if ids.client != "" {
		h.Set("client-request-id", ids.client)
	}
}

// segmentNotFound is Graph's message for a path it has nothing at.
func segmentNotFound(segment string) string {
	return "Resource not found for the segment '" + segment + "'."
}

// maxEnvelopeBytes is far more than 20 PATCH items need.
const maxEnvelopeBytes = 4 << 20

// serveBatch answers POST /{version}/$batch.
func (s *Server) serveBatch(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		s.countEnvelope(http.StatusUnauthorized)
		return
	}
	ids := newRequestIDs(r)
	v, ok := version(r)
	if !ok {
		s.countEnvelope(http.StatusNotFound)
		writeError(w, http.StatusNotFound, ids, "BadRequest", segmentNotFound(r.PathValue("version")))
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		s.countEnvelope(http.StatusUnsupportedMediaType)
		writeError(w, http.StatusUnsupportedMediaType, ids, "BadRequest", "A supported MIME type could not be found that matches the content type of the response.")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxEnvelopeBytes))
	if err != nil {
		return
	}
	reqs, status, msg := checkEnvelope(body)
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
	app := appOf(r)
	out := make([]graph.Response, len(reqs))
	for i, req := range reqs {
		a := s.item(v, app, req, ids)
		out[i] = graph.Response{ID: req.ID, Status: a.status, Headers: a.headers, Body: a.body}
	}
	if drop {
		panic(http.ErrAbortHandler)
	}
	if err := s.delay(r); err != nil {
		return // the client gave up; the items were applied all the same
	}
	s.shuffle(out)
	s.countEnvelope(http.StatusOK)
	answer, err := graph.Marshal(graph.BatchResponse{Responses: out})
	if err != nil {
		writeError(w, http.StatusInternalServerError, ids, "InternalServerError", err.Error())
		return
	}
	ids.set(w.Header())
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(answer)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(answer)
}

// item answers one request of an envelope from app.
func (s *Server) item(v graph.Version, app string, req graph.Request, ids requestIDs) answer {
	var a answer
	switch {
	case len(req.Body) > 0 && !hasContentType(req.Headers):
		a = errorAnswer(http.StatusBadRequest, ids, "BadRequest", "Content-Type header must be specified when a body is present.")
	default:
		a = s.apply(v, app, strings.ToUpper(req.Method), req.URL, req.Body, ids)
	}
	s.countItem(a.status)
	return a
}

// checkEnvelope applies Graph's rules for a $batch body and returns its
// requests, or the status and message that refuse the whole envelope.
func checkEnvelope(body []byte) ([]graph.Request, int, string) {
	env, err := graph.DecodeBatchRequest(body)
	if err != nil || len(env.Requests) == 0 {
		return nil, http.StatusBadRequest, "Invalid batch payload format."
	}
	if len(env.Requests) > graph.MaxBatchSize {
		return env.Requests, http.StatusBadRequest, "Number of requests inside batch exceeds the limit."
	}
	seen := make(map[string]bool, len(env.Requests))
	for _, req := range env.Requests {
		id := strings.ToLower(req.ID)
		switch {
		case id == "" || req.Method == "" || req.URL == "":
			return env.Requests, http.StatusBadRequest, "Invalid batch payload format."
		case seen[id]:
			return env.Requests, http.StatusBadRequest, "Request Id " + req.ID + " has to be unique in a batch."
		case strings.Contains(req.URL, "://"):
			return env.Requests, http.StatusBadRequest, "Invalid batch payload format."
		}
		seen[id] = true
	}
	return env.Requests, http.StatusOK, ""
}

func hasContentType(h map[string]string) bool {
	for k, v := range h {
		if strings.EqualFold(k, "Content-Type") && v != "" {
			return true
		}
	}
	return false
}

// serveEntity answers PATCH and GET sent straight to an entity path.
func (s *Server) serveEntity(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	ids := newRequestIDs(r)
	v, ok := version(r)
	if !ok {
		writeError(w, http.StatusNotFound, ids, "BadRequest", segmentNotFound(r.PathValue("version")))
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxEnvelopeBytes))
	rel := strings.TrimPrefix(r.URL.EscapedPath(), "/"+string(v))
	a := s.apply(v, appOf(r), r.Method, rel, body, ids)
	s.countItem(a.status)
	ids.set(w.Header())
	for k, val := range a.headers {
		w.Header().Set(k, val)
	}
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body)
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

func version(r *http.Request) (graph.Version, bool) {
	v, err := graph.ParseVersion(r.PathValue("version"))
	return v, err == nil
}

func (s *Server) shuffle(out []graph.Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
}

// errorAnswer is an item answer in Graph's error shape.
func errorAnswer(status int, ids requestIDs, code, message string) answer {
	return answer{
		status:  status,
		headers: map[string]string{"Content-Type": "application/json"},
		body:    errorBody(ids.request, ids.client, code, message),
	}
}

func errorBody(requestID, clientRequestID, code, message string) json.RawMessage {
	inner := map[string]string{"date": time.Now().UTC().Format("2006-01-02T15:04:05"), "request-id": requestID}
	if clientRequestID != "" {
		inner["client-request-id"] = clientRequestID
	}
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"code": code, "message": message, "innerError": inner}})
	return b
}

// writeError writes a whole-request error in Graph's shape.
func writeError(w http.ResponseWriter, status int, ids requestIDs, code, message string) {
	ids.set(w.Header())
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(errorBody(ids.request, ids.client, code, message))
}
