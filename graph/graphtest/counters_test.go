package graphtest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"sync"
	"testing"

	"github.com/graphbatch/graphbatch/graph"
	"github.com/graphbatch/graphbatch/graph/graphtest"
)

// TestCounters checks each counter after each kind of request.
func TestCounters(t *testing.T) {
	t.Parallel()
	emu := graphtest.New(graphtest.Options{})
	h := emu.Handler()
	post := func(target, contentType, body string) {
		t.Helper()
		send(t, h, http.MethodPost, target, map[string]string{"Content-Type": contentType}, body)
	}
	steps := []struct {
		name string
		do   func()
		want graphtest.Counters
	}{
		{"nothing yet", func() {}, graphtest.Counters{
			EnvelopeStatuses: map[int]int{}, Statuses: map[int]int{},
		}},
		{"envelope with 2 PATCHes and a missing entity", func() {
			postBatch(t, h, graph.V1,
				patchItem("1", deviceStatus("p", "d1"), `{"status":"compliant"}`),
				patchItem("2", deviceStatus("p", "d2"), `{"status":"compliant"}`),
				patchItem("3", deviceStatus("p", "missing-d"), `{"status":"compliant"}`))
		}, graphtest.Counters{
			Envelopes: 1, Items: 3, Patches: 2,
			EnvelopeStatuses: map[int]int{200: 1}, Statuses: map[int]int{200: 2, 404: 1},
		}},
		{"envelope of 21", func() { post("/v1.0/$batch", jsonType, envelope(patchItems(21)...)) }, graphtest.Counters{
			Envelopes: 2, Items: 3, Patches: 2,
			EnvelopeStatuses: map[int]int{200: 1, 400: 1}, Statuses: map[int]int{200: 2, 404: 1},
		}},
		{"text/plain envelope", func() { post("/v1.0/$batch", "text/plain", envelope(patchItems(1)...)) }, graphtest.Counters{
			Envelopes: 3, Items: 3, Patches: 2,
			EnvelopeStatuses: map[int]int{200: 1, 400: 1, 415: 1}, Statuses: map[int]int{200: 2, 404: 1},
		}},
		{"unknown version", func() { post("/v2.0/$batch", jsonType, envelope(patchItems(1)...)) }, graphtest.Counters{
			Envelopes: 4, Items: 3, Patches: 2,
			EnvelopeStatuses: map[int]int{200: 1, 400: 1, 415: 1, 404: 1}, Statuses: map[int]int{200: 2, 404: 1},
		}},
		{"envelope with a GET and a bad PATCH", func() {
			postBatch(t, h, graph.V1,
				getItem("1", deviceStatus("p", "d1")),
				patchItem("2", deviceStatus("p", "d1"), `{"status":"Compliant"}`))
		}, graphtest.Counters{
			Envelopes: 5, Items: 5, Patches: 2, Reads: 1,
			EnvelopeStatuses: map[int]int{200: 2, 400: 1, 415: 1, 404: 1}, Statuses: map[int]int{200: 3, 400: 1, 404: 1},
		}},
		{"direct GET", func() { send(t, h, http.MethodGet, "/v1.0"+deviceStatus("p", "d2"), nil, "") }, graphtest.Counters{
			Envelopes: 5, Items: 6, Patches: 2, Reads: 2,
			EnvelopeStatuses: map[int]int{200: 2, 400: 1, 415: 1, 404: 1}, Statuses: map[int]int{200: 4, 400: 1, 404: 1},
		}},
		{"direct PATCH", func() {
			send(t, h, http.MethodPatch, "/v1.0"+deviceStatus("p", "d3"), map[string]string{"Content-Type": jsonType}, `{"userName":"x"}`)
		}, graphtest.Counters{
			Envelopes: 5, Items: 7, Patches: 3, Reads: 2,
			EnvelopeStatuses: map[int]int{200: 2, 400: 1, 415: 1, 404: 1}, Statuses: map[int]int{200: 5, 400: 1, 404: 1},
		}},
		{"envelope with a list, a virtual entity, a missing one and a user PATCH", func() {
			postBatch(t, h, graph.V1,
				getItem("1", "/deviceManagement/deviceCompliancePolicies/p/deviceStatuses"),
				getItem("2", "/users/never-written"),
				getItem("3", "/users/missing-u"),
				patchItem("4", "/users/u", `{"city":"Oslo"}`))
		}, graphtest.Counters{
			Envelopes: 6, Items: 11, Patches: 4, Reads: 4,
			EnvelopeStatuses: map[int]int{200: 3, 400: 1, 415: 1, 404: 1}, Statuses: map[int]int{200: 7, 204: 1, 400: 1, 404: 2},
		}},
	}
	for _, st := range steps {
		st.do()
		if got := emu.Counters(); !reflect.DeepEqual(got, st.want) {
			t.Errorf("after %s, Counters() = %+v, want %+v", st.name, got, st.want)
		}
	}

	// Counters returns a copy.
	c := emu.Counters()
	c.Statuses[200] = 1000
	c.EnvelopeStatuses[200] = 1000
	if got := emu.Counters(); got.Statuses[200] != 7 || got.EnvelopeStatuses[200] != 3 {
		t.Errorf("changing the maps of Counters() changed the emulator's counters: %+v", got)
	}
}

