package graphtest

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"

	"github.com/graphbatch/graphbatch/graph"
)

// FuzzScanMembers checks scanMembers against encoding/json on valid
// objects.
func FuzzScanMembers(f *testing.F) {
	for _, seed := range []string{`{}`, ` { "a" : 1 , "b":[1,{"c":"]}"}] ,"d\\"":"x\\"y", "e":null} `, `{"a":{"b":{}},"c":-1.5e3}`, `{"é":"\u00e9"}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var want map[string]json.RawMessage
		if !json.Valid(data) || json.Unmarshal(data, &want) != nil {
			return
		}
		got := make(map[string]json.RawMessage)
		for _, m := range scanMembers(data) {
			got[m.name] = m.value
		}
		if len(got) != len(want) {
			t.Fatalf("scanMembers(%s) = %v, want %v", data, got, want)
		}
		for k, v := range want {
			var a, b any
			if json.Unmarshal(v, &a) != nil || json.Unmarshal(got[k], &b) != nil || !reflect.DeepEqual(a, b) {
				t.Fatalf("scanMembers(%s)[%q] = %s, want %s", data, k, got[k], v)
			}
		}
	})
}

// TestAppendBatchAnswer checks the hand-written $batch answer against
// graph.Marshal.
func TestAppendBatchAnswer(t *testing.T) {
	t.Parallel()
	out := []graph.Response{
		{ID: "1", Status: http.StatusOK, Headers: map[string]string{"Content-Type": "application/json", "Retry-After": "3"}, Body: json.RawMessage(`{"a":"<b>"}`)},
		{ID: "quote \" and é and \x01 and <&>", Status: http.StatusNoContent},
	}
	want, err := graph.Marshal(graph.BatchResponse{Responses: out})
	if err != nil {
		t.Fatal(err)
	}
	if got := appendBatchAnswer(nil, out); string(got) != string(want) {
		t.Errorf("appendBatchAnswer = %s, want %s", got, want)
	}
	for _, s := range []string{"", "plain", `"`, `\`, "\t", "é", "\xff", "<&>"} {
		want, _ := graph.Marshal(s)
		if got := appendString(nil, s); string(got) != string(want) {
			t.Errorf("appendString(%q) = %s, want %s", s, got, want)
		}
	}
}
