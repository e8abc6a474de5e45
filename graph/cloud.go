package graph

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"
)

// Cloud is one Microsoft Graph deployment: where Graph is, where tokens
// come from, and the scope a token for it must name.
type Cloud struct {
	Name          string // as --cloud takes it
	GraphRoot     string // Graph's service root, no version
	AuthorityHost string // Microsoft Entra ID's login host for the cloud
}

// Scope is the app-only scope for the cloud's Graph: tokens are not
// interchangeable between clouds, so the scope names the cloud's own host.
func (c Cloud) Scope() string { return c.GraphRoot + "/.default" }

// Clouds lists the national clouds graphbatch knows, from Graph's
// "National cloud deployments" page. Microsoft 365 GCC (moderate) uses the
// global cloud.
var Clouds = []Cloud{
	{Name: "global", GraphRoot: "https://graph.microsoft.com", AuthorityHost: "https://login.microsoftonline.com"},
	{Name: "usgov", GraphRoot: "https://graph.microsoft.us", AuthorityHost: "https://login.microsoftonline.us"},
	{Name: "usgovdod", GraphRoot: "https://dod-graph.microsoft.us", AuthorityHost: "https://login.microsoftonline.us"},
	{Name: "china", GraphRoot: "https://microsoftgraph.chinacloudapi.cn", AuthorityHost: "https://login.chinacloudapi.cn"},
}

// LookupCloud returns the cloud called name.
func LookupCloud(name string) (Cloud, error) {
	names := make([]string, len(Clouds))
	for i, c := range Clouds {
		if c.Name == name {
			return c, nil
		}
		names[i] = c.Name
	}
	return Cloud{}, fmt.Errorf("unknown cloud %q (one of: %s)", name, strings.Join(names, ", "))
}

// IsKnownAuthorityHost reports whether host is the login host of a known
// cloud, which MSAL may validate through instance discovery. Any other
// host (a private cloud, an emulator) must skip it.
func IsKnownAuthorityHost(host string) bool {
	u, err := url.Parse(strings.TrimRight(host, "/"))
	if err != nil {
		return false
	}
	for _, c := range Clouds {
		if k, _ := url.Parse(c.AuthorityHost); k.Host == u.Host {
			return true
		}
	}
	return false
}

// CheckRoot checks a Graph root or authority host given by the user:
// scheme and host, optionally a port, and nothing else.
func CheckRoot(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("%q is not a URL like https://host[:port]", s)
	}
	if u.User != nil {
		return "", fmt.Errorf("a URL with a user or password is refused: credentials go in AZURE_* variables")
	}
	if p := strings.TrimRight(u.Path, "/"); p != "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%q must be scheme://host[:port] only, without a path (the API version is added by graphbatch)", s)
	}
	if u.Scheme == "http" && !loopback(u.Hostname()) {
		return "", fmt.Errorf("%q is plain http to another machine: tokens and data would cross the network unencrypted; use https (http is accepted for loopback hosts only, such as an emulator on 127.0.0.1)", s)
	}
	return u.Scheme + "://" + u.Host, nil
}

// loopback reports whether host names this machine: localhost, or a
// loopback address.
func loopback(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}
