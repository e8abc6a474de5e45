package graph

import (
	"errors"
	"fmt"
)

// ValueError says which column of a row holds a value Graph would refuse.
type ValueError struct {
	Column string
	Value  string
	Err    error
}

func (e *ValueError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("column %s %v", e.Column, e.Err)
	}
	return fmt.Sprintf("column %s: %q %v", e.Column, e.Value, e.Err)
}

func (e *ValueError) Unwrap() error { return e.Err }

// ErrNoProperty is returned for a row whose property cells are all empty:
// an empty cell means "leave alone", so such a row would change nothing.
var ErrNoProperty = errors.New("no property to set: every property column is empty")

// Patch is one validated row: where its PATCH goes and what it sets.
type Patch struct {
	URL  string // path relative to {root}/{version}, keys escaped
	Body []byte // a JSON object with one member per non-empty cell
}

// NewPatch validates one row and turns it into a Patch. values holds one
// cell per s.Properties, "" for "leave alone". The error is a *ValueError
// naming the first bad column, or ErrNoProperty.
func (s *Schema) NewPatch(policyID, id string, values []string) (Patch, error) {
	size := 2
	for i, v := range values {
		if i < len(s.Properties) && v != "" {
			size += len(s.Properties[i].Name) + len(v) + 8
		}
	}
	body, err := s.Validate(make([]byte, 0, size), policyID, id, values)
	if err != nil {
		return Patch{}, err
	}
	return Patch{URL: s.Resource.Path(policyID, id), Body: body}, nil
}

// Validate checks one row as NewPatch does, without building its Patch: it
// appends the body to buf, which the caller may reuse for the next row.
func (s *Schema) Validate(buf []byte, policyID, id string, values []string) ([]byte, error) {
	if err := CheckKey(policyID); err != nil {
		return buf, &ValueError{Column: PolicyIDColumn, Value: policyID, Err: err}
	}
	if err := CheckKey(id); err != nil {
		return buf, &ValueError{Column: IDColumn, Value: id, Err: err}
	}
	return s.AppendBody(buf, values)
}

// AppendBody appends the JSON PATCH body for values to dst.
func (s *Schema) AppendBody(dst []byte, values []string) ([]byte, error) {
	if len(values) != len(s.Properties) {
		return dst, fmt.Errorf("graph: %d values for %d properties", len(values), len(s.Properties))
	}
	start := len(dst)
	dst = append(dst, '{')
	for i, p := range s.Properties {
		cell := values[i]
		if cell == "" {
			continue
		}
		if len(dst) > start+1 {
			dst = append(dst, ',')
		}
		dst = AppendJSONString(dst, p.Name)
		dst = append(dst, ':')
		var err error
		if dst, err = p.Type.AppendJSON(dst, cell); err != nil {
			return dst[:start], &ValueError{Column: p.Name, Value: cell, Err: err}
		}
	}
	if len(dst) == start+1 {
		return dst[:start], ErrNoProperty
	}
	return append(dst, '}'), nil
}
