package graph

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var decodeTests = []string{
	`{"responses":[]}`,
	`{"responses":null}`,
	`{}`,
	` { "responses" : [ { "id" : "1" , "status" : 200 , "headers" : { "Content-Type" : "application/json" } , "body" : { "a" : [1, 2.5e3, -0.1, true, false, null, "x\"y"] } } ] } `,
	`{"responses":[{"id":"7","status":429,"headers":{"Retry-After":"10"},"body":{"error":{"code":"TooManyRequests","message":"Please retry"}}},{"id":"3","status":204}]}`,
	`{"RESPONSES":[{"ID":"1","Status":200,"HEADERS":{"x":"y"},"Body":"text"}]}`,
	`{"responses":[{"id":"\u0031\n","status":-0,"headers":null,"body":null,"extra":{"deep":[[[{}]]]}}]}`,
	`{"responses":[{"id":"a","headers":{"k":"1"},"headers":{"k2":"2"},"id":"b"}]}`,
	`{"@odata.context":"x","responses":[{"id":"1","status":200}],"responses":[{"id":"2","status":500}]}`,
	"{\"responses\":[{\"id\":\"\xff\xfe\",\"status\":200}]}",
	// Invalid: each must fail as encoding/json fails.
	`{"responses":[{"id":1}]}`,
	`{"responses":[{"status":"200"}]}`,
	`{"responses":[{"status":200.5}]}`,
	`{"responses":[{"status":1e2}]}`,
	`{"responses":[{"status":99999999999999999999}]}`,
	`{"responses":[{"id":"x"}],}`,
	`{"responses":[{"id":"x"}]} trailing`,
	`{"responses":[{"body":{"a":01}}]}`,
	`{"responses":[{"body":"\q"}]}`,
	"{\"responses\":[{\"id\":\"a\tb\"}]}",
	`{"responses":[{"id":"x"`,
	`[]`,
	``,
	`nul`,
	`{"responses":[{"headers":{"a":1}}]}`,
}

// TestDecodeBatchResponseMatchesEncodingJSON checks the hand-written
// decoder against encoding/json on valid and invalid answers.
func TestDecodeBatchResponseMatchesEncodingJSON(t *testing.T) {
	for _, in := range decodeTests {
		checkDecode(t, []byte(in))
	}
}

func checkDecode(t *testing.T, in []byte) {
	t.Helper()
	checkSameAsEncodingJSON(t, in, DecodeBatchResponse, func(want *BatchResponse) {
		for i := range want.Responses {
			if r := &want.Responses[i]; r.Status >= 200 && r.Status <= 299 {
				r.Headers = nil // successful items' headers are not decoded
			}
		}
	})
}

// checkSameAsEncodingJSON checks that decode gives what encoding/json
// gives for in, adjusted by expect: the same error or none, the same value.
func checkSameAsEncodingJSON[T any](t *testing.T, in []byte, decode func([]byte) (T, error), expect func(*T)) {
	t.Helper()
	var want T
	wantErr := json.Unmarshal(in, &want)
	expect(&want)
	got, err := decode(in)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("decoding %q: error = %v; encoding/json says %v", in, err, wantErr)
	}
	if err != nil {
		return
	}
	if diff := cmp.Diff(want, got, cmp.Transformer("raw", func(m json.RawMessage) *string {
		if m == nil {
			return nil
		}
		s := string(m)
		return &s
	})); diff != "" {
		t.Errorf("decoding %q differs from encoding/json (-want +got):\n%s", in, diff)
	}
}

func FuzzDecodeBatchResponse(f *testing.F) {
	for _, in := range decodeTests {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkDecode(t, in)
	})
}

