package graphtest

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// This file splits JSON objects into members without encoding/json's
// reflection: the emulator does it for every PATCH body and every stored
// entity it answers with, and it was most of its cost.

// scanMembers returns the members of obj, a valid JSON object (as
// json.Valid reports), in order, values as raw JSON.
func scanMembers(obj []byte) []member {
	var out []member
	i := skipSpace(obj, 0) + 1 // past '{'
	for {
		i = skipSpace(obj, i)
		if obj[i] == '}' {
			return out
		}
		end := skipString(obj, i)
		name := unquote(obj[i:end])
		i = skipSpace(obj, end) + 1 // past ':'
		i = skipSpace(obj, i)
		end = skipValue(obj, i)
		out = append(out, member{name, obj[i:end]})
		i = skipSpace(obj, end)
		if obj[i] == ',' {
			i++
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string that starts at i.
func skipString(b []byte, i int) int {
	for i++; b[i] != '"'; i++ {
		if b[i] == '\\' {
			i++
		}
	}
	return i + 1
}

// skipValue returns the index after the value that starts at i.
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; ; i++ {
			switch b[i] {
			case '"':
				i = skipString(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
	}
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' {
		i++
	}
	return i
}

// unquote returns the text of a JSON string literal, as encoding/json
// decodes it (escapes resolved, invalid UTF-8 replaced).
func unquote(lit []byte) string {
	if bytes.IndexByte(lit, '\\') >= 0 || !utf8.Valid(lit) {
		var s string
		_ = json.Unmarshal(lit, &s) // valid: it came from a valid object
		return s
	}
	return string(lit[1 : len(lit)-1])
}