// TestConcurrentEnvelopes sends envelopes from 8 goroutines at once (run
// with -race) and checks that the counters and the store add up.
func TestConcurrentEnvelopes(t *testing.T) {
	t.Parallel()
	const (
		workers   = 8
		envelopes = 5 // per worker
	)
	// 800 writes in a second are far over Intune's limits; this test is
	// about locking and counting, not throttling.
	emu := graphtest.New(graphtest.Options{Limits: &graphtest.NoLimits})
	h := emu.Handler()
	var wg sync.WaitGroup
	for g := range workers {
		wg.Go(func() {
			for n := range envelopes {
				reqs := make([]graph.Request, graph.MaxBatchSize)
				for i := range reqs {
					body := fmt.Sprintf(`{"deviceModel":"worker %d","userName":"envelope %d"}`, g, n)
					reqs[i] = patchItem(strconv.Itoa(i), deviceStatus("p", "d"+strconv.Itoa(i)), body)
				}
				w := send(t, h, http.MethodPost, "/v1.0/$batch", map[string]string{"Content-Type": jsonType}, envelope(reqs...))
				if w.Code != http.StatusOK {
					t.Errorf("worker %d: POST /v1.0/$batch = %d, want %d", g, w.Code, http.StatusOK)
					continue
				}
				var br graph.BatchResponse
				if err := json.Unmarshal(w.Body.Bytes(), &br); err != nil {
					t.Errorf("worker %d: decoding answer: %v", g, err)
					continue
				}
				for _, r := range br.Responses {
					if r.Status != http.StatusOK {
						t.Errorf("worker %d: item %s = %d, want %d; body %s", g, r.ID, r.Status, http.StatusOK, r.Body)
					}
				}
				_ = emu.Counters()
				_ = emu.Entities()
			}
		})
	}
	wg.Wait()

	const items = workers * envelopes * graph.MaxBatchSize
	want := graphtest.Counters{
		Envelopes: workers * envelopes, Items: items, Patches: items,
		EnvelopeStatuses: map[int]int{200: workers * envelopes}, Statuses: map[int]int{200: items},
	}
	if got := emu.Counters(); !reflect.DeepEqual(got, want) {
		t.Errorf("Counters() = %+v, want %+v", got, want)
	}
	entities := emu.Entities()
	if len(entities) != graph.MaxBatchSize {
		t.Errorf("len(Entities()) = %d, want %d", len(entities), graph.MaxBatchSize)
	}
	for _, e := range entities {
		if e.Patches != workers*envelopes {
			t.Errorf("entity %s: Patches = %d, want %d", e.Path, e.Patches, workers*envelopes)
		}
	}
}
