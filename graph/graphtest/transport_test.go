package graphtest_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/graphbatch/graphbatch/graph/graphtest"
)

// closeRecorder is a request body that records whether it was closed.
type closeRecorder struct {
	io.Reader
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

// TestTransportClosesRequestBody: as http.RoundTripper requires, Transport
// closes the request's body, on an answer and on a dropped connection.
func TestTransportClosesRequestBody(t *testing.T) {
	t.Parallel()
	for _, drop := range []float64{0, 1} {
		emu := graphtest.New(graphtest.Options{Faults: graphtest.Faults{DropRate: drop}})
		body := &closeRecorder{Reader: strings.NewReader(envelope(patchItems(1)...))}
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://graph.test/v1.0/$batch", body)
		req.Header.Set("Content-Type", jsonType)
		resp, err := emu.Transport().RoundTrip(req)
		if err == nil {
			resp.Body.Close()
		}
		if !body.closed {
			t.Errorf("DropRate %v: RoundTrip = %v; the request body was left open", drop, err)
		}
	}
}
