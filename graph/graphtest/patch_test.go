package graphtest_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"

	"github.com/graphbatch/graphbatch/graph"
	"github.com/graphbatch/graphbatch/graph/graphtest"
)

func TestPatchSchema(t *testing.T) {
	t.Parallel()
	const (
		noPlatformDevice = "The property 'platform' does not exist on type 'microsoft.graph.deviceComplianceDeviceStatus'."
		noPlatformUser   = "The property 'platform' does not exist on type 'microsoft.graph.deviceComplianceUserStatus'."
	)
	notDate := func(s string) string {
		return "Cannot convert the literal '" + s + "' to the expected type 'Edm.DateTimeOffset'."
	}
	notInt := func(s string) string {
		return "Cannot convert the literal '" + s + "' to the expected type 'Edm.Int32'."
	}
	nullFor := func(name string) string {
		return "A null value was found for the property named '" + name + "'"
	}
	tests := []struct {
		name    string
		version graph.Version
		path    string
		body    string
		msg     string // "" if the PATCH is accepted; else a part of error.message
	}{
		{"platform on beta device", graph.Beta, deviceStatus("p", "e"), `{"platform":3}`, ""},
		{"platform on v1.0 device", graph.V1, deviceStatus("p", "e"), `{"platform":3}`, noPlatformDevice},
		{"platform on beta user", graph.Beta, userStatus("p", "e"), `{"platform":3}`, noPlatformUser},
		{"platform on v1.0 user", graph.V1, userStatus("p", "e"), `{"platform":3}`, noPlatformUser},

		{"enum compliant", graph.V1, deviceStatus("p", "e"), `{"status":"compliant"}`, ""},
		{"enum nonCompliant", graph.Beta, userStatus("p", "e"), `{"status":"nonCompliant"}`, ""},
		{"enum notAssigned", graph.V1, userStatus("p", "e"), `{"status":"notAssigned"}`, ""},
		{"enum Compliant", graph.V1, deviceStatus("p", "e"), `{"status":"Compliant"}`, "Requested value 'Compliant' was not found."},
		{"enum NONCOMPLIANT", graph.Beta, userStatus("p", "e"), `{"status":"NONCOMPLIANT"}`, "Requested value 'NONCOMPLIANT' was not found."},
		{"enum not a member", graph.V1, deviceStatus("p", "e"), `{"status":"green"}`, "Requested value 'green' was not found."},
		{"enum as number", graph.V1, deviceStatus("p", "e"), `{"status":2}`, "Cannot convert"},

		{"date Z", graph.V1, deviceStatus("p", "e"), `{"lastReportedDateTime":"2024-01-31T09:30:00Z"}`, ""},
		{"date offset", graph.V1, deviceStatus("p", "e"), `{"lastReportedDateTime":"2024-01-31T09:30:00+01:00"}`, ""},
		{"date negative offset", graph.Beta, userStatus("p", "e"), `{"lastReportedDateTime":"2024-01-31T09:30:00-05:30"}`, ""},
		{"date offset +14:00", graph.V1, deviceStatus("p", "e"), `{"lastReportedDateTime":"2024-01-31T09:30:00+14:00"}`, ""},
		{"date offset -14:00", graph.V1, deviceStatus("p", "e"), `{"lastReportedDateTime":"2024-01-31T09:30:00-14:00"}`, ""},
		// .NET's DateTimeOffset, which Graph parses into, takes offsets of
		// at most 14 hours, minutes below 60 and years from 0001.
		{"date offset +15:00", graph.V1, deviceStatus("p", "e"), `{"lastReportedDateTime":"2024-01-31T09:30:00+15:00"}`, notDate("2024-01-31T09:30:00+15:00")},
		{"date offset minutes 60", graph.V1, deviceStatus("p", "e"), `{"lastReportedDateTime":"2024-01-31T09:30:00+01:60"}`, notDate("2024-01-31T09:30:00+01:60")},
		{"date year 0000", graph.V1, deviceStatus("p", "e"), `{"lastReportedDateTime":"0000-01-01T00:00:00Z"}`, notDate("0000-01-01T00:00:00Z")},
		{"date 7 fraction digits", graph.V1, deviceStatus("p", "e"), `{"complianceGracePeriodExpirationDateTime":"2024-01-31T09:30:00.1234567Z"}`, ""},
		// graph.Prop.CheckJSON, which the client uses too, takes .NET's 7 digits.
		{"date 8 fraction digits", graph.V1, deviceStatus("p", "e"), `{"lastReportedDateTime":"2024-01-31T09:30:00.12345678Z"}`, notDate("2024-01-31T09:30:00.12345678Z")},
		{"date 13 fraction digits", graph.V1, deviceStatus("p", "e"), `{"lastReportedDateTime":"2024-01-31T09:30:00.1234567890123Z"}`, notDate("2024-01-31T09:30:00.1234567890123Z")},
		{"date 29 February in leap year", graph.V1, deviceStatus("p", "e"), `{"lastReportedDateTime":"2024-02-29T00:00:00Z"}`, ""},
		{"date without zone", graph.V1, deviceStatus("p", "e"), `{"lastReportedDateTime":"2024-01-31T09:30:00"}`, notDate("2024-01-31T09:30:00")},
		{"date only", graph.V1, deviceStatus("p", "e"), `{"lastReportedDateTime":"2024-01-31"}`, notDate("2024-01-31")},
		{"date with space", graph.V1, deviceStatus("p", "e"), `{"lastReportedDateTime":"2024-01-31 09:30:00Z"}`, notDate("2024-01-31 09:30:00Z")},
		{"date 30 February", graph.V1, deviceStatus("p", "e"), `{"lastReportedDateTime":"2023-02-30T09:30:00Z"}`, notDate("2023-02-30T09:30:00Z")},
		{"date 29 February in common year", graph.V1, userStatus("p", "e"), `{"lastReportedDateTime":"2023-02-29T09:30:00Z"}`, notDate("2023-02-29T09:30:00Z")},
		{"date 31 April", graph.V1, deviceStatus("p", "e"), `{"lastReportedDateTime":"2024-04-31T09:30:00Z"}`, notDate("2024-04-31T09:30:00Z")},
		{"date month 13", graph.V1, deviceStatus("p", "e"), `{"lastReportedDateTime":"2024-13-01T09:30:00Z"}`, notDate("2024-13-01T09:30:00Z")},
		{"date hour 24", graph.V1, deviceStatus("p", "e"), `{"lastReportedDateTime":"2024-01-31T24:00:00Z"}`, notDate("2024-01-31T24:00:00Z")},
		{"date as number", graph.V1, deviceStatus("p", "e"), `{"lastReportedDateTime":1706693400}`, "Cannot convert"},

		{"int32 max", graph.Beta, userStatus("p", "e"), `{"devicesCount":2147483647}`, ""},
		{"int32 min", graph.Beta, deviceStatus("p", "e"), `{"platform":-2147483648}`, ""},
		{"int32 zero", graph.V1, userStatus("p", "e"), `{"devicesCount":0}`, ""},
		{"int32 max+1", graph.V1, userStatus("p", "e"), `{"devicesCount":2147483648}`, notInt("2147483648")},
		{"int32 min-1", graph.Beta, deviceStatus("p", "e"), `{"platform":-2147483649}`, notInt("-2147483649")},
		{"int32 fraction", graph.V1, userStatus("p", "e"), `{"devicesCount":1.5}`, notInt("1.5")},
		{"int32 as string", graph.V1, userStatus("p", "e"), `{"devicesCount":"5"}`, "Edm.Int32"},
		{"int32 as bool", graph.V1, userStatus("p", "e"), `{"devicesCount":true}`, "Edm.Int32"},

		{"null string", graph.V1, deviceStatus("p", "e"), `{"deviceDisplayName":null}`, ""},
		{"null user string", graph.Beta, userStatus("p", "e"), `{"userPrincipalName":null}`, ""},
		{"null enum", graph.V1, deviceStatus("p", "e"), `{"status":null}`, nullFor("status")},
		{"null date", graph.V1, deviceStatus("p", "e"), `{"lastReportedDateTime":null}`, nullFor("lastReportedDateTime")},
		{"null int32", graph.V1, userStatus("p", "e"), `{"devicesCount":null}`, nullFor("devicesCount")},
		{"null beta int32", graph.Beta, deviceStatus("p", "e"), `{"platform":null}`, nullFor("platform")},
		{"string as number", graph.V1, deviceStatus("p", "e"), `{"deviceDisplayName":5}`, "Edm.String"},
		{"string as object", graph.V1, deviceStatus("p", "e"), `{"deviceDisplayName":{"a":1}}`, "Edm.String"},

		{"unknown property", graph.V1, deviceStatus("p", "e"), `{"colour":"red"}`,
			"The property 'colour' does not exist on type 'microsoft.graph.deviceComplianceDeviceStatus'."},
		{"unknown property after a good one", graph.V1, userStatus("p", "e"), `{"status":"compliant","colour":"red"}`,
			"The property 'colour' does not exist on type 'microsoft.graph.deviceComplianceUserStatus'."},
		{"property of the other resource", graph.V1, deviceStatus("p", "e"), `{"devicesCount":1}`,
			"The property 'devicesCount' does not exist on type 'microsoft.graph.deviceComplianceDeviceStatus'."},
		{"odata.type of the entity", graph.V1, deviceStatus("p", "e"), `{"@odata.type":"#microsoft.graph.deviceComplianceDeviceStatus","status":"compliant"}`, ""},
		{"odata.type of user status", graph.Beta, userStatus("p", "e"), `{"@odata.type":"#microsoft.graph.deviceComplianceUserStatus","devicesCount":2}`, ""},
		{"odata.type of another entity", graph.V1, deviceStatus("p", "e"), `{"@odata.type":"#microsoft.graph.deviceComplianceUserStatus","status":"compliant"}`,
			"An entry with type 'microsoft.graph.deviceComplianceUserStatus' was found, but it is not assignable to the expected type 'microsoft.graph.deviceComplianceDeviceStatus'."},
		{"odata.type unknown", graph.V1, deviceStatus("p", "e"), `{"@odata.type":"#microsoft.graph.nothing","status":"compliant"}`,
			"A type named 'microsoft.graph.nothing' could not be resolved by the model."},
		{"two members of one name", graph.V1, deviceStatus("p", "e"), `{"status":"compliant","status":"error"}`,
			"Multiple properties with the name 'status' were detected"},
		{"property in other case", graph.V1, deviceStatus("p", "e"), `{"Status":"compliant"}`,
			"The property 'Status' does not exist on type 'microsoft.graph.deviceComplianceDeviceStatus'."},
		{"key property", graph.V1, deviceStatus("p", "e"), `{"id":"e"}`, "The property 'id' is read-only and cannot be set."},
		{"empty object", graph.V1, deviceStatus("p", "e"), `{}`, ""},
		{"body is an array", graph.V1, deviceStatus("p", "e"), `[{"status":"compliant"}]`, "JSON object"},
		{"body is a string", graph.V1, deviceStatus("p", "e"), `"status"`, "JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			emu := graphtest.New(graphtest.Options{})
			r := postOne(t, emu.Handler(), tt.version, patchItem("1", tt.path, tt.body))
			e, stored := emu.Entity(tt.version, tt.path)
			if tt.msg == "" {
				if r.Status != http.StatusOK {
					t.Fatalf("PATCH %s %s on %s = %d, want %d; body %s", tt.path, tt.body, tt.version, r.Status, http.StatusOK, r.Body)
				}
				if !stored {
					t.Fatalf("PATCH %s %s on %s = 200 but stored nothing", tt.path, tt.body, tt.version)
				}
				want := decodeObject(t, "request body", []byte(tt.body))
				delete(want, "@odata.type")
				if len(want) == 0 {
					want = map[string]any{}
				}
				if !reflect.DeepEqual(e.Properties, want) {
					t.Errorf("stored properties = %#v, want %#v", e.Properties, want)
				}
				return
			}
			if r.Status != http.StatusBadRequest {
				t.Fatalf("PATCH %s %s on %s = %d, want %d; body %s", tt.path, tt.body, tt.version, r.Status, http.StatusBadRequest, r.Body)
			}
			checkError(t, "PATCH "+tt.body, r.Body, "BadRequest", tt.msg, "")
			if stored {
				t.Errorf("PATCH %s %s on %s was refused but stored %v", tt.path, tt.body, tt.version, e)
			}
		})
	}
}

