package graphtest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/graphbatch/graphbatch/graph"
	"github.com/graphbatch/graphbatch/graph/graphtest"
)

// sendRows turns CSV rows for a target into PATCHes with the client's
// own code (graph.Row) and sends them with graph.Client, in process.
func sendRows(t *testing.T, c *graph.Client, target *graph.Target, rows []map[string]string) []graph.Response {
	t.Helper()
	row := target.NewRow("")
	cols := target.Columns()
	var reqs []graph.Request
	for i, cells := range rows {
		fields := make([]string, len(cols))
		for j, col := range cols {
			fields[j] = cells[col]
		}
		p, err := row.NewPatch(fields)
		if err != nil {
			t.Fatalf("row %d: %v", i+1, err)
		}
		reqs = append(reqs, graph.NewPatchRequest(string(rune('a'+i)), p))
	}
	res, err := c.Batch(t.Context(), target.Version, reqs)
	if err != nil {
		t.Fatalf("Batch: %v", err)
	}
	return res.Responses
}

// TestRealClient drives the emulator with graphbatch's own client and
// rows: PATCHes built from the metadata, reads with $select, and a list
// followed through its nextLinks.
func TestRealClient(t *testing.T) {
	t.Parallel()
	emu := graphtest.New(graphtest.Options{PageSize: 2})
	c := graph.NewClient(&http.Client{Transport: emu.Transport()}, "https://graph.test", nil)
	m, _ := graph.BuiltinModel(graph.V1)

	users, err := graph.OpenTarget("users", m, graph.V1)
	if err != nil {
		t.Fatal(err)
	}
	rows := []map[string]string{
		{"id": "ann@contoso.com", "city": "Oslo", "accountEnabled": "TRUE", "businessPhones": `["+47 1"]`},
		{"id": "bob@contoso.com", "city": "Bergen", "jobTitle": "#null"},
		{"id": "cy@contoso.com", "city": "Oslo", "passwordProfile": `{"forceChangePasswordNextSignIn":true}`},
	}
	for _, r := range sendRows(t, c, users, rows) {
		if r.Status != http.StatusNoContent {
			t.Errorf("item %s = %d, want 204; body %s", r.ID, r.Status, r.Body)
		}
	}
	policies, err := graph.OpenTarget("compliance-policies", m, graph.V1)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range sendRows(t, c, policies, []map[string]string{
		{"id": "p1", "@odata.type": "#microsoft.graph.windows10CompliancePolicy", "passwordRequired": "true", "passwordRequiredType": "Numeric"},
	}) {
		if r.Status != http.StatusOK {
			t.Errorf("policy item %s = %d, want 200; body %s", r.ID, r.Status, r.Body)
		}
	}
	if e, _ := emu.Entity(graph.V1, policies.Path([]string{"p1"})); e.Properties["passwordRequiredType"] != "numeric" {
		t.Errorf("stored policy = %+v, want passwordRequiredType numeric (Graph's spelling, sent by the client)", e)
	}

	// Read before write: GET with $select, 20 to an envelope.
	res, err := c.Batch(t.Context(), graph.V1, []graph.Request{
		graph.NewGetRequest("1", users.Path([]string{"ann@contoso.com"})+"?$select=city,businessPhones"),
		graph.NewGetRequest("2", users.Path([]string{"missing-x"})+"?$select=city"),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Responses {
		got := map[string]any{}
		_ = json.Unmarshal(r.Body, &got)
		switch {
		case r.ID == "1" && (r.Status != 200 || got["city"] != "Oslo" || len(got["businessPhones"].([]any)) != 1):
			t.Errorf("GET ann = %d %s, want 200, city Oslo, one phone", r.Status, r.Body)
		case r.ID == "2" && (r.Status != 404 || r.Err().Code != "Request_ResourceNotFound"):
			t.Errorf("GET missing-x = %d %s, want 404 Request_ResourceNotFound", r.Status, r.Body)
		}
	}

	// Export: list the collection, following relative nextLinks.
	next := users.CollectionPath(nil) + "?$select=city&$filter=" + url.QueryEscape("city eq 'Oslo'")
	var ids []string
	for next != "" {
		res, err := c.Batch(t.Context(), graph.V1, []graph.Request{graph.NewGetRequest("1", next)})
		if err != nil || res.Responses[0].Status != 200 {
			t.Fatalf("GET %s: %v %+v", next, err, res)
		}
		var page struct {
			Value    []struct{ ID string }
			NextLink string `json:"@odata.nextLink"`
		}
		_ = json.Unmarshal(res.Responses[0].Body, &page)
		for _, v := range page.Value {
			ids = append(ids, v.ID)
		}
		next = strings.TrimPrefix(page.NextLink, "https://graph.test/v1.0")
	}
	if strings.Join(ids, " ") != "ann@contoso.com cy@contoso.com" {
		t.Errorf("listing users in Oslo = %v, want ann and cy", ids)
	}
	if c := emu.Counters(); c.Patches != 4 || c.Reads != 2 {
		t.Errorf("Counters: Patches %d, Reads %d; want 4, 2", c.Patches, c.Reads)
	}
}
