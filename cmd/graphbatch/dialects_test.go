package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/graphbatch/graphbatch/csvio"
	"github.com/graphbatch/graphbatch/graph"
	"github.com/graphbatch/graphbatch/graph/graphtest"
)

// TestExcelDialectsSendTheSamePatches runs the real update command on the
// same four device-statuses rows saved in each dialect a spreadsheet
// program writes, and checks that every file makes graphbatch send exactly
// the PATCHes plain.csv does.
//
// The fixtures in testdata/excel (testdata/excel/.gitattributes keeps git
// from touching their line endings) hold the same rows: a comma inside a
// quoted cell, a double quote, a cell with a line break (Alt+Enter in
// Excel, written as a bare LF inside quotes even in CRLF files), non-ASCII
// names, empty cells and enum values in odd case.
//
//   - plain.csv: UTF-8, ',', LF; the reference.
//   - utf8-bom.csv: Excel "CSV UTF-8": a UTF-8 BOM, ',', CRLF.
//   - semicolon.csv: a European locale's list separator: ';', CRLF.
//   - sep-line.csv: an Excel "sep=;" first line, then ';' and CRLF.
//   - tab.txt: Excel "Text (Tab delimited)": TAB, CRLF, cells with a comma
//     or a quote quoted. (Excel writes that format in the ANSI code page,
//     which graphbatch does not read; this one is UTF-8.)
//   - utf16le.txt: Excel "Unicode Text": UTF-16LE with a BOM, TAB, CRLF. It
//     is tab.txt re-encoded, made in testdata/excel with
//     { printf '\377\376'; iconv -f UTF-8 -t UTF-16LE tab.txt; } > utf16le.txt
//   - trailing-columns.csv: the empty trailing columns Excel keeps when
//     cells right of the table were once used: ",,," after the header and
//     after every row, CRLF.
//   - stray-spaces.csv: spaces around every header name and after every
//     delimiter, before a quote too, as hand edits leave them. (Spaces
//     before a delimiter, or inside quotes, are part of the value.)
func TestExcelDialectsSendTheSamePatches(t *testing.T) {
	dir := filepath.Join("testdata", "excel")
	plain := sentPatches(t, filepath.Join(dir, "plain.csv"))
	const (
		urlFmt = "/v1.0/deviceManagement/deviceCompliancePolicies/%s/deviceStatuses/%s"
		p1, p2 = "6513270e-269e-4d37-b2a7-4de452e6b438", "d23f0824-128b-4f33-8c5c-7fd0a6a3a450"
		p3     = "9531985d-5d9d-49f8-9818-e811892f902b"
	)
	want := map[string]map[string]any{
		fmt.Sprintf(urlFmt, p1, "099950d8-36f6-45cc-81e7-4ef5e8e25d94"): {
			"deviceDisplayName":    "CONTOSO-LT-1000",
			"deviceModel":          "Latitude 7440, refurbished",
			"userName":             "Zoë Ångström",
			"userPrincipalName":    "zoe.angstrom@contoso.com",
			"status":               "nonCompliant",
			"lastReportedDateTime": "2026-11-01T08:00:00.0973060+01:00",
			"complianceGracePeriodExpirationDateTime": "2026-12-01T08:00:00Z",
		},
		fmt.Sprintf(urlFmt, p2, "11e20b8f-6b0d-449b-af03-675a1600a35a"): {
			"deviceDisplayName":    `Ava's "spare" phone`,
			"deviceModel":          "Galaxy S23",
			"userName":             "Ava Berg",
			"userPrincipalName":    "ava.berg@contoso.com",
			"status":               "compliant",
			"lastReportedDateTime": "2026-11-02T09:13:07Z",
		},
		fmt.Sprintf(urlFmt, p3, "6cad4a26-8d11-4ece-9738-f7d93d9c1724"): {
			"deviceDisplayName":    "Lobby kiosk\nfloor 2",
			"userName":             "Noah Dubois",
			"userPrincipalName":    "noah.dubois@contoso.com",
			"status":               "remediated",
			"lastReportedDateTime": "2026-11-03T10:26:14Z",
		},
		fmt.Sprintf(urlFmt, p1, "f28c105d-1fb1-4c23-90c1-92cfd3ac94af"): {
			"deviceDisplayName":    "CONTOSO-IP-1111",
			"deviceModel":          "iPhone 15",
			"userName":             "Jürgen Weiß",
			"userPrincipalName":    "jurgen.weiss@contoso.com",
			"status":               "notApplicable",
			"lastReportedDateTime": "2026-11-04T11:39:21Z",
		},
	}
	if diff := cmp.Diff(want, plain); diff != "" {
		t.Fatalf("plain.csv: PATCHes sent (-want +got):\n%s", diff)
	}

	for _, name := range []string{
		"utf8-bom.csv",
		"semicolon.csv",
		"sep-line.csv",
		"tab.txt",
		"utf16le.txt",
		"trailing-columns.csv",
		"stray-spaces.csv",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := sentPatches(t, filepath.Join(dir, name))
			if diff := cmp.Diff(plain, got); diff != "" {
				t.Errorf("PATCHes sent (-plain +%s):\n%s", name, diff)
			}
		})
	}
}

// sentPatches runs graphbatch update device-statuses on the file in
// against an emulator and returns the PATCH items of the $batch envelopes
// it posted, body by path ("/v1.0/deviceManagement/..."). It fails the
// test unless the run exits 0 with every row updated, each once.
func sentPatches(t *testing.T, in string) map[string]map[string]any {
	t.Helper()
	emu := graphtest.New(graphtest.Options{Limits: &graphtest.NoLimits})
	var (
		mu    sync.Mutex
		items = make(map[string]map[string]any)
		errs  []string
	)
	record := func(version string, body []byte) {
		mu.Lock()
		defer mu.Unlock()
		var env graph.BatchRequest
		if err := json.Unmarshal(body, &env); err != nil {
			errs = append(errs, fmt.Sprintf("envelope %s: %v", body, err))
			return
		}
		for _, req := range env.Requests {
			url := "/" + version + req.URL
			var b map[string]any
			if err := json.Unmarshal(req.Body, &b); err != nil {
				errs = append(errs, fmt.Sprintf("%s %s: body %s: %v", req.Method, url, req.Body, err))
				continue
			}
			if req.Method != http.MethodPatch {
				errs = append(errs, fmt.Sprintf("%s %s: want PATCH", req.Method, url))
			}
			if _, dup := items[url]; dup {
				errs = append(errs, fmt.Sprintf("%s sent twice", url))
			}
			items[url] = b
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if version, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/"), "/$batch"); ok && r.Method == http.MethodPost {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			record(version, body)
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		emu.Handler().ServeHTTP(w, r)
	}))
	defer srv.Close()

	out := filepath.Join(t.TempDir(), "r.csv")
	code, _, stderr := runCmd(t, "update", "device-statuses", "--in", in, "--out", out,
		"--graph-endpoint", srv.URL, "--auth", "none")
	if code != exitOK {
		t.Errorf("%s: exit %d, want 0; stderr:\n%s", in, code, stderr)
	}
	results := readResults(t, out)
	if len(results) != 4 {
		t.Errorf("%s: %d result lines, want 4", in, len(results))
	}
	for _, r := range results {
		if r.Outcome != csvio.Updated {
			t.Errorf("%s: row %d: %s (%s: %s), want updated", in, r.Row, r.Outcome, r.ErrorCode, r.ErrorMessage)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, e := range errs {
		t.Errorf("%s: %s", in, e)
	}
	return items
}