// TestPatchTargets checks PATCH bodies on targets beyond the seed
// resources, from the v1.0 metadata: derived types by @odata.type, JSON
// collections and complex values, nulls and read-only properties.
func TestPatchTargets(t *testing.T) {
	t.Parallel()
	const (
		policy  = "/deviceManagement/deviceCompliancePolicies/pol"
		win10   = `"@odata.type":"#microsoft.graph.windows10CompliancePolicy"`
		device  = "/deviceManagement/managedDevices/m1"
		user    = "/users/ann@contoso.com"
		ok204   = "204"
		noType  = "The property 'passwordRequired' does not exist on type 'microsoft.graph.deviceCompliancePolicy'."
		nullInt = "A null value was found for the property named 'deviceEnrollmentLimit', which has the expected type 'Edm.Int32[Nullable=False]'. The expected type 'Edm.Int32[Nullable=False]' does not allow null values."
	)
	tests := []struct {
		name, path, body string
		msg              string         // "" or ok204 if accepted; else a part of error.message
		stored           map[string]any // for an accepted PATCH: the stored properties
		typ              string         // and the stored type, if not the path's
	}{
		{"user strings", user, `{"displayName":"Ann","city":"Oslo"}`, ok204, map[string]any{"displayName": "Ann", "city": "Oslo"}, ""},
		{"user boolean", user, `{"accountEnabled":false}`, ok204, map[string]any{"accountEnabled": false}, ""},
		{"user businessPhones", user, `{"businessPhones":["+47 22 00 00 00"]}`, ok204, map[string]any{"businessPhones": []any{"+47 22 00 00 00"}}, ""},
		{"user businessPhones empty", user, `{"businessPhones":[]}`, ok204, map[string]any{"businessPhones": []any{}}, ""},
		{"user businessPhones not an array", user, `{"businessPhones":"+47"}`,
			"Cannot convert the value of the property 'businessPhones' to the expected type 'Collection(Edm.String)': the value is not a JSON array", nil, ""},
		{"user businessPhones of numbers", user, `{"businessPhones":[47]}`, "'Collection(Edm.String)': the value's item 1 is a number", nil, ""},
		{"user businessPhones null", user, `{"businessPhones":null}`,
			"A null value was found for the property named 'businessPhones', which has the expected type 'Collection(Edm.String)[Nullable=False]'.", nil, ""},
		{"user passwordProfile", user, `{"passwordProfile":{"forceChangePasswordNextSignIn":true,"password":"x"}}`, ok204,
			map[string]any{"passwordProfile": map[string]any{"forceChangePasswordNextSignIn": true, "password": "x"}}, ""},
		{"user passwordProfile unknown member", user, `{"passwordProfile":{"colour":"red"}}`, "has member \"colour\"", nil, ""},
		{"user passwordProfile member in other case", user, `{"passwordProfile":{"Password":"x"}}`,
			"The property 'Password' does not exist on type 'microsoft.graph.passwordProfile'.", nil, ""},
		{"user null on a nullable property", user, `{"city":null}`, ok204, map[string]any{"city": nil}, ""},
		{"user null on a non-nullable property", user, `{"deviceEnrollmentLimit":null}`, nullInt, nil, ""},
		{"user unknown property", user, `{"colour":"red"}`,
			"The property 'colour' does not exist on type 'microsoft.graph.user'. Make sure to only use property names that are defined by the type or mark the type as open type.", nil, ""},
		{"user directory extension", user, `{"extension_0a1b_costCentre":"42"}`, ok204, map[string]any{"extension_0a1b_costCentre": "42"}, ""},
		{"user id", user, `{"id":"other"}`, "The property 'id' is read-only and cannot be set.", nil, ""},
		{"managed device owner type", device, `{"managedDeviceOwnerType":"company"}`, "", map[string]any{"managedDeviceOwnerType": "company"}, ""},
		{"managed device owner type in other case", device, `{"managedDeviceOwnerType":"Company"}`, "Requested value 'Company' was not found.", nil, ""},
		{"managed device read-only name", device, `{"deviceName":"x"}`, "The property 'deviceName' is read-only and cannot be set.", nil, ""},
		{"policy base property", policy, `{"description":"d"}`, "", map[string]any{"description": "d"}, ""},
		{"policy derived property with its type", policy, `{` + win10 + `,"passwordRequired":true}`, "",
			map[string]any{"passwordRequired": true}, "microsoft.graph.windows10CompliancePolicy"},
		{"policy derived property without a type", policy, `{"passwordRequired":true}`, noType, nil, ""},
		{"policy derived property with the base type", policy, `{"@odata.type":"#microsoft.graph.deviceCompliancePolicy","passwordRequired":true}`, noType, nil, ""},
		{"policy derived enum", policy, `{` + win10 + `,"passwordRequiredType":"alphanumeric"}`, "",
			map[string]any{"passwordRequiredType": "alphanumeric"}, "microsoft.graph.windows10CompliancePolicy"},
		{"policy derived null", policy, `{` + win10 + `,"passwordRequired":null}`, "A null value was found for the property named 'passwordRequired'", nil, ""},
		{"policy type of another entity", policy, `{"@odata.type":"#microsoft.graph.user"}`,
			"An entry with type 'microsoft.graph.user' was found, but it is not assignable to the expected type 'microsoft.graph.deviceCompliancePolicy'.", nil, ""},
		{"policy type not a string", policy, `{"@odata.type":7}`, "A type named '7' could not be resolved by the model.", nil, ""},
		{"policy type by alias", policy, `{"@odata.type":"#graph.iosCompliancePolicy","passcodeRequired":true}`, "",
			map[string]any{"passcodeRequired": true}, "microsoft.graph.iosCompliancePolicy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			emu := graphtest.New(graphtest.Options{})
			r := postOne(t, emu.Handler(), graph.V1, patchItem("1", tt.path, tt.body))
			e, stored := emu.Entity(graph.V1, tt.path)
			if tt.msg != "" && tt.msg != ok204 {
				if r.Status != http.StatusBadRequest {
					t.Fatalf("PATCH %s %s = %d, want 400; body %s", tt.path, tt.body, r.Status, r.Body)
				}
				checkError(t, "PATCH "+tt.body, r.Body, "BadRequest", tt.msg, "")
				if stored {
					t.Errorf("PATCH %s %s was refused but stored %+v", tt.path, tt.body, e)
				}
				return
			}
			want := http.StatusOK
			if tt.msg == ok204 {
				want = http.StatusNoContent
			}
			if r.Status != want || want == http.StatusNoContent && len(r.Body) != 0 {
				t.Fatalf("PATCH %s %s = %d, want %d; body %s", tt.path, tt.body, r.Status, want, r.Body)
			}
			if !stored || !reflect.DeepEqual(e.Properties, tt.stored) || e.Patches != 1 {
				t.Errorf("PATCH %s %s stored %+v, %v; want properties %v, 1 patch", tt.path, tt.body, e, stored, tt.stored)
			}
			if tt.typ != "" && e.Type != tt.typ {
				t.Errorf("PATCH %s %s stored type %q, want %q", tt.path, tt.body, e.Type, tt.typ)
			}
		})
	}
}

