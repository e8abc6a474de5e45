package graphtest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/graphbatch/graphbatch/graph"
	"github.com/graphbatch/graphbatch/graph/graphtest"
)

// TestSelect checks GET of an entity with $select.
func TestSelect(t *testing.T) {
	t.Parallel()
	emu := graphtest.New(graphtest.Options{})
	if err := emu.Put(graph.V1, "/users/u1", map[string]any{"displayName": "Ann", "city": "Oslo", "country": "NO"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		query string
		want  map[string]any // the answer without @odata.context; nil for an error
		msg   string         // the end of @odata.context, or a part of error.message
	}{
		{"$select=displayName,CITY", map[string]any{"@odata.type": "#microsoft.graph.user", "id": "u1", "displayName": "Ann", "city": "Oslo"}, "#users(displayName,city)/$entity"},
		{"$select=%20city%20", map[string]any{"@odata.type": "#microsoft.graph.user", "id": "u1", "city": "Oslo"}, "#users(city)/$entity"},
		{"$select=id,surname", map[string]any{"@odata.type": "#microsoft.graph.user", "id": "u1", "surname": nil}, "#users(id,surname)/$entity"},
		{"$select=microsoft.graph.user/city,manager", map[string]any{"@odata.type": "#microsoft.graph.user", "id": "u1", "city": "Oslo"}, "#users(city)/$entity"},
		{"$select=colour", nil, "Could not find a property named 'colour' on type 'microsoft.graph.user'."},
		{"$select=city,", nil, "Could not find a property named '' on type 'microsoft.graph.user'."},
	}
	for _, tt := range tests {
		path := "/users/u1?" + tt.query
		r := postOne(t, emu.Handler(), graph.V1, getItem("1", path))
		if tt.want == nil {
			if r.Status != http.StatusBadRequest {
				t.Errorf("GET %s = %d, want 400; body %s", path, r.Status, r.Body)
			} else {
				checkError(t, "GET "+path, r.Body, "BadRequest", tt.msg, "")
			}
			continue
		}
		if r.Status != http.StatusOK {
			t.Errorf("GET %s = %d, want 200; body %s", path, r.Status, r.Body)
			continue
		}
		got := decodeObject(t, "GET "+path, r.Body)
		if ctx, _ := got["@odata.context"].(string); !strings.HasSuffix(ctx, "/v1.0/$metadata"+tt.msg) {
			t.Errorf("GET %s: @odata.context = %q, want it to end in $metadata%s", path, ctx, tt.msg)
		}
		delete(got, "@odata.context")
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("GET %s = %v, want %v", path, got, tt.want)
		}
	}
	if got := emu.Counters().Reads; got != 4 {
		t.Errorf("Reads = %d, want 4 (the GETs answered 200)", got)
	}
}

// putUsers preloads the users u0…u{n-1}; every third lives in Oslo and
// has its account disabled.
func putUsers(t *testing.T, emu *graphtest.Server, n int) {
	t.Helper()
	for i := range n {
		props := map[string]any{"displayName": fmt.Sprintf("User %d", i), "city": "Bergen", "accountEnabled": true, "deviceEnrollmentLimit": i}
		if i%3 == 0 {
			props["city"], props["accountEnabled"] = "Oslo", false
		}
		if err := emu.Put(graph.V1, fmt.Sprintf("/users/u%02d", i), props); err != nil {
			t.Fatal(err)
		}
	}
}

// listAll lists path through $batch items, following @odata.nextLink
// (made relative, as a client must) to the last page, and returns the
// ids in order and the number of pages.
func listAll(t *testing.T, h http.Handler, path string) (ids []string, pages int) {
	t.Helper()
	for path != "" {
		r := postOne(t, h, graph.V1, getItem("1", path))
		if r.Status != http.StatusOK {
			t.Fatalf("GET %s = %d, want 200; body %s", path, r.Status, r.Body)
		}
		var page struct {
			Context  string           `json:"@odata.context"`
			Value    []map[string]any `json:"value"`
			NextLink string           `json:"@odata.nextLink"`
		}
		if err := json.Unmarshal(r.Body, &page); err != nil {
			t.Fatalf("GET %s: %v; body %s", path, err, r.Body)
		}
		for _, v := range page.Value {
			ids = append(ids, v["id"].(string))
		}
		pages++
		path = ""
		if page.NextLink != "" {
			u, err := url.Parse(page.NextLink)
			if err != nil || !u.IsAbs() || !strings.HasPrefix(u.Path, "/v1.0/") {
				t.Fatalf("@odata.nextLink = %q, want an absolute URL under /v1.0/", page.NextLink)
			}
			path = strings.TrimPrefix(u.Path, "/v1.0") + "?" + u.RawQuery
		}
	}
	return ids, pages
}

