package csvio_test

import (
	"bytes"
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/graphbatch/graphbatch/csvio"
)

// FuzzAppendResult checks that any text in the text fields comes back the
// same through AppendResult and encoding/csv.Reader, as one record.
func FuzzAppendResult(f *testing.F) {
	f.Add(1, "pol-1", "dev-1", "updated", 204, "", "", 1, "req", "cli", int64(1714979289123))
	f.Add(2, " lead", "a,b", "failed", 400, `say "hi"`, "two\nlines", 3, "\ttab", `\.`, int64(0))
	f.Add(3, "", "", "", 0, "", "", 0, "", "", int64(-1))
	f.Add(4, `"`, `""`, "#", 429, ";", "\n", 9, "日本 🎉", "\u00a0nbsp", int64(253402300799999))
	f.Fuzz(func(t *testing.T, row int, policyID, id, outcome string, status int, errorCode, errorMessage string,
		attempts int, requestID, clientRequestID string, finishedMilli int64) {
		texts := []string{policyID, id, outcome, errorCode, errorMessage, requestID, clientRequestID}
		for _, s := range texts {
			// encoding/csv reads \r\n as \n, and replaces invalid UTF-8.
			if !utf8.ValidString(s) || strings.Contains(s, "\r") {
				t.Skip()
			}
		}
		var finished time.Time
		if finishedMilli != 0 {
			finished = time.UnixMilli(finishedMilli)
			if y := finished.UTC().Year(); y < 0 || y > 9999 {
				t.Skip() // RFC 3339 has four-digit years
			}
		}
		r := csvio.Result{
			Row: row, PolicyID: policyID, ID: id, Outcome: csvio.Outcome(outcome), HTTPStatus: status,
			ErrorCode: errorCode, ErrorMessage: errorMessage, Attempts: attempts,
			RequestID: requestID, ClientRequestID: clientRequestID, FinishedAt: finished,
		}
		line := csvio.AppendResult(nil, &r)
		if !bytes.HasSuffix(line, []byte("\n")) {
			t.Fatalf("AppendResult(%+v) = %q, want a line ending in \\n", r, line)
		}

		cr := csv.NewReader(bytes.NewReader(line))
		got, err := cr.Read()
		if err != nil {
			t.Fatalf("csv Read(AppendResult(%+v) = %q) error: %v", r, line, err)
		}
		if _, err := cr.Read(); err != io.EOF {
			t.Fatalf("AppendResult(%+v) = %q holds more than one record (%v)", r, line, err)
		}
		statusCell, finishedCell := "", ""
		if status != 0 {
			statusCell = strconv.Itoa(status)
		}
		if !finished.IsZero() {
			finishedCell = finished.UTC().Format(csvio.TimeFormat)
		}
		want := []string{
			strconv.Itoa(row), policyID, id, outcome, statusCell, errorCode, errorMessage,
			strconv.Itoa(attempts), requestID, clientRequestID, finishedCell,
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("csv Read(AppendResult(%+v) = %q) mismatch (-want +got):\n%s", r, line, diff)
		}
		if !finished.IsZero() {
			back, err := time.Parse(time.RFC3339Nano, got[10])
			if err != nil || !back.Equal(finished) {
				t.Fatalf("finishedAt %q = %v, %v; want %v", got[10], back, err, finished)
			}
		}
	})
}
