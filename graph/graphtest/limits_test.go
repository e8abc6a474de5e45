package graphtest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/graphbatch/graphbatch/graph"
	"github.com/graphbatch/graphbatch/graph/graphtest"
)

// sendAs sends reqs in envelopes of 20 as app, and returns how many items
// were answered 429 and the largest Retry-After among them.
func sendAs(t *testing.T, h http.Handler, app string, reqs []graph.Request) (throttled int, retryAfter time.Duration) {
	t.Helper()
	for len(reqs) > 0 {
		n := min(len(reqs), graph.MaxBatchSize)
		w := send(t, h, http.MethodPost, "/v1.0/$batch", map[string]string{"Content-Type": jsonType, "Authorization": "Bearer " + app}, envelope(reqs[:n]...))
		var br graph.BatchResponse
		if err := json.Unmarshal(w.Body.Bytes(), &br); w.Code != http.StatusOK || err != nil {
			t.Fatalf("POST /v1.0/$batch = %d; body %s", w.Code, w.Body)
		}
		for _, r := range br.Responses {
			switch {
			case r.Status == http.StatusTooManyRequests:
				throttled++
				secs, err := strconv.Atoi(r.Header("Retry-After"))
				if err != nil || secs < 1 {
					t.Errorf("429 with Retry-After %q, want whole seconds ≥ 1", r.Header("Retry-After"))
				}
				retryAfter = max(retryAfter, time.Duration(secs)*time.Second)
				checkError(t, "429", r.Body, "TooManyRequests", "Retry after", "")
			case r.Status >= 300:
				t.Errorf("item %s = %d, want 2xx or 429; body %s", r.ID, r.Status, r.Body)
			}
		}
		reqs = reqs[n:]
	}
	return throttled, retryAfter
}

// items returns n requests of method on the entities under collection
// (PATCHes with body), each on its own key.
func items(n int, method, collection, body string) []graph.Request {
	reqs := make([]graph.Request, n)
	for i := range reqs {
		path := fmt.Sprintf("%s/k%d", collection, i)
		if method == http.MethodPatch {
			reqs[i] = patchItem(strconv.Itoa(i), path, body)
		} else {
			reqs[i] = getItem(strconv.Itoa(i), path)
		}
	}
	return reqs
}

// TestServiceLimits checks that each target gets the write limits of its
// service's throttling profile by default: per app, twice that per
// tenant, counted per service, in sliding windows.
func TestServiceLimits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		collection, body string
		profile          graph.Profile
	}{
		{"/users", `{"city":"Oslo"}`, graph.Directory},
		{"/deviceManagement/deviceCompliancePolicies", `{"description":"d"}`, graph.IntuneDeviceConfiguration},
		{"/deviceManagement/deviceCompliancePolicies/p/deviceStatuses", `{"status":"compliant"}`, graph.IntuneDeviceConfiguration},
		{"/deviceManagement/managedDevices", `{"managedDeviceOwnerType":"company"}`, graph.IntuneDevices},
		{"/deviceManagement/deviceCategories", `{"description":"d"}`, graph.Intune},
	}
	for _, tt := range tests {
		t.Run(tt.profile.Service+" "+tt.collection, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				emu := graphtest.New(graphtest.Options{})
				h := emu.Handler()
				n, window := tt.profile.Write.N, tt.profile.Write.Per
				if got, _ := sendAs(t, h, "app-1", items(n, http.MethodPatch, tt.collection, tt.body)); got != 0 {
					t.Fatalf("%d writes (the limit) of app-1: %d throttled, want 0", n, got)
				}
				time.Sleep(window / 5)
				got, retryAfter := sendAs(t, h, "app-1", items(1, http.MethodPatch, tt.collection, tt.body))
				if want := window - window/5; got != 1 || retryAfter != want {
					t.Errorf("write %d of app-1: %d throttled, Retry-After %v; want 1 and %v", n+1, got, retryAfter, want)
				}
				other := "/users"
				if tt.collection == other {
					other = "/deviceManagement/deviceCompliancePolicies/p/deviceStatuses"
				}
				if got, _ := sendAs(t, h, "app-1", items(1, http.MethodGet, other, "")); got != 0 {
					t.Errorf("a read of another service by app-1 was throttled")
				}
				if got, _ := sendAs(t, h, "app-2", items(n, http.MethodPatch, tt.collection, tt.body)); got != 0 {
					t.Errorf("%d writes of app-2: %d throttled, want 0 (the tenant takes twice an app's)", n, got)
				}
				if got, _ := sendAs(t, h, "app-3", items(1, http.MethodPatch, tt.collection, tt.body)); got != 1 {
					t.Errorf("a write of app-3 after the tenant's %d: %d throttled, want 1", 2*n, got)
				}
				time.Sleep(window)
				if got, _ := sendAs(t, h, "app-1", items(1, http.MethodPatch, tt.collection, tt.body)); got != 0 {
					t.Errorf("a write of app-1 a window later was throttled")
				}
				if c := emu.Counters(); c.Throttled != 2 || c.ThrottledReads != 0 || c.Patches != 2*n+1 {
					t.Errorf("Counters: Throttled %d, ThrottledReads %d, Patches %d; want 2, 0, %d", c.Throttled, c.ThrottledReads, c.Patches, 2*n+1)
				}
			})
		})
	}
}