// envelope returns a 20-item request and the answer the emulator would give.
func envelope() (BatchRequest, []byte) {
	var req BatchRequest
	var resp BatchResponse
	schema := NewSchema(Resources[0], V1)
	for i := range MaxBatchSize {
		values := make([]string, len(schema.Properties))
		values[1], values[3], values[4] = fmt.Sprintf("CONTOSO-LT-%04d", i), "2026-11-20T09:30:00Z", "compliant"
		p, err := schema.NewPatch("6513270e-269e-4d37-b2a7-4de452e6b438", fmt.Sprintf("099950d8-36f6-45cc-81e7-4ef5e8e2%04d", i), values)
		if err != nil {
			panic(err)
		}
		req.Requests = append(req.Requests, NewPatchRequest(fmt.Sprint(i+1), p))
		resp.Responses = append(resp.Responses, Response{
			ID: fmt.Sprint(i + 1), Status: 200,
			Headers: map[string]string{"Content-Type": "application/json"},
			Body:    json.RawMessage(`{"@odata.type":"#microsoft.graph.deviceComplianceDeviceStatus","id":"099950d8","deviceDisplayName":"CONTOSO-LT-0001","lastReportedDateTime":"2026-11-20T09:30:00Z","status":"compliant"}`),
		})
	}
	answer, _ := json.Marshal(resp)
	return req, answer
}

func BenchmarkEnvelope(b *testing.B) {
	req, answer := envelope()
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf = req.AppendJSON(buf[:0])
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*MaxBatchSize), "ns/item")
	})
	b.Run("encode-encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = json.Marshal(req)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*MaxBatchSize), "ns/item")
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := DecodeBatchResponse(answer); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*MaxBatchSize), "ns/item")
	})
	b.Run("decode-encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var br BatchResponse
			if err := json.Unmarshal(answer, &br); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*MaxBatchSize), "ns/item")
	})
}

func BenchmarkNewPatch(b *testing.B) {
	schema := NewSchema(Resources[0], V1)
	values := make([]string, len(schema.Properties))
	// deviceDisplayName, deviceModel, lastReportedDateTime, status, userPrincipalName
	values[1], values[2], values[3], values[4], values[6] = "CONTOSO-LT-0001", "Latitude 7440", "2026-11-20T09:30:00Z", "Compliant", "ava.berg@contoso.com"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := schema.NewPatch("6513270e-269e-4d37-b2a7-4de452e6b438", "099950d8-36f6-45cc-81e7-4ef5e8e25d94", values); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

var requestTests = []string{
	`{"requests":[{"id":"1","method":"PATCH","url":"/x/y","headers":{"Content-Type":"application/json"},"body":{"status":"compliant"}}]}`,
	`{"Requests":[{"ID":"1","METHOD":"GET","Url":"/x","dependsOn":["2"],"body":null}],"other":1}`,
	`{"requests":[{"id":1}]}`,
	`{"requests":[{"body":{"a":}}]}`,
	`{"requests":null}`,
	`{"requests":[{"method":"PATCH","method":"GET"},{}],"requests":[{}]}`,
}

func checkDecodeRequest(t *testing.T, in []byte) {
	t.Helper()
	checkSameAsEncodingJSON(t, in, DecodeBatchRequest, func(*BatchRequest) {})
}

func TestDecodeBatchRequestMatchesEncodingJSON(t *testing.T) {
	for _, in := range append(requestTests, decodeTests...) {
		checkDecodeRequest(t, []byte(in))
	}
}

func FuzzDecodeBatchRequest(f *testing.F) {
	for _, in := range requestTests {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, in []byte) { checkDecodeRequest(t, in) })
}

func TestDecodeObject(t *testing.T) {
	var names, values []string
	err := DecodeObject([]byte(` {"a" : 1, "b\u0022":{"x":[null]}, "c":"s"} `), func(name string, value []byte) error {
		names, values = append(names, name), append(values, string(value))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a", "b\"", "c"}, names); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"1", `{"x":[null]}`, `"s"`}, values); diff != "" {
		t.Errorf("values (-want +got):\n%s", diff)
	}
	for _, bad := range []string{`{"a":1`, `[1]`, `{"a":1} x`, `{"a":tru}`} {
		if err := DecodeObject([]byte(bad), func(string, []byte) error { return nil }); err == nil {
			t.Errorf("DecodeObject(%q) = nil, want an error", bad)
		}
	}
}
