package graph_test

import (
	"strings"
	"testing"

	"github.com/graphbatch/graphbatch/graph"
)

func TestLookupCloud(t *testing.T) {
	t.Parallel()
	// From graph-batch.md §5: Graph roots, authorities and .default scopes.
	tests := []struct {
		name, graphRoot, authority, scope string
	}{
		{"global", "https://graph.microsoft.com", "https://login.microsoftonline.com", "https://graph.microsoft.com/.default"},
		{"usgov", "https://graph.microsoft.us", "https://login.microsoftonline.us", "https://graph.microsoft.us/.default"},
		{"usgovdod", "https://dod-graph.microsoft.us", "https://login.microsoftonline.us", "https://dod-graph.microsoft.us/.default"},
		{"china", "https://microsoftgraph.chinacloudapi.cn", "https://login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn/.default"},
	}
	for _, tt := range tests {
		c, err := graph.LookupCloud(tt.name)
		if err != nil {
			t.Errorf("LookupCloud(%q) error: %v", tt.name, err)
			continue
		}
		got := [4]string{c.Name, c.GraphRoot, c.AuthorityHost, c.Scope()}
		if want := [4]string{tt.name, tt.graphRoot, tt.authority, tt.scope}; got != want {
			t.Errorf("LookupCloud(%q) = name, root, authority, scope %q; want %q", tt.name, got, want)
		}
	}
	for _, name := range []string{"", "azure", "Global", "usgov-high"} {
		if c, err := graph.LookupCloud(name); err == nil || !strings.Contains(err.Error(), "usgovdod") {
			t.Errorf("LookupCloud(%q) = %+v, %v; want an error listing the clouds", name, c, err)
		}
	}
}

func TestIsKnownAuthorityHost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		host string
		want bool
	}{
		{"https://login.microsoftonline.com", true},
		{"https://login.microsoftonline.com/", true},
		{"https://login.microsoftonline.us", true},
		{"https://login.chinacloudapi.cn/", true},
		{"https://127.0.0.1:8443", false},
		{"https://127.0.0.1:8443/", false},
		{"https://login.microsoftonline.com.evil.example", false},
		{"https://evil.example/login.microsoftonline.com", false},
		{"login.microsoftonline.com", false},
		{"", false},
		{"%zz", false},
	}
	for _, tt := range tests {
		if got := graph.IsKnownAuthorityHost(tt.host); got != tt.want {
			t.Errorf("IsKnownAuthorityHost(%q) = %v, want %v", tt.host, got, tt.want)
		}
	}
}

func TestCheckRoot(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string // want "" for an error
	}{
		{"https://graph.microsoft.com", "https://graph.microsoft.com"},
		{"https://graph.microsoft.com/", "https://graph.microsoft.com"},
		{"https://127.0.0.1:8443", "https://127.0.0.1:8443"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"}, // an emulator without TLS
		{"http://127.8.9.10:8080", "http://127.8.9.10:8080"},
		{"http://localhost:8080", "http://localhost:8080"},
		{"http://[::1]:8080", "http://[::1]:8080"},
		{"http://graph.microsoft.com", ""}, // a token in clear over the network (issue #10.7)
		{"http://anyhost:8080", ""},
		{"http://10.0.0.5", ""},
		{"http://127.0.0.1.nip.io", ""},
		{"http://localhost.evil.com", ""},
		{"https://graph.microsoft.com/v1.0", ""},
		{"https://graph.microsoft.com/v1.0/", ""},
		{"https://login.microsoftonline.com/contoso", ""},
		{"https://graph.microsoft.com?x=1", ""},
		{"https://graph.microsoft.com/#top", ""},
		{"https://user:password@graph.microsoft.com", ""},
		{"ftp://graph.microsoft.com", ""},
		{"graph.microsoft.com", ""},
		{"//graph.microsoft.com", ""},
		{"https://", ""},
		{"", ""},
		{"https://graph.microsoft.com:port", ""},
	}
	for _, tt := range tests {
		got, err := graph.CheckRoot(tt.in)
		switch {
		case tt.want == "" && err == nil:
			t.Errorf("CheckRoot(%q) = %q, nil; want an error", tt.in, got)
		case tt.want != "" && (err != nil || got != tt.want):
			t.Errorf("CheckRoot(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
