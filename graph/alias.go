package graph

import (
	"fmt"
	"strings"
)

// Alias is a short name for a path template (README, "Targets"): the two seed
// resources graphbatch started with, and the targets admins use most.
type Alias struct {
	Name     string
	Template string
	About    string // what it is, for people
}

// Aliases lists every alias, in the order help shows them.
var Aliases = []Alias{
	{"device-statuses", "/deviceManagement/deviceCompliancePolicies/{policyId}/deviceStatuses/{id}", "a device's status for one compliance policy (Intune)"},
	{"user-statuses", "/deviceManagement/deviceCompliancePolicies/{policyId}/userStatuses/{id}", "a user's status for one compliance policy (Intune)"},
	{"users", "/users/{id}", "users (Microsoft Entra ID); id may be the user principal name"},
	{"groups", "/groups/{id}", "groups (Microsoft Entra ID)"},
	{"devices", "/devices/{id}", "device objects (Microsoft Entra ID)"},
	{"managed-devices", "/deviceManagement/managedDevices/{id}", "devices Intune manages"},
	{"compliance-policies", "/deviceManagement/deviceCompliancePolicies/{id}", "device compliance policies (Intune); derived types by @odata.type"},
	{"device-configurations", "/deviceManagement/deviceConfigurations/{id}", "device configuration profiles (Intune); derived types by @odata.type"},
}

// LookupAlias returns the alias called name, or nil.
func LookupAlias(name string) *Alias {
	for i := range Aliases {
		if Aliases[i].Name == name {
			return &Aliases[i]
		}
	}
	return nil
}

// OpenTarget resolves name, an alias or a path template, against m, the
// metadata of API version v. An unknown alias, or a template that does
// not resolve, is an error naming the nearest valid names.
func OpenTarget(name string, m *Model, v Version) (*Target, error) {
	template, alias := name, ""
	if a := LookupAlias(name); a != nil {
		template, alias = a.Template, a.Name
	} else if !strings.HasPrefix(name, "/") {
		names := make([]string, len(Aliases))
		for i, a := range Aliases {
			names[i] = a.Name
		}
		msg := fmt.Sprintf("unknown target %s: give an alias (%s) or a path template such as '/users/{id}'", Quote(name), strings.Join(names, ", "))
		if near := nearest(name, names); len(near) > 0 {
			msg += "; did you mean " + near[0] + "?"
		}
		return nil, fmt.Errorf("%s", msg)
	}
	t, err := m.Resolve(template)
	if err != nil {
		return nil, err
	}
	t.Alias, t.Version = alias, v
	return t, nil
}

// Name is how people call t: its alias, or its template.
func (t *Target) Name() string {
	if t.Alias != "" {
		return t.Alias
	}
	return t.Template
}
