package graph

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// Keys come from an untrusted CSV. Whatever they hold, the PATCH must go to
// {Parent}/{policyId}/{Collection}/{id} and nowhere else.

func TestHostileKeysStayInTheirSegment(t *testing.T) {
	t.Parallel()
	keys := []string{
		"a/b",
		"../x",
		"x/../../y",
		"/",
		"//evil.example.com",
		"%2e%2e",
		"%2E%2E%2Fx",
		"a%2Fb",
		"%",
		"?x=1",
		"#frag",
		"a?b#c",
		"...",
		".hidden",
		"a b",
		" ",
		"+&=@$;,:",
		"é 中文 🙂",
		"\u2028",
		"\\..\\x",
		"https://evil.example.com/",
		"00000000-0000-0000-0000-000000000001_22222222-3333-4444-5555-666666666666",
	}
	for _, r := range Resources {
		s := NewSchema(r, V1)
		values := row(t, s, map[string]string{"status": "compliant"})
		for _, key := range keys {
			t.Run(r.Name+"/"+key, func(t *testing.T) {
				t.Parallel()
				if err := CheckKey(key); err != nil {
					t.Fatalf("CheckKey(%q) = %v, want nil", key, err)
				}
				p, err := s.NewPatch(key, key, values)
				if err != nil {
					t.Fatalf("NewPatch(%q, %q) error = %v", key, key, err)
				}
				if got := r.Path(key, key); got != p.URL {
					t.Errorf("Path(%q, %q) = %q, but NewPatch URL = %q", key, key, got, p.URL)
				}
				u, err := url.Parse(p.URL)
				if err != nil {
					t.Fatalf("NewPatch(%q, %q).URL = %q, does not parse: %v", key, key, p.URL, err)
				}
				if u.Scheme != "" || u.Host != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
					t.Errorf("NewPatch(%q, %q).URL = %q has scheme %q host %q query %q fragment %q, want a bare path",
						key, key, p.URL, u.Scheme, u.Host, u.RawQuery, u.Fragment)
				}
				segs := strings.Split(strings.TrimPrefix(u.EscapedPath(), "/"), "/")
				wantSegs := append(strings.Split(strings.TrimPrefix(r.Parent, "/"), "/"), key, r.Collection, key)
				if len(segs) != 5 || len(wantSegs) != 5 {
					t.Fatalf("NewPatch(%q, %q).URL = %q has %d segments %q, want 5", key, key, p.URL, len(segs), segs)
				}
				for i, seg := range segs {
					got, err := url.PathUnescape(seg)
					if err != nil || got != wantSegs[i] {
						t.Errorf("NewPatch(%q, %q).URL segment %d = %q, unescapes to %q, %v; want %q", key, key, i, seg, got, err, wantSegs[i])
					}
				}

				// Resolved against the real root, the URL keeps its shape:
				// no key is taken for a dot segment.
				base, _ := url.Parse("https://graph.microsoft.com/v1.0/")
				ref, err := url.Parse("/v1.0" + p.URL)
				if err != nil {
					t.Fatal(err)
				}
				abs := base.ResolveReference(ref)
				if abs.Host != "graph.microsoft.com" || !strings.HasPrefix(abs.EscapedPath(), "/v1.0"+r.Parent+"/") ||
					strings.Count(abs.EscapedPath(), "/") != 6 {
					t.Errorf("NewPatch(%q, %q).URL = %q resolves to %q", key, key, p.URL, abs)
				}
			})
		}
	}
}

func TestRefusedKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key     string
		errPart string
	}{
		{"", "is empty"},
		{".", "not a valid key"},
		{"..", "not a valid key"},
		{"a\nb", "control character (U+000A at byte 1)"},
		{"\r", "control character"},
		{"\t", "control character"},
		{"\x00", "control character (U+0000 at byte 0)"},
		{"x\x7f", "control character (U+007F at byte 1)"},
		{"a\x1fb", "control character"},
		{"../\n", "control character"},
	}
	s := mustSchema(t, "device-statuses", V1)
	values := row(t, s, map[string]string{"status": "compliant"})
	for _, tt := range tests {
		if err := CheckKey(tt.key); err == nil || !strings.Contains(err.Error(), tt.errPart) {
			t.Errorf("CheckKey(%q) = %v, want an error containing %q", tt.key, err, tt.errPart)
		}
		for _, column := range []string{PolicyIDColumn, IDColumn} {
			policyID, id := "p1", "d1"
			if column == PolicyIDColumn {
				policyID = tt.key
			} else {
				id = tt.key
			}
			p, err := s.NewPatch(policyID, id, values)
			var ve *ValueError
			if !errors.As(err, &ve) {
				t.Errorf("NewPatch(%q, %q) = %+v, %v; want a *ValueError", policyID, id, p, err)
				continue
			}
			if ve.Column != column || ve.Value != tt.key {
				t.Errorf("NewPatch(%q, %q) error on column %q value %q, want column %q value %q", policyID, id, ve.Column, ve.Value, column, tt.key)
			}
			if msg := err.Error(); strings.Count(msg, strconv.Quote(tt.key)) > 1 && tt.key != "" {
				t.Errorf("NewPatch(%q, %q) error %q repeats the key", policyID, id, msg)
			}
		}
	}
}

func TestLookupResource(t *testing.T) {
	t.Parallel()
	for _, r := range Resources {
		got, err := LookupResource(r.Name)
		if err != nil || got != r {
			t.Errorf("LookupResource(%q) = %v, %v; want %v", r.Name, got, err, r)
		}
	}
	_, err := LookupResource("devices")
	if err == nil || !strings.Contains(err.Error(), "device-statuses, user-statuses") {
		t.Errorf(`LookupResource("devices") error = %v, want one listing the resources`, err)
	}
}

func TestParseVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    Version
		wantErr bool
	}{
		{"v1.0", V1, false},
		{"beta", Beta, false},
		{"V1.0", "", true},
		{"v1", "", true},
		{"", "", true},
	}
	for _, tt := range tests {
		got, err := ParseVersion(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ParseVersion(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}