// TestListPaging checks server-driven paging: pages of Options.PageSize,
// smaller with $top, in key order, each with a nextLink but the last.
func TestListPaging(t *testing.T) {
	t.Parallel()
	emu := graphtest.New(graphtest.Options{PageSize: 4, Limits: &graphtest.NoLimits})
	putUsers(t, emu, 10)
	var all []string
	for i := range 10 {
		all = append(all, fmt.Sprintf("u%02d", i))
	}
	tests := []struct {
		path  string
		ids   []string
		pages int
	}{
		{"/users", all, 3},
		{"/users?$top=3", all, 4},
		{"/users?$top=50", all, 3},
		{"/users?$top=0", nil, 1},
		{"/users?$filter=city eq 'Oslo'", []string{"u00", "u03", "u06", "u09"}, 1},
		{"/users?$filter=city eq 'oslo'&$top=1&$select=city", []string{"u00", "u03", "u06", "u09"}, 4},
		{"/users?$filter=city eq 'Tromsø'", nil, 1},
		{"/deviceManagement/managedDevices", nil, 1},
	}
	for _, tt := range tests {
		ids, pages := listAll(t, emu.Handler(), tt.path)
		if !slices.Equal(ids, tt.ids) || pages != tt.pages {
			t.Errorf("listing %s = %v in %d pages, want %v in %d", tt.path, ids, pages, tt.ids, tt.pages)
		}
	}
	if got, want := emu.Counters().Reads, 3+4+3+1+1+4+1+1; got != want {
		t.Errorf("Reads = %d, want %d (one per page)", got, want)
	}
}