// TestPatchKeepsDerivedType checks that a PATCH without @odata.type on an
// entity of a derived type keeps its type, reads the body as the path's
// type, and that a sibling type is refused.
func TestPatchKeepsDerivedType(t *testing.T) {
	t.Parallel()
	emu := graphtest.New(graphtest.Options{})
	const policy = "/deviceManagement/deviceCompliancePolicies/pol"
	steps := []struct {
		body   string
		status int
	}{
		{`{"@odata.type":"#microsoft.graph.windows10CompliancePolicy","bitLockerEnabled":true}`, http.StatusOK},
		{`{"displayName":"Windows"}`, http.StatusOK},
		{`{"bitLockerEnabled":false}`, http.StatusBadRequest},
		{`{"@odata.type":"#microsoft.graph.iosCompliancePolicy","passcodeRequired":true}`, http.StatusBadRequest},
	}
	for _, st := range steps {
		if r := postOne(t, emu.Handler(), graph.V1, patchItem("1", policy, st.body)); r.Status != st.status {
			t.Errorf("PATCH %s %s = %d, want %d; body %s", policy, st.body, r.Status, st.status, r.Body)
		}
	}
	e, _ := emu.Entity(graph.V1, policy)
	want := map[string]any{"bitLockerEnabled": true, "displayName": "Windows"}
	if e.Type != "microsoft.graph.windows10CompliancePolicy" || !reflect.DeepEqual(e.Properties, want) || e.Patches != 2 {
		t.Errorf("Entity = %+v, want type windows10CompliancePolicy, properties %v, 2 patches", e, want)
	}
}

