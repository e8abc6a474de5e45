package graph

import "fmt"

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
