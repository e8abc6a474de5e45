package graphtest

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/google/uuid"
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

// errorAnswer is an item answer in Graph's error shape.
func errorAnswer(status int, ids requestIDs, code, message string) answer {
	return answer{
		status:  status,
		headers: map[string]string{"Content-Type": "application/json"},
		body:    errorBody(ids.request, ids.client, code, message),
	}
}

// errorBody is Graph's error shape:
// {"error":{"code","message","innerError":{"date","request-id"[,"client-request-id"]}}}.
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
	writeAnswer(w, ids, errorAnswer(status, ids, code, message))
}

// writeAnswer writes an answer as the whole reply to a request.
func writeAnswer(w http.ResponseWriter, ids requestIDs, a answer) {
	ids.set(w.Header())
	for k, v := range a.headers {
		w.Header().Set(k, v)
	}
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