// TestDirectPatch checks PATCH sent straight to an entity path.
func TestDirectPatch(t *testing.T) {
	t.Parallel()
	emu := graphtest.New(graphtest.Options{})
	h := emu.Handler()
	path := "/v1.0" + userStatus("p/1", "u?1")
	header := map[string]string{"Content-Type": jsonType}

	w := send(t, h, http.MethodPatch, path, header, `{"devicesCount":2,"status":"error"}`)
	if w.Code != http.StatusOK {
		t.Fatalf("PATCH %s = %d, want %d; body %s", path, w.Code, http.StatusOK, w.Body)
	}
	w = send(t, h, http.MethodPatch, path, header, `{"userDisplayName":"Ann"}`)
	if w.Code != http.StatusOK {
		t.Fatalf("PATCH %s = %d, want %d; body %s", path, w.Code, http.StatusOK, w.Body)
	}
	want := map[string]any{"devicesCount": json.Number("2"), "status": "error", "userDisplayName": "Ann"}
	if got := decodeObject(t, "PATCH answer", w.Body.Bytes()); !reflect.DeepEqual(got, userStatusJSON("u?1", want)) {
		t.Errorf("PATCH %s answered %v, want %v", path, got, userStatusJSON("u?1", want))
	}
	e, ok := emu.Entity(graph.V1, userStatus("p/1", "u?1"))
	if !ok || e.Patches != 2 || !reflect.DeepEqual(e.Properties, want) {
		t.Errorf("Entity(v1.0, %q) = %+v, %v; want properties %v, 2 patches", userStatus("p/1", "u?1"), e, ok, want)
	}

	w = send(t, h, http.MethodPatch, path, header, `{"status":"Error"}`)
	if w.Code != http.StatusBadRequest {
		t.Fatalf("PATCH %s {status:Error} = %d, want %d; body %s", path, w.Code, http.StatusBadRequest, w.Body)
	}
	checkError(t, "PATCH "+path, w.Body.Bytes(), "BadRequest", "Requested value 'Error' was not found.", "")
}

// TestDirectPatchRefused checks that a PATCH sent straight to an entity
// path with a body Graph refuses answers 400 and changes nothing.
func TestDirectPatchRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
	}{
		{"beta-only property", `{"platform":1}`},
		{"no body", ``},
		{"cut short", `{"status":"compliant"`},
		{"array", `[]`},
		{"two JSON values", `{"status":"compliant"}}`},
		{"text after the object", `{"status":"compliant"} x`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			emu := graphtest.New(graphtest.Options{})
			path := "/v1.0" + deviceStatus("p", "d")
			w := send(t, emu.Handler(), http.MethodPatch, path, map[string]string{"Content-Type": jsonType}, tt.body)
			if w.Code != http.StatusBadRequest {
				t.Errorf("PATCH %s %s = %d, want %d; body %s", path, tt.body, w.Code, http.StatusBadRequest, w.Body)
			} else {
				checkError(t, "PATCH "+path+" "+tt.body, w.Body.Bytes(), "BadRequest", "", "")
			}
			if e, ok := emu.Entity(graph.V1, deviceStatus("p", "d")); ok {
				t.Errorf("PATCH %s %s stored %+v", path, tt.body, e)
			}
		})
	}
}
