package graph

import (
	"fmt"
	"strings"
	"time"
)

// Limit is a documented throttling limit: N requests in any window of Per.
type Limit struct {
	N   int
	Per time.Duration
}

func (l Limit) String() string { return fmt.Sprintf("%d/%s", l.N, l.Per) }

// Profile is what Graph documents of one service's throttling, per app and
// tenant: how many writes, and how many requests of any kind (reads and
// writes together), it takes in a window. From Microsoft's "Microsoft
// Graph service-specific throttling limits" (learn.microsoft.com/graph/
// throttling-limits, revision of 2026-02-06).
type Profile struct {
	Service string // the section of that page
	Write   Limit  // POST, PUT, PATCH, DELETE per app per tenant
	Any     Limit  // requests of any kind per app per tenant
	Source  string // where the numbers come from, for people
	Known   bool   // false for the conservative default of an undocumented service
}

// ReadLimit is what reads may use without taking the writes' share of the
// "any request" limit: Any less Write, over Any's window.
func (p Profile) ReadLimit() Limit { return p.ReadLimitBeside(p.Write) }

// ReadLimitBeside is what reads may use beside writes sent at write (a
// --rate of the user's): Any less write, over Any's window, at least one.
func (p Profile) ReadLimitBeside(write Limit) Limit {
	if write.N == 0 || write.Per <= 0 {
		return p.Any
	}
	writes := float64(write.N) * float64(p.Any.Per) / float64(write.Per)
	return Limit{N: max(1, p.Any.N-int(writes)), Per: p.Any.Per}
}

// The profiles of the services graphbatch's targets belong to.
var (
	IntuneDeviceConfiguration = Profile{
		Service: "Intune device configuration",
		Write:   Limit{100, 20 * time.Second},
		Any:     Limit{1000, 20 * time.Second},
		Source:  `"Intune device configuration service limits": 100 writes and 1,000 requests per 20 s per app and tenant`,
		Known:   true,
	}
	IntuneDevices = Profile{
		Service: "Intune devices",
		Write:   Limit{200, 20 * time.Second},
		Any:     Limit{2000, 20 * time.Second},
		Source:  `"Intune devices service limits": 200 writes and 2,000 requests per 20 s per app and tenant`,
		Known:   true,
	}
	Intune = Profile{
		Service: "Intune",
		Write:   Limit{100, 20 * time.Second},
		Any:     Limit{1000, 20 * time.Second},
		Source:  `the Intune service limits (enrollment, applications, RBAC and the others): 100 writes and 1,000 requests per 20 s per app and tenant`,
		Known:   true,
	}
	// Directory is Microsoft Entra ID's: a write quota of 3,000 per 2 min
	// 30 s (20 a second, paced here as 200 per 10 s), and 3,500 resource
	// units per 10 s for the smallest tenants, a PATCH or a GET with
	// $select costing one.
	Directory = Profile{
		Service: "Identity and access (directory)",
		Write:   Limit{200, 10 * time.Second},
		Any:     Limit{3500, 10 * time.Second},
		Source:  `"Identity and access service limits": 3,000 writes per 2 min 30 s, and 3,500 resource units per 10 s (tenants under 50 users), per app and tenant`,
		Known:   true,
	}
	// Conservative is for targets in no documented service: Intune's
	// limits, the lowest Graph documents for writes to objects.
	Conservative = Profile{
		Service: "undocumented",
		Write:   Limit{100, 20 * time.Second},
		Any:     Limit{1000, 20 * time.Second},
		Source:  "no documented limit for this target's service: a conservative 100 writes and 1,000 requests per 20 s",
	}
)

// serviceTypes names, for the Intune services with limits of their own,
// the entity types their sections list, by short name. A type derived from
// one (windows10CompliancePolicy from deviceCompliancePolicy) belongs to
// the same service.
var serviceTypes = []struct {
	profile *Profile
	types   []string
}{
	{&IntuneDevices, []string{"managedDevice", "detectedApp", "deviceHealthScript", "deviceManagementScript", "deviceShellScript",
		"deviceComplianceScript", "deviceCustomAttributeShellScript", "windowsMalwareInformation", "remoteActionAudit"}},
	{&IntuneDeviceConfiguration, []string{"deviceCompliancePolicy", "deviceComplianceDeviceStatus", "deviceComplianceUserStatus",
		"deviceConfiguration", "deviceConfigurationDeviceStatus", "deviceConfigurationUserStatus", "deviceManagement",
		"deviceCompliancePolicyAssignment", "deviceConfigurationAssignment", "deviceCompliancePolicyState", "deviceConfigurationState"}},
}

// Profile returns the throttling profile of the service t belongs to; see
// ProfileOf.
func (t *Target) Profile() Profile { return ProfileOf(t.Type, t.Template) }

// ProfileOf returns the throttling profile of the service that serves
// entities of type typ at path, a path or a template relative to the
// version root (such as "/users/{id}" or "/deviceManagement/managedDevices"):
// by the type, or a type it derives from, for the Intune services the
// documentation lists; the directory for directory objects; Intune's for
// anything else under /deviceManagement or /deviceAppManagement; and
// Conservative otherwise. typ may be nil (only the path counts then).
func ProfileOf(typ *DataType, path string) Profile {
	for _, s := range serviceTypes {
		for _, name := range s.types {
			for t := typ; t != nil; t = t.Base {
				if t.ShortName() == name {
					return *s.profile
				}
			}
		}
	}
	for t := typ; t != nil; t = t.Base {
		if t.Name == "microsoft.graph.directoryObject" {
			return Directory
		}
	}
	if strings.HasPrefix(path, "/deviceManagement/") || strings.HasPrefix(path, "/deviceAppManagement/") {
		return Intune
	}
	return Conservative
}

// permissions names, by entity type, the Graph application permission a
// PATCH needs.
var permissions = map[string]string{
	"microsoft.graph.user":                         "User.ReadWrite.All",
	"microsoft.graph.group":                        "Group.ReadWrite.All",
	"microsoft.graph.device":                       "Device.ReadWrite.All",
	"microsoft.graph.application":                  "Application.ReadWrite.All",
	"microsoft.graph.servicePrincipal":             "Application.ReadWrite.All",
	"microsoft.graph.managedDevice":                "DeviceManagementManagedDevices.ReadWrite.All",
	"microsoft.graph.deviceCompliancePolicy":       "DeviceManagementConfiguration.ReadWrite.All",
	"microsoft.graph.deviceConfiguration":          "DeviceManagementConfiguration.ReadWrite.All",
	"microsoft.graph.deviceComplianceDeviceStatus": "DeviceManagementConfiguration.ReadWrite.All",
	"microsoft.graph.deviceComplianceUserStatus":   "DeviceManagementConfiguration.ReadWrite.All",
}

// Permission returns the Graph application permission a PATCH on t needs,
// or "" when graphbatch does not know it.
func (t *Target) Permission() string {
	for typ := t.Type; typ != nil; typ = typ.Base {
		if p := permissions[typ.Name]; p != "" {
			return p
		}
	}
	return ""
}
