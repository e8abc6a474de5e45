package graph

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestParseError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		body   string
		want   *Error
	}{
		{
			name:   "Graph shape",
			status: 404,
			body: `{"error":{"code":"ResourceNotFound","message":"Resource not found",
				"innerError":{"date":"2024-01-31T09:30:00","request-id":"rid-1","client-request-id":"crid-1"}}}`,
			want: &Error{Status: 404, Code: "ResourceNotFound", Message: "Resource not found", RequestID: "rid-1", ClientRequestID: "crid-1"},
		},
		{
			name:   "no innerError",
			status: 400,
			body:   `{"error":{"code":"BadRequest","message":"Invalid value"}}`,
			want:   &Error{Status: 400, Code: "BadRequest", Message: "Invalid value"},
		},
		{
			name:   "empty code",
			status: 500,
			body:   `{"error":{"code":"","message":"Something broke"}}`,
			want:   &Error{Status: 500, Message: "Something broke"},
		},
		{
			name:   "multiline message",
			status: 400,
			body:   `{"error":{"code":"BadRequest","message":"line one\r\n   line two\n\tline three\n"}}`,
			want:   &Error{Status: 400, Code: "BadRequest", Message: "line one line two line three"},
		},
		{
			name:   "Intune JSON message",
			status: 500,
			body:   `{"error":{"code":"InternalServerError","message":"{\r\n  \"_version\": 3,\r\n  \"Message\": \"An error has occurred - Operation ID (for customer support): 00000000-0000-0000-0000-000000000000 - Activity ID: 11111111-2222-3333-4444-555555555555 - Url: https://fef.msua06.manage.microsoft.com/StatelessDeviceConfigurationFEService/deviceManagement/deviceCompliancePolicies\",\r\n  \"CustomApiErrorPhrase\": \"\",\r\n  \"RetryAfter\": null,\r\n  \"ErrorSourceService\": \"\",\r\n  \"HttpHeaders\": \"{}\"\r\n}"}}`,
			want: &Error{Status: 500, Code: "InternalServerError",
				Message: "An error has occurred - Operation ID (for customer support): 00000000-0000-0000-0000-000000000000 - Activity ID: 11111111-2222-3333-4444-555555555555 - Url: https://fef.msua06.manage.microsoft.com/StatelessDeviceConfigurationFEService/deviceManagement/deviceCompliancePolicies"},
		},
		{
			name:   "Intune doubly wrapped",
			status: 403,
			body:   `{"error":{"code":"Forbidden","message":"{\"ErrorCode\":\"Forbidden\",\"Message\":\"{\\\"_version\\\":3,\\\"Message\\\":\\\"Application is not authorized\\\"}\"}"}}`,
			want:   &Error{Status: 403, Code: "Forbidden", Message: "Forbidden: Application is not authorized"},
		},
		{
			name:   "Intune custom phrase only",
			status: 400,
			body:   `{"error":{"code":"BadRequest","message":"{\"_version\":3,\"Message\":\"\",\"CustomApiErrorPhrase\":\"Policy is read-only\"}"}}`,
			want:   &Error{Status: 400, Code: "BadRequest", Message: "Policy is read-only"},
		},
		{
			name:   "message that only looks like JSON",
			status: 400,
			body:   `{"error":{"code":"BadRequest","message":"{not json} at all"}}`,
			want:   &Error{Status: 400, Code: "BadRequest", Message: "{not json} at all"},
		},
		{
			name:   "non-JSON body",
			status: 502,
			body:   "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\n</body>\n</html>\n",
			want:   &Error{Status: 502, Message: "<html> <head><title>502 Bad Gateway</title></head> <body> </body> </html>"},
		},
		{
			name:   "JSON of another shape",
			status: 400,
			body:   `{"Message": "nope"}`,
			want:   &Error{Status: 400, Message: `{"Message": "nope"}`},
		},
		{
			name:   "empty body",
			status: 503,
			want:   &Error{Status: 503},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := ParseError(tt.status, []byte(tt.body))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseError(%d, %q) mismatch (-want +got):\n%s", tt.status, tt.body, diff)
			}
		})
	}
}

func TestParseErrorTruncatesBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
	}{
		{"ASCII", strings.Repeat("x", 1000)},
		{"lines", strings.Repeat("word\n", 200)},
		// A multi-byte character straddles the cut: the message must stay
		// valid UTF-8, as it ends up in the results CSV.
		{"character across the cut", strings.Repeat("a", 299) + strings.Repeat("é", 100)},
		{"emoji across the cut", strings.Repeat("a", 298) + strings.Repeat("🙂", 100)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			msg := ParseError(502, []byte(tt.body)).Message
			if n := utf8.RuneCountInString(msg); n > 301 {
				t.Errorf("ParseError(502, %d-byte body).Message has %d characters, want at most 301", len(tt.body), n)
			}
			if !strings.HasSuffix(msg, "…") {
				t.Errorf("ParseError(502, %d-byte body).Message = %q, want it to end with …", len(tt.body), msg)
			}
			if strings.ContainsAny(msg, "\r\n") {
				t.Errorf("ParseError(502, %d-byte body).Message = %q, want one line", len(tt.body), msg)
			}
			if !utf8.ValidString(msg) {
				t.Errorf("ParseError(502, %d-byte body).Message ends in %q, not valid UTF-8", len(tt.body), msg[max(0, len(msg)-8):])
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{Status: 404, Code: "ResourceNotFound", Message: "gone"}, "graph: 404 ResourceNotFound: gone"},
		{&Error{Status: 429, Code: "TooManyRequests"}, "graph: 429 TooManyRequests"},
		{&Error{Status: 503}, "graph: 503 Service Unavailable"},
		{&Error{Status: 500, Message: "boom"}, "graph: 500 Internal Server Error: boom"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("%+v.Error() = %q, want %q", *tt.err, got, tt.want)
		}
	}
}

func TestClean(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"two\r\n  lines\tand tab", "two lines and tab"},
		{"title \x1b]0;pwned\x07 red \x1b[31mX", `title \x1b]0;pwned\x07 red \x1b[31mX`},
		{"C1 \u009b31m and DEL \x7f", `C1 \x9b31m and DEL \x7f`},
		{"bidi \u202eevil", `bidi \u202eevil`},
		{"bad \xff utf8", "bad \uFFFD utf8"},
		{"=HYPERLINK(\"http://x\")", "=HYPERLINK(\"http://x\")"}, // formulas are the results file's business
	}
	for _, tt := range tests {
		if got := Clean(tt.in); got != tt.want {
			t.Errorf("Clean(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	long := Clean(strings.Repeat("é", 3*MaxMessage))
	if n := utf8.RuneCountInString(long); n != MaxMessage || !strings.HasSuffix(long, "…") {
		t.Errorf("Clean of %d characters has %d, want %d ending in …", 3*MaxMessage, n, MaxMessage)
	}
}

// TestParseErrorCutsLongMessages: a 2 MiB message once made a 6 MB results
// file (issue #10.11).
func TestParseErrorCutsLongMessages(t *testing.T) {
	t.Parallel()
	body := `{"error":{"code":"BadRequest","message":"` + strings.Repeat("x", 2<<20) + `"}}`
	if e := ParseError(400, []byte(body)); utf8.RuneCountInString(e.Message) > MaxMessage {
		t.Errorf("message of %d characters kept, want at most %d", utf8.RuneCountInString(e.Message), MaxMessage)
	}
}
