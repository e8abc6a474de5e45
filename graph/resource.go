// Package graph speaks the small part of Microsoft Graph that graphbatch needs:
// the national clouds (Graph root, login host, token scope), resource schemas
// taken from Graph's official metadata, the JSON $batch wire format, Graph's
// error shape and Retry-After, and a client that sends one envelope at a time
// with the bearer token a TokenSource gives.
//
// Signing in lives in package signin; retrying, pacing and per-row
// bookkeeping in package batch. This package only says what Graph answered.
package graph

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Version is a Graph API version, the first path segment after the root.
type Version string

// The API versions graphbatch supports.
const (
	V1   Version = "v1.0"
	Beta Version = "beta"
)

// Versions lists every supported API version.
var Versions = []Version{V1, Beta}

// ParseVersion returns the Version named by s.
func ParseVersion(s string) (Version, error) {
	for _, v := range Versions {
		if string(v) == s {
			return v, nil
		}
	}
	return "", fmt.Errorf("unknown API version %q (want v1.0 or beta)", s)
}

// Key column names every resource has: the parent policy and the entity.
const (
	PolicyIDColumn = "policyId"
	IDColumn       = "id"
)

// Permission is the Graph permission both Intune status resources need.
const Permission = "DeviceManagementConfiguration.ReadWrite.All"

// Property is one writable property of a Graph entity type.
type Property struct {
	Name string // Graph's spelling, also the CSV column name
	Type *Type
	// Only, when set, restricts the property to one API version
	// (platform on beta device statuses).
	Only Version
}

// A Resource is one kind of Graph entity graphbatch can PATCH, reached as
// {Parent}/{policyId}/{Collection}/{id}. Its properties come from Graph's
// official metadata (msgraph-metadata's v1.0 and beta CSDL): every
// property of the entity type, as none is marked computed or read-only.
type Resource struct {
	Name       string // the RESOURCE argument, e.g. "device-statuses"
	Entity     string // Graph entity type, e.g. "deviceComplianceDeviceStatus"
	Parent     string // path of the parent collection, e.g. "/deviceManagement/deviceCompliancePolicies"
	Collection string // navigation property under the parent, e.g. "deviceStatuses"
	Permission string // Graph permission a PATCH needs
	Properties []Property
	// WriteLimit is the documented write limit per app and tenant: at most
	// N PATCHes in any window of Per.
	WriteLimit WriteLimit
}

// WriteLimit is a documented throttling limit: N writes in any window of Per.
type WriteLimit struct {
	N   int
	Per time.Duration
}

// intuneDeviceConfiguration is the write limit of Intune's device
// configuration service per app and tenant (Graph throttling limits,
// "Intune device configuration service limits").
var intuneDeviceConfiguration = WriteLimit{N: 100, Per: 20 * time.Second}

// Resources lists every resource graphbatch knows, in the order help shows them.
// Adding a resource is one more entry here.
var Resources = []*Resource{
	{
		Name:       "device-statuses",
		Entity:     "deviceComplianceDeviceStatus",
		Parent:     "/deviceManagement/deviceCompliancePolicies",
		Collection: "deviceStatuses",
		Permission: Permission,
		WriteLimit: intuneDeviceConfiguration,
		Properties: []Property{
			{Name: "complianceGracePeriodExpirationDateTime", Type: DateTimeOffset},
			{Name: "deviceDisplayName", Type: String},
			{Name: "deviceModel", Type: String},
			{Name: "lastReportedDateTime", Type: DateTimeOffset},
			{Name: "platform", Type: Int32, Only: Beta},
			{Name: "status", Type: ComplianceStatus},
			{Name: "userName", Type: String},
			{Name: "userPrincipalName", Type: String},
		},
	},
	{
		Name:       "user-statuses",
		Entity:     "deviceComplianceUserStatus",
		Parent:     "/deviceManagement/deviceCompliancePolicies",
		Collection: "userStatuses",
		Permission: Permission,
		WriteLimit: intuneDeviceConfiguration,
		Properties: []Property{
			{Name: "devicesCount", Type: Int32},
			{Name: "lastReportedDateTime", Type: DateTimeOffset},
			{Name: "status", Type: ComplianceStatus},
			{Name: "userDisplayName", Type: String},
			{Name: "userPrincipalName", Type: String},
		},
	},
}

// LookupResource returns the resource called name.
func LookupResource(name string) (*Resource, error) {
	for _, r := range Resources {
		if r.Name == name {
			return r, nil
		}
	}
	names := make([]string, len(Resources))
	for i, r := range Resources {
		names[i] = r.Name
	}
	return nil, fmt.Errorf("unknown resource %q (one of: %s)", name, strings.Join(names, ", "))
}

// PropertiesOf returns the properties r has in API version v.
func (r *Resource) PropertiesOf(v Version) []Property {
	var props []Property
	for _, p := range r.Properties {
		if p.Only == "" || p.Only == v {
			props = append(props, p)
		}
	}
	return props
}

// Versions returns the API versions property p exists in.
func (p Property) Versions() []Version {
	if p.Only != "" {
		return []Version{p.Only}
	}
	return Versions
}

// PathTemplate returns the entity path with {policyId} and {id} in place
// of the keys, for people to read.
func (r *Resource) PathTemplate() string {
	return r.Parent + "/{policyId}/" + r.Collection + "/{id}"
}

// Path returns the URL path, relative to {root}/{version}, of one entity.
// Keys are untrusted CSV values: each is escaped as a single path segment, so
// no key can add a segment, a query or a fragment. Callers must first reject
// keys that CheckKey refuses.
func (r *Resource) Path(policyID, id string) string {
	return r.Parent + "/" + url.PathEscape(policyID) + "/" + r.Collection + "/" + url.PathEscape(id)
}

// errDotKey is why "." and ".." are refused. Like CheckKey's other errors
// it does not repeat the key: ValueError shows it before the reason.
var errDotKey = errors.New("is not a valid key: a path segment of dots would change which URL is called")

// CheckKey reports why s cannot be used as a key segment, or nil.
// Escaping already keeps "/", "?" and "#" inside the segment; "." and ".."
// are refused because servers and proxies resolve them as relative segments.
func CheckKey(s string) error {
	switch s {
	case "":
		return errEmpty
	case ".", "..":
		return errDotKey
	}
	for i := 0; i < len(s); i++ { // control characters are ASCII: bytes suffice
		if c := s[i]; c < 0x20 || c == 0x7f {
			return fmt.Errorf("contains a control character (%U at byte %d)", c, i)
		}
	}
	return nil
}

// Schema is a resource bound to one API version: the CSV columns it accepts
// and how a row of cells becomes a PATCH body.
type Schema struct {
	Resource   *Resource
	Version    Version
	Properties []Property
}

// NewSchema binds r to API version v.
func NewSchema(r *Resource, v Version) *Schema {
	return &Schema{Resource: r, Version: v, Properties: r.PropertiesOf(v)}
}

// Columns returns every column a CSV for s may have: the two keys, then the
// properties in Graph's (alphabetical) order.
func (s *Schema) Columns() []string {
	cols := []string{PolicyIDColumn, IDColumn}
	for _, p := range s.Properties {
		cols = append(cols, p.Name)
	}
	return cols
}