// TestListPage checks one page's shape: context, $select applied to every
// item, and a nextLink that keeps the query.
func TestListPage(t *testing.T) {
	t.Parallel()
	emu, c := newServer(t, graphtest.Options{PageSize: 2})
	putUsers(t, emu, 3)
	status, _, body := do(t, c, http.MethodGet, emu.URL+"/v1.0/users?$select=city&$filter=accountEnabled%20eq%20true", nil, "")
	if status != http.StatusOK {
		t.Fatalf("GET /users = %d; body %s", status, body)
	}
	got := decodeObject(t, "GET /users", body)
	want := map[string]any{
		"@odata.context": emu.URL + "/v1.0/$metadata#users(city)",
		"value": []any{
			map[string]any{"@odata.type": "#microsoft.graph.user", "id": "u01", "city": "Bergen"},
			map[string]any{"@odata.type": "#microsoft.graph.user", "id": "u02", "city": "Bergen"},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("GET /users?$select=city&$filter=accountEnabled eq true = %v, want %v", got, want)
	}

	status, _, body = do(t, c, http.MethodGet, emu.URL+"/v1.0/users?$select=city", nil, "")
	next, _ := decodeObject(t, "GET /users", body)["@odata.nextLink"].(string)
	if status != http.StatusOK || !strings.HasPrefix(next, emu.URL+"/v1.0/users?$select=city&$skiptoken=") {
		t.Fatalf("GET /users?$select=city = %d, nextLink %q, want 200 and a nextLink keeping $select", status, next)
	}
	status, _, body = do(t, c, http.MethodGet, next, nil, "")
	page := decodeObject(t, "GET "+next, body)
	if status != http.StatusOK || len(page["value"].([]any)) != 1 || page["@odata.nextLink"] != nil {
		t.Errorf("GET %s = %d %v, want the last page: one user, no nextLink", next, status, page)
	}
}

// TestListScope checks that a list holds only the entities under its
// collection path, outer keys compared case-insensitively.
func TestListScope(t *testing.T) {
	t.Parallel()
	emu := graphtest.New(graphtest.Options{})
	for _, p := range []string{deviceStatus("P1", "a"), deviceStatus("p1", "b"), deviceStatus("p2", "c"), userStatus("p1", "d")} {
		if err := emu.Put(graph.V1, p, map[string]any{"userPrincipalName": "x"}); err != nil {
			t.Fatal(err)
		}
	}
	ids, _ := listAll(t, emu.Handler(), "/deviceManagement/deviceCompliancePolicies/p1/deviceStatuses")
	if !slices.Equal(ids, []string{"a", "b"}) {
		t.Errorf("device statuses of p1 = %v, want [a b]", ids)
	}
	ids, _ = listAll(t, emu.Handler(), "/deviceManagement/deviceCompliancePolicies/P2/deviceStatuses")
	if !slices.Equal(ids, []string{"c"}) {
		t.Errorf("device statuses of P2 = %v, want [c]", ids)
	}
}

// TestListFilter checks the $filter clauses the emulator understands,
// and Graph's answers to those it does not.
func TestListFilter(t *testing.T) {
	t.Parallel()
	emu := graphtest.New(graphtest.Options{Limits: &graphtest.NoLimits})
	putUsers(t, emu, 6)
	for _, p := range []struct {
		path  string
		props map[string]any
	}{
		{deviceStatus("p", "d1"), map[string]any{"status": "compliant", "lastReportedDateTime": "2024-01-31T10:00:00+01:00"}},
		{deviceStatus("p", "d2"), map[string]any{"status": "error", "deviceModel": "X1"}},
		{deviceStatus("p", "d3"), map[string]any{"userName": "ann"}},
	} {
		if err := emu.Put(graph.V1, p.path, p.props); err != nil {
			t.Fatal(err)
		}
	}
	const statuses = "/deviceManagement/deviceCompliancePolicies/p/deviceStatuses"
	tests := []struct {
		path, filter string
		ids          []string
		msg          string // for a refused filter, a part of error.message
	}{
		{"/users", "city eq 'Oslo'", []string{"u00", "u03"}, ""},
		{"/users", "City EQ 'OSLO'", []string{"u00", "u03"}, ""},
		{"/users", "accountEnabled eq false", []string{"u00", "u03"}, ""},
		{"/users", "accountEnabled eq true and city eq 'Bergen'", []string{"u01", "u02", "u04", "u05"}, ""},
		{"/users", "deviceEnrollmentLimit eq 4", []string{"u04"}, ""},
		{"/users", "deviceEnrollmentLimit eq 4.0", []string{"u04"}, ""},
		{"/users", "id eq 'U02'", []string{"u02"}, ""},
		{"/users", "surname eq null", []string{"u00", "u01", "u02", "u03", "u04", "u05"}, ""},
		{"/users", "city eq null", nil, ""},
		{"/users", "displayName eq 'it''s'", nil, ""},
		{statuses, "status eq 'compliant'", []string{"d1"}, ""},
		{statuses, "status eq 'unknown'", []string{"d3"}, ""},
		{statuses, "deviceModel eq 'X1' and status eq 'error'", []string{"d2"}, ""},
		{statuses, "lastReportedDateTime eq 2024-01-31T09:00:00Z", []string{"d1"}, ""},
		{statuses, "lastReportedDateTime eq '2024-01-31T09:00:00Z'", []string{"d1"}, ""},

		{"/users", "startswith(city,'O')", nil, "Invalid filter clause"},
		{"/users", "city ne 'Oslo'", nil, "Invalid filter clause"},
		{"/users", "city eq 'Oslo' or city eq 'Bergen'", nil, "Invalid filter clause"},
		{"/users", "city eq 'Oslo' and", nil, "Invalid filter clause"},
		{"/users", "city eq 'Oslo", nil, "Invalid filter clause"},
		{"/users", "city eq Oslo", nil, "Invalid filter clause"},
		{"/users", "businessPhones eq 'x'", nil, "Invalid filter clause"},
		{"/users", "colour eq 'red'", nil, "Could not find a property named 'colour' on type 'microsoft.graph.user'."},
		{"/users", "accountEnabled eq 'true'", nil, "Found operand types 'Edm.Boolean' and 'Edm.String' for operator kind 'Equal'."},
		{"/users", "city eq 5", nil, "Found operand types 'Edm.String' and 'Edm.Int32'"},
		{statuses, "status eq 'Compliant'", nil, "Requested value 'Compliant' was not found."},
	}
	for _, tt := range tests {
		path := tt.path + "?$filter=" + url.QueryEscape(tt.filter)
		if tt.msg == "" {
			if ids, _ := listAll(t, emu.Handler(), path); !slices.Equal(ids, tt.ids) {
				t.Errorf("$filter=%s on %s = %v, want %v", tt.filter, tt.path, ids, tt.ids)
			}
			continue
		}
		r := postOne(t, emu.Handler(), graph.V1, getItem("1", path))
		if r.Status != http.StatusBadRequest {
			t.Errorf("$filter=%s on %s = %d, want 400; body %s", tt.filter, tt.path, r.Status, r.Body)
			continue
		}
		checkError(t, "$filter="+tt.filter, r.Body, "BadRequest", tt.msg, "")
	}
}

// TestListQueryErrors checks the answers to bad $top and $skiptoken.
func TestListQueryErrors(t *testing.T) {
	t.Parallel()
	emu := graphtest.New(graphtest.Options{})
	for _, q := range []string{"$top=-1", "$top=x", "$skiptoken=%%%", "$skiptoken=!"} {
		r := postOne(t, emu.Handler(), graph.V1, getItem("1", "/users?"+q))
		if r.Status != http.StatusBadRequest {
			t.Errorf("GET /users?%s = %d, want 400; body %s", q, r.Status, r.Body)
		} else {
			checkError(t, "GET /users?"+q, r.Body, "BadRequest", "", "")
		}
	}
}
