package graphtest_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/graphbatch/graphbatch/graph"
	"github.com/graphbatch/graphbatch/graph/graphtest"
)

// TestMetadata checks that GET /{v}/$metadata answers the CSDL the
// served model comes from.
func TestMetadata(t *testing.T) {
	t.Parallel()
	emu, c := newServer(t, graphtest.Options{})
	for _, v := range graph.Versions {
		status, header, body := do(t, c, http.MethodGet, emu.URL+"/"+string(v)+"/$metadata", nil, "")
		if status != http.StatusOK || !strings.HasPrefix(header.Get("Content-Type"), "application/xml") {
			t.Fatalf("GET /%s/$metadata = %d %q, want 200 application/xml", v, status, header.Get("Content-Type"))
		}
		m, err := graph.ParseCSDL(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("GET /%s/$metadata: ParseCSDL: %v", v, err)
		}
		builtin, _ := graph.BuiltinModel(v)
		if len(m.Types()) != len(builtin.Types()) {
			t.Errorf("GET /%s/$metadata has %d types, the built-in model %d", v, len(m.Types()), len(builtin.Types()))
		}
	}
	if status, _, body := do(t, c, http.MethodGet, emu.URL+"/v2.0/$metadata", nil, ""); status != http.StatusNotFound {
		t.Errorf("GET /v2.0/$metadata = %d, want 404; body %.200s", status, body)
	}
}

// TestOtherMetadata checks that Options.Models and Options.CSDL serve
// other metadata, here a made-up version with one entity set.
func TestOtherMetadata(t *testing.T) {
	t.Parallel()
	const csdl = `<?xml version="1.0" encoding="utf-8"?>
<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx"><edmx:DataServices>
<Schema Namespace="microsoft.graph" Alias="graph" xmlns="http://docs.oasis-open.org/odata/ns/edm">
  <EntityType Name="widget"><Key><PropertyRef Name="id" /></Key>
    <Property Name="id" Type="Edm.String" Nullable="false" />
    <Property Name="size" Type="Edm.Int32" Nullable="false" />
  </EntityType>
  <EntityContainer Name="GraphService"><EntitySet Name="widgets" EntityType="microsoft.graph.widget" /></EntityContainer>
</Schema></edmx:DataServices></edmx:Edmx>`
	m, err := graph.ParseCSDL(strings.NewReader(csdl))
	if err != nil {
		t.Fatal(err)
	}
	const v = graph.Version("v9.9")
	emu := graphtest.New(graphtest.Options{Models: map[graph.Version]*graph.Model{v: m}, CSDL: map[graph.Version][]byte{v: []byte(csdl)}})
	if r := postOne(t, emu.Handler(), v, patchItem("1", "/widgets/w1", `{"size":3}`)); r.Status != http.StatusNoContent {
		t.Errorf("PATCH /widgets/w1 on %s = %d, want 204; body %s", v, r.Status, r.Body)
	}
	if e, ok := emu.Entity(v, "/widgets/w1"); !ok || e.Type != "microsoft.graph.widget" {
		t.Errorf("Entity(%s, /widgets/w1) = %+v, %v; want a widget", v, e, ok)
	}
	w := send(t, emu.Handler(), http.MethodGet, "/v9.9/$metadata", nil, "")
	if w.Code != http.StatusOK || w.Body.String() != csdl {
		t.Errorf("GET /v9.9/$metadata = %d %.100q, want 200 and Options.CSDL", w.Code, w.Body)
	}
	if r := postOne(t, emu.Handler(), graph.V1, getItem("1", "/users/u")); r.Status != http.StatusOK {
		t.Errorf("GET /users/u on v1.0 = %d, want 200: the built-in models stay", r.Status)
	}
}