// TestRequestLimit checks the limit on requests of any kind: reads and
// writes count together, and each is throttled when it is reached.
func TestRequestLimit(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		// Intune device configuration: 1,000 requests per 20 s.
		emu := graphtest.New(graphtest.Options{})
		h := emu.Handler()
		const statuses = "/deviceManagement/deviceCompliancePolicies/p/deviceStatuses"
		if got, _ := sendAs(t, h, "app", items(90, http.MethodPatch, statuses, `{"status":"compliant"}`)); got != 0 {
			t.Fatalf("90 writes: %d throttled, want 0", got)
		}
		if got, _ := sendAs(t, h, "app", items(910, http.MethodGet, statuses, "")); got != 0 {
			t.Fatalf("910 reads after 90 writes: %d throttled, want 0", got)
		}
		time.Sleep(5 * time.Second)
		got, retryAfter := sendAs(t, h, "app", items(1, http.MethodGet, statuses, ""))
		if got != 1 || retryAfter != 15*time.Second {
			t.Errorf("read 1,001: %d throttled, Retry-After %v; want 1 and 15s", got, retryAfter)
		}
		if got, _ := sendAs(t, h, "app", items(1, http.MethodPatch, statuses, `{"status":"compliant"}`)); got != 1 {
			t.Errorf("write 91 after 1,000 requests: %d throttled, want 1", got)
		}
		if got, _ := sendAs(t, h, "other-app", items(1, http.MethodGet, statuses, "")); got != 0 {
			t.Errorf("a read of another app was throttled")
		}
		c := emu.Counters()
		if c.Reads != 911 || c.Patches != 90 || c.ThrottledReads != 1 || c.Throttled != 1 {
			t.Errorf("Counters = reads %d, patches %d, throttled reads %d, throttled %d; want 911, 90, 1, 1", c.Reads, c.Patches, c.ThrottledReads, c.Throttled)
		}
	})
}

// TestLimitsOverride checks that Options.Limits replaces every service's
// numbers, and that NoLimits turns throttling off.
func TestLimitsOverride(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		emu := graphtest.New(graphtest.Options{Limits: &graphtest.Limits{AppWrites: 3, TenantWrites: 4, AppRequests: 5, Window: 10 * time.Second}})
		h := emu.Handler()
		for _, c := range []string{"/users", "/deviceManagement/managedDevices"} {
			got, retryAfter := sendAs(t, h, "a", items(4, http.MethodPatch, c, `{}`))
			if got != 1 || retryAfter != 10*time.Second {
				t.Errorf("4 writes to %s: %d throttled, Retry-After %v; want 1, 10s", c, got, retryAfter)
			}
			if got, _ := sendAs(t, h, "a", items(3, http.MethodGet, c, "")); got != 1 {
				t.Errorf("3 reads of %s after 3 writes: %d throttled, want 1 (5 requests per window)", c, got)
			}
		}
		time.Sleep(10 * time.Second)
		noLimits := graphtest.New(graphtest.Options{Limits: &graphtest.NoLimits})
		if got, _ := sendAs(t, noLimits.Handler(), "a", items(1000, http.MethodPatch, "/users", `{}`)); got != 0 {
			t.Errorf("1,000 writes with NoLimits: %d throttled, want 0", got)
		}
	})
}

// TestEarlyRetries checks that a throttled request sent again before its
// Retry-After ended is counted, for reads and writes apart.
func TestEarlyRetries(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		emu := graphtest.New(graphtest.Options{Limits: &graphtest.Limits{AppWrites: 1, AppRequests: 2, Window: 10 * time.Second}})
		h := emu.Handler()
		patch := []graph.Request{patchItem("1", "/users/u", `{}`)}
		get := []graph.Request{getItem("1", "/users/u")}
		sendAs(t, h, "a", patch) // admitted: 1 write, 1 request
		sendAs(t, h, "a", patch) // throttled: Retry-After 10
		sendAs(t, h, "a", get)   // admitted: 2 requests
		sendAs(t, h, "a", get)   // throttled
		time.Sleep(5 * time.Second)
		sendAs(t, h, "a", patch) // early
		sendAs(t, h, "a", get)   // early
		time.Sleep(10 * time.Second)
		if got, _ := sendAs(t, h, "a", patch); got != 0 {
			t.Errorf("the write after the window was throttled")
		}
		c := emu.Counters()
		if c.EarlyRetries != 1 || c.EarlyReadRetries != 1 || c.Throttled != 2 || c.ThrottledReads != 2 {
			t.Errorf("Counters: early retries %d, early read retries %d, throttled %d, throttled reads %d; want 1, 1, 2, 2",
				c.EarlyRetries, c.EarlyReadRetries, c.Throttled, c.ThrottledReads)
		}
	})
}

// TestLimitsOf checks the limits each service's profile gives.
func TestLimitsOf(t *testing.T) {
	t.Parallel()
	got := graphtest.LimitsOf(graph.Directory)
	want := graphtest.Limits{AppWrites: 200, TenantWrites: 400, AppRequests: 3500, Window: 10 * time.Second, RequestWindow: 10 * time.Second}
	if got != want {
		t.Errorf("LimitsOf(Directory) = %+v, want %+v", got, want)
	}
	if want := (graphtest.Limits{AppWrites: 100, TenantWrites: 200, AppRequests: 1000, Window: 20 * time.Second, RequestWindow: 20 * time.Second}); graphtest.IntuneLimits != want {
		t.Errorf("IntuneLimits = %+v, want %+v", graphtest.IntuneLimits, want)
	}
}
