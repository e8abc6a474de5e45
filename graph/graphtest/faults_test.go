package graphtest_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/graphbatch/graphbatch/graph"
	"github.com/graphbatch/graphbatch/graph/graphtest"
)

// TestItemFaults checks that injected item faults answer 5xx to reads and
// writes alike, apply nothing, and are counted.
func TestItemFaults(t *testing.T) {
	t.Parallel()
	emu := graphtest.New(graphtest.Options{Faults: graphtest.Faults{ItemRate: 1}, Seed: 3})
	resps := postBatch(t, emu.Handler(), graph.V1, patchItem("1", "/users/u", `{"city":"Oslo"}`), getItem("2", "/users/u"), getItem("3", "/users"))
	for _, r := range resps {
		if r.Status < 500 {
			t.Errorf("item %s = %d, want a 5xx; body %s", r.ID, r.Status, r.Body)
		}
	}
	if c := emu.Counters(); c.ItemFaults != 3 || c.Patches != 0 || c.Reads != 0 || len(emu.Entities()) != 0 {
		t.Errorf("Counters = %+v, entities %v; want 3 item faults and nothing applied", c, emu.Entities())
	}
}

// TestEnvelopeFaultsAndDrops checks injected envelope answers and dropped
// connections, through Transport.
func TestEnvelopeFaultsAndDrops(t *testing.T) {
	t.Parallel()
	post := func(emu *graphtest.Server) (*http.Response, error) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://graph.test/v1.0/$batch", strings.NewReader(envelope(patchItems(2)...)))
		req.Header.Set("Content-Type", jsonType)
		return (&http.Client{Transport: emu.Transport()}).Do(req)
	}
	emu := graphtest.New(graphtest.Options{Faults: graphtest.Faults{EnvelopeRate: 1}})
	resp, err := post(emu)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("POST $batch with EnvelopeRate 1 = %d, Retry-After %q; want 429 or 503 with a Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	checkError(t, "envelope fault", body, http.StatusText(resp.StatusCode), "Retry-After", "")
	if c := emu.Counters(); c.EnvelopeFaults != 1 || c.Items != 0 {
		t.Errorf("Counters = %+v, want 1 envelope fault and no items", c)
	}

	emu = graphtest.New(graphtest.Options{Faults: graphtest.Faults{DropRate: 1}})
	for range 10 {
		if _, err := post(emu); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("POST $batch with DropRate 1: %v, want io.ErrUnexpectedEOF", err)
		}
	}
	if c := emu.Counters(); c.Dropped != 10 || c.Patches > 20 || c.Envelopes != 0 {
		t.Errorf("Counters = %+v, want 10 dropped, at most 20 patches applied, no envelope answered", c)
	}
}

// TestLatency checks that Latency delays an answer after its items were
// applied, and that a client that gives up meanwhile gets no answer.
func TestLatency(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		emu := graphtest.New(graphtest.Options{Latency: time.Minute})
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://graph.test/v1.0/$batch", strings.NewReader(envelope(patchItems(1)...)))
		req.Header.Set("Content-Type", jsonType)
		start := time.Now()
		resp, err := (&http.Client{Transport: emu.Transport()}).Do(req)
		if err == nil && resp.StatusCode == http.StatusOK {
			t.Errorf("POST $batch with a minute of latency and a second of patience = 200, want no answer")
		}
		if time.Since(start) > 2*time.Second {
			t.Errorf("the request took %v, want about a second", time.Since(start))
		}
		if c := emu.Counters(); c.Patches != 1 {
			t.Errorf("Patches = %d, want 1: the items are applied before the delay", c.Patches)
		}
	})
}

// TestDiscard checks that Options.Discard validates and counts PATCHes
// but keeps nothing.
func TestDiscard(t *testing.T) {
	t.Parallel()
	emu := graphtest.New(graphtest.Options{Discard: true})
	h := emu.Handler()
	r := postOne(t, h, graph.V1, patchItem("1", deviceStatus("p", "d"), `{"status":"compliant"}`))
	if got := decodeObject(t, "PATCH", r.Body); r.Status != http.StatusOK || got["status"] != "compliant" || got["id"] != "d" {
		t.Errorf("PATCH with Discard = %d %v, want 200 with the entity as patched", r.Status, got)
	}
	if r := postOne(t, h, graph.V1, patchItem("1", deviceStatus("p", "d"), `{"status":"Compliant"}`)); r.Status != http.StatusBadRequest {
		t.Errorf("a bad PATCH with Discard = %d, want 400", r.Status)
	}
	if got := decodeObject(t, "GET", postOne(t, h, graph.V1, getItem("1", deviceStatus("p", "d"))).Body); got["status"] != "unknown" {
		t.Errorf("GET with Discard = %v, want the default status", got)
	}
	if ids, _ := listAll(t, h, "/deviceManagement/deviceCompliancePolicies/p/deviceStatuses"); len(ids) != 0 {
		t.Errorf("list with Discard = %v, want nothing", ids)
	}
	if c := emu.Counters(); c.Patches != 1 || len(emu.Entities()) != 0 {
		t.Errorf("Patches = %d, entities %v; want 1 and none", c.Patches, emu.Entities())
	}
}
