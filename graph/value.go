package graph

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A Type is the metadata type of a property: how a CSV cell is checked and
// written as JSON.
type Type struct {
	Name    string   // the type's name in Graph's metadata
	Members []string // enum members in Graph's spelling; nil unless an enum
	// appendJSON appends the JSON form of cell, or says why cell is not a value of the type.
	appendJSON func(dst []byte, t *Type, cell string) ([]byte, error)
}

// The property types of the supported resources.
var (
	String         = &Type{Name: "Edm.String", appendJSON: appendStringValue}
	Int32          = &Type{Name: "Edm.Int32", appendJSON: appendInt32Value}
	DateTimeOffset = &Type{Name: "Edm.DateTimeOffset", appendJSON: appendDateTimeValue}
	// ComplianceStatus is microsoft.graph.complianceStatus, identical in v1.0 and beta.
	ComplianceStatus = &Type{
		Name:       "microsoft.graph.complianceStatus",
		Members:    []string{"unknown", "notApplicable", "compliant", "remediated", "nonCompliant", "error", "conflict", "notAssigned"},
		appendJSON: appendEnumValue,
	}
)

// ShortName is the type's name without its namespace, as users see it.
func (t *Type) ShortName() string {
	return t.Name[strings.LastIndexByte(t.Name, '.')+1:]
}

// AppendJSON appends the JSON value of cell to dst. The error says, in words
// a person can act on, why cell is not a value of t.
func (t *Type) AppendJSON(dst []byte, cell string) ([]byte, error) {
	return t.appendJSON(dst, t, cell)
}

var errEmpty = errors.New("is empty")

func appendStringValue(dst []byte, _ *Type, cell string) ([]byte, error) {
	if !utf8.ValidString(cell) {
		return dst, errors.New("is not valid UTF-8 (save the file as CSV UTF-8)")
	}
	return AppendJSONString(dst, cell), nil
}

func appendEnumValue(dst []byte, t *Type, cell string) ([]byte, error) {
	for _, m := range t.Members {
		if strings.EqualFold(m, cell) {
			return AppendJSONString(dst, m), nil
		}
	}
	return dst, fmt.Errorf("is not a %s (one of: %s)", t.ShortName(), strings.Join(t.Members, ", "))
}

func appendInt32Value(dst []byte, _ *Type, cell string) ([]byte, error) {
	n, err := strconv.ParseInt(cell, 10, 32)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return dst, errors.New("is out of range for Int32 (-2147483648 to 2147483647)")
		}
		return dst, errors.New("is not a whole number")
	}
	return strconv.AppendInt(dst, n, 10), nil
}

// MaxFractionDigits is how many fractional second digits a DateTimeOffset
// may have: .NET's tick precision, as Graph's own examples use.
const MaxFractionDigits = 7

var errDateTime = errors.New("is not a date and time like 2024-01-31T09:30:00Z or 2024-01-31T09:30:00.1234567+01:00")

func appendDateTimeValue(dst []byte, _ *Type, cell string) ([]byte, error) {
	if err := checkDateTimeOffset(cell); err != nil {
		return dst, err
	}
	return AppendJSONString(dst, cell), nil
}

// checkDateTimeOffset checks s against the pattern Graph's metadata gives for
// Edm.DateTimeOffset, with a 4-digit year, at most MaxFractionDigits
// fractional digits, a real calendar day and an offset of at most ±14:00.
// It is hand-written because it runs for millions of cells.
func checkDateTimeOffset(s string) error {
	// 2006-01-02T15:04:05 is 19 bytes; Z is the shortest zone.
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return errDateTime
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return errDateTime
	}
	if year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(month, year) {
		return fmt.Errorf("is not a real date (%s)", s[:10])
	}
	if hour > 23 || minute > 59 || sec > 59 {
		return fmt.Errorf("is not a real time of day (%s)", s[11:19])
	}
	rest := s[19:]
	if rest[0] == '.' {
		n := 1
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		switch {
		case n == 1:
			return errDateTime
		case n-1 > MaxFractionDigits:
			return fmt.Errorf("has %d fractional second digits; Graph takes at most %d", n-1, MaxFractionDigits)
		}
		rest = rest[n:]
	}
	return checkZone(rest)
}

func checkZone(z string) error {
	if z == "Z" {
		return nil
	}
	if len(z) != 6 || (z[0] != '+' && z[0] != '-') || z[3] != ':' {
		return errors.New("has no time zone: end it with Z (UTC) or an offset like +01:00")
	}
	h, ok1 := digits(z[1:3])
	m, ok2 := digits(z[4:6])
	if !ok1 || !ok2 || h > 14 || m > 59 || (h == 14 && m != 0) {
		return fmt.Errorf("has an impossible offset %s", z)
	}
	return nil
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// AppendJSONString appends s as a JSON string. s must be valid UTF-8.
func AppendJSONString(dst []byte, s string) []byte {
	b, _ := Marshal(s) // a string always encodes
	return append(dst, b...)
}
