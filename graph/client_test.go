package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// setup starts a fake Graph on a real httptest server and returns a Client
// for it and the mux where a test registers Graph's endpoints. Requests
// that no test registered fail the test.
func setup(t *testing.T) (*Client, *http.ServeMux) {
	t.Helper()
	return setupWithTokens(t, nil)
}

func setupWithTokens(t *testing.T, tokens TokenSource) (*Client, *http.ServeMux) {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected request %s %s", r.Method, r.URL)
		http.Error(w, "unexpected request", http.StatusNotImplemented)
	})
	server := httptest.NewServer(mux)
	t.Cleanup(server.Close)
	// The trailing slash checks that the client does not double it.
	return NewClient(server.Client(), server.URL+"/", tokens), mux
}

// sentEnvelope is what the fake Graph saw of one $batch POST.
type sentEnvelope struct {
	method, path string
	header       http.Header
	body         BatchRequest
}

// recordBatch registers pattern to record each envelope on the returned
// channel and answer it with status, headers and answer.
func recordBatch(t *testing.T, mux *http.ServeMux, pattern string, status int, headers map[string]string, answer string) <-chan sentEnvelope {
	t.Helper()
	sent := make(chan sentEnvelope, 10)
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		env := sentEnvelope{method: r.Method, path: r.URL.Path, header: r.Header.Clone()}
		raw, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("reading envelope: %v", err)
		}
		if err := json.Unmarshal(raw, &env.body); err != nil {
			t.Errorf("envelope body %s does not decode: %v", raw, err)
		}
		sent <- env
		for k, v := range headers {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		io.WriteString(w, answer)
	})
	return sent
}

func testHeader(t *testing.T, h http.Header, name, want string) {
	t.Helper()
	if got := h.Get(name); got != want {
		t.Errorf("header %s = %q, want %q", name, got, want)
	}
}

var guid = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func testRequests(t *testing.T) []Request {
	t.Helper()
	target := mustTarget(t, "device-statuses", V1)
	row := target.NewRow("")
	var reqs []Request
	for i, key := range []string{"d1", "d/2", "d?3#"} {
		p, err := row.NewPatch(fields(t, target, map[string]string{"policyId": "policy 1", "id": key, "status": "compliant", "userName": "Ada \"A\""}))
		if err != nil {
			t.Fatal(err)
		}
		reqs = append(reqs, NewPatchRequest(string(rune('1'+i)), p))
	}
	return reqs
}

func TestBatchSendsEnvelope(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		version Version
		path    string
	}{
		{V1, "/v1.0/$batch"},
		{Beta, "/beta/$batch"},
	} {
		t.Run(string(tt.version), func(t *testing.T) {
			t.Parallel()
			c, mux := setup(t)
			sent := recordBatch(t, mux, "POST "+tt.path, http.StatusOK, map[string]string{"request-id": "env-rid"}, `{"responses":[]}`)
			reqs := testRequests(t)

			var crids []string
			for range 2 {
				res, err := c.Batch(t.Context(), tt.version, reqs)
				if err != nil {
					t.Fatalf("Batch(%s) error = %v", tt.version, err)
				}
				env := <-sent
				if env.method != http.MethodPost || env.path != tt.path {
					t.Errorf("Batch(%s) sent %s %s, want POST %s", tt.version, env.method, env.path, tt.path)
				}
				testHeader(t, env.header, "Content-Type", "application/json")
				testHeader(t, env.header, "Accept", "application/json")
				testHeader(t, env.header, "Authorization", "")
				crid := env.header.Get("client-request-id")
				if !guid.MatchString(crid) {
					t.Errorf("client-request-id = %q, want a lower-case GUID", crid)
				}
				if res.ClientRequestID != crid {
					t.Errorf("BatchResult.ClientRequestID = %q, want the sent %q", res.ClientRequestID, crid)
				}
				if res.RequestID != "env-rid" {
					t.Errorf("BatchResult.RequestID = %q, want %q", res.RequestID, "env-rid")
				}
				if diff := cmp.Diff(reqs, env.body.Requests); diff != "" {
					t.Errorf("envelope requests mismatch (-want +got):\n%s", diff)
				}
				crids = append(crids, crid)
			}
			if crids[0] == crids[1] {
				t.Errorf("two envelopes sent the same client-request-id %q", crids[0])
			}
		})
	}
}

func TestBatchDecodesMixedStatuses(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	// Graph answers in its own order, not the request order.
	const answer = `{"responses":[
		{"id":"3","status":429,"headers":{"Retry-After":"7","Content-Type":"application/json"},
		 "body":{"error":{"code":"TooManyRequests","message":"Too many requests"}}},
		{"id":"1","status":204,"headers":{"request-id":"item-rid-1"}},
		{"id":"2","status":404,"body":{"error":{"code":"ResourceNotFound","message":"Not found","innerError":{"request-id":"item-rid-2"}}}}
	]}`
	recordBatch(t, mux, "POST /v1.0/$batch", http.StatusOK, nil, answer)

	res, err := c.Batch(t.Context(), V1, testRequests(t))
	if err != nil {
		t.Fatalf("Batch error = %v", err)
	}
	want := []Response{
		{ID: "3", Status: 429, Headers: map[string]string{"Retry-After": "7", "Content-Type": "application/json"},
			Body: json.RawMessage(`{"error":{"code":"TooManyRequests","message":"Too many requests"}}`)},
		{ID: "1", Status: 204, Headers: map[string]string{"request-id": "item-rid-1"}},
		{ID: "2", Status: 404,
			Body: json.RawMessage(`{"error":{"code":"ResourceNotFound","message":"Not found","innerError":{"request-id":"item-rid-2"}}}`)},
	}
	if diff := cmp.Diff(want, res.Responses); diff != "" {
		t.Fatalf("Batch responses mismatch (-want +got):\n%s", diff)
	}

	wantErrs := map[string]*Error{
		"1": nil,
		"2": {Status: 404, Code: "ResourceNotFound", Message: "Not found", RequestID: "item-rid-2"},
		"3": {Status: 429, Code: "TooManyRequests", Message: "Too many requests", RetryAfter: "7"},
	}
	for _, r := range res.Responses {
		if diff := cmp.Diff(wantErrs[r.ID], r.Err()); diff != "" {
			t.Errorf("response %s Err() mismatch (-want +got):\n%s", r.ID, diff)
		}
	}
}

func TestBatchEnvelopeError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		status  int
		headers map[string]string
		answer  string
		want    *Error // ClientRequestID is filled in from the request
	}{
		{
			name:    "429 with Retry-After",
			status:  http.StatusTooManyRequests,
			headers: map[string]string{"Retry-After": "7", "request-id": "env-rid"},
			answer:  `{"error":{"code":"TooManyRequests","message":"Slow down","innerError":{"request-id":"body-rid","client-request-id":"not-ours"}}}`,
			want:    &Error{Status: 429, Code: "TooManyRequests", Message: "Slow down", RequestID: "env-rid", RetryAfter: "7"},
		},
		{
			name:   "request-id only in the body",
			status: http.StatusUnauthorized,
			answer: `{"error":{"code":"InvalidAuthenticationToken","message":"Access token has expired.","innerError":{"request-id":"body-rid"}}}`,
			want:   &Error{Status: 401, Code: "InvalidAuthenticationToken", Message: "Access token has expired.", RequestID: "body-rid"},
		},
		{
			name:    "503 from a proxy",
			status:  http.StatusServiceUnavailable,
			headers: map[string]string{"Content-Type": "text/html"},
			answer:  "<html>\n<body>Service Unavailable</body>\n</html>",
			want:    &Error{Status: 503, Message: "<html> <body>Service Unavailable</body> </html>"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux := setup(t)
			sent := recordBatch(t, mux, "POST /v1.0/$batch", tt.status, tt.headers, tt.answer)

			res, err := c.Batch(t.Context(), V1, testRequests(t))
			var ge *Error
			if !errors.As(err, &ge) {
				t.Fatalf("Batch error = %v (%T), want a *graph.Error", err, err)
			}
			env := <-sent
			want := *tt.want
			want.ClientRequestID = env.header.Get("client-request-id")
			if diff := cmp.Diff(&want, ge); diff != "" {
				t.Errorf("Batch error mismatch (-want +got):\n%s", diff)
			}
			if res == nil || res.ClientRequestID != want.ClientRequestID {
				t.Errorf("Batch result = %+v, want one with ClientRequestID %q", res, want.ClientRequestID)
			}
		})
	}
}

func TestBatchMalformedAnswer(t *testing.T) {
	t.Parallel()
	for _, answer := range []string{
		"not json",
		"<html><body>OK</body></html>",
		"",
		`{"responses":[`,
		`[]`,
		`{"responses":{"id":"1"}}`,
	} {
		t.Run(answer, func(t *testing.T) {
			t.Parallel()
			c, mux := setup(t)
			recordBatch(t, mux, "POST /v1.0/$batch", http.StatusOK, nil, answer)
			_, err := c.Batch(t.Context(), V1, testRequests(t))
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("Batch answered 200 %q: error = %v, want one wrapping ErrMalformed", answer, err)
			}
		})
	}
}

// fakeTokens is a TokenSource: token "tok-N" is generation N, and Refresh
// of the current generation takes the next one.
type fakeTokens struct {
	mu        sync.Mutex
	gen       uint64
	err       error    // returned by Token and Refresh when set
	refreshed []uint64 // the generations Refresh was given
}

func (f *fakeTokens) Token(context.Context) (string, uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return "", f.gen, f.err
	}
	return fmt.Sprintf("tok-%d", f.gen), f.gen, nil
}

func (f *fakeTokens) Refresh(_ context.Context, gen uint64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refreshed = append(f.refreshed, gen)
	if f.err != nil {
		return f.err
	}
	if gen == f.gen {
		f.gen++
	}
	return nil
}

func TestBatchAuthorization(t *testing.T) {
	t.Parallel()
	c, mux := setupWithTokens(t, &fakeTokens{gen: 123})
	sent := recordBatch(t, mux, "POST /v1.0/$batch", http.StatusOK, nil, `{"responses":[]}`)
	res, err := c.Batch(t.Context(), V1, testRequests(t))
	if err != nil {
		t.Fatalf("Batch error = %v", err)
	}
	env := <-sent
	testHeader(t, env.header, "Authorization", "Bearer tok-123")
	if res.TokenGen != 123 {
		t.Errorf("BatchResult.TokenGen = %d, want 123, the generation of the token sent", res.TokenGen)
	}

	c, mux = setup(t)
	sent = recordBatch(t, mux, "POST /v1.0/$batch", http.StatusOK, nil, `{"responses":[]}`)
	if _, err := c.Batch(t.Context(), V1, testRequests(t)); err != nil {
		t.Fatalf("Batch error = %v", err)
	}
	if got := (<-sent).header.Values("Authorization"); len(got) != 0 {
		t.Errorf("with a nil TokenSource, Authorization = %q, want none", got)
	}
	if err := c.Reauthenticate(t.Context(), 0); !errors.Is(err, ErrNoToken) {
		t.Errorf("Reauthenticate with a nil TokenSource = %v, want ErrNoToken: there is nothing to renew", err)
	}
}

// TestTokenErrorsWrapErrAuth checks that a TokenSource's errors reach the
// caller wrapped in ErrAuth, once, and that nothing is sent without a token.
func TestTokenErrorsWrapErrAuth(t *testing.T) {
	t.Parallel()
	errNoToken := errors.New("no token")
	tests := []struct {
		name string
		err  error
	}{
		{"plain error", errNoToken},
		{"already wrapping ErrAuth", fmt.Errorf("%w: %w", ErrAuth, errNoToken)},
	}
	for _, tt := range tests {
		// Nothing is registered: the catch-all fails the test if anything is sent.
		c, _ := setupWithTokens(t, &fakeTokens{err: tt.err})
		_, batchErr := c.Batch(t.Context(), V1, testRequests(t))
		reauthErr := c.Reauthenticate(t.Context(), 0)
		for call, err := range map[string]error{"Batch": batchErr, "Reauthenticate": reauthErr} {
			if !errors.Is(err, errNoToken) || !errors.Is(err, ErrAuth) {
				t.Errorf("%s: %s error = %v, want %v wrapped in ErrAuth", tt.name, call, err, errNoToken)
			}
			if err != nil && strings.Count(err.Error(), ErrAuth.Error()) != 1 {
				t.Errorf("%s: %s error = %q, want %q said once", tt.name, call, err, ErrAuth)
			}
		}
	}
}

// TestReauthenticateRefreshesTheTokenSent checks that Reauthenticate hands
// the TokenSource the generation of the token Graph refused, and that the
// next envelope carries the new token.
func TestReauthenticateRefreshesTheTokenSent(t *testing.T) {
	t.Parallel()
	tokens := &fakeTokens{}
	c, mux := setupWithTokens(t, tokens)
	sent := recordBatch(t, mux, "POST /v1.0/$batch", http.StatusOK, nil, `{"responses":[]}`)
	res, err := c.Batch(t.Context(), V1, testRequests(t))
	if err != nil {
		t.Fatal(err)
	}
	<-sent
	if err := c.Reauthenticate(t.Context(), res.TokenGen); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]uint64{res.TokenGen}, tokens.refreshed); diff != "" {
		t.Errorf("generations refreshed (-want +got):\n%s", diff)
	}
	res2, err := c.Batch(t.Context(), V1, testRequests(t))
	if err != nil {
		t.Fatal(err)
	}
	testHeader(t, (<-sent).header, "Authorization", "Bearer tok-1")
	if res2.TokenGen == res.TokenGen {
		t.Errorf("token generation did not change after a refresh")
	}
}

func TestBatchCancel(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	arrived := make(chan struct{})
	release := make(chan struct{})
	t.Cleanup(func() { close(release) }) // runs before server.Close
	mux.HandleFunc("POST /v1.0/$batch", func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})

	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-arrived
		cancel()
	}()
	res, err := c.Batch(ctx, V1, testRequests(t))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Batch cancelled in flight = %+v, %v; want an error wrapping context.Canceled", res, err)
	}

	// Already cancelled: nothing is sent.
	c, _ = setup(t)
	if _, err := c.Batch(ctx, V1, testRequests(t)); !errors.Is(err, context.Canceled) {
		t.Errorf("Batch with a cancelled context error = %v, want one wrapping context.Canceled", err)
	}
}

func TestBatchOther2xxIsMalformed(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	recordBatch(t, mux, "POST /v1.0/$batch", http.StatusAccepted, nil, `{}`)
	res, err := c.Batch(t.Context(), V1, testRequests(t))
	if !errors.Is(err, ErrMalformed) {
		t.Errorf("Batch answered 202 = %v, want an error wrapping ErrMalformed (sent again, not failed)", err)
	}
	if res == nil || res.ClientRequestID == "" {
		t.Errorf("result %+v: a failed envelope must still name its client-request-id", res)
	}
}

// TestBatchNeverFollowsRedirects: a 307 from the Graph endpoint to another
// host once received the bearer token and the whole envelope, and its 204s
// were recorded as updated (issue #10.7).
func TestBatchNeverFollowsRedirects(t *testing.T) {
	t.Parallel()
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(other.Close)
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		c, mux := setup(t)
		mux.HandleFunc("POST /v1.0/$batch", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+"/steal", status)
		})
		_, err := c.Batch(t.Context(), V1, testRequests(t))
		var ge *Error
		if !errors.As(err, &ge) || ge.Status != status || !strings.Contains(ge.Message, other.URL+"/steal") {
			t.Errorf("Batch answered %d = %v, want a *graph.Error with that status naming the Location", status, err)
		}
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the redirect target got %d requests, want none", n)
	}
}

func TestBatchDeepAnswerIsMalformed(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	recordBatch(t, mux, "POST /v1.0/$batch", http.StatusOK, nil, strings.Repeat("[", 15<<20))
	if _, err := c.Batch(t.Context(), V1, testRequests(t)); !errors.Is(err, ErrMalformed) {
		t.Errorf("Batch answered 15 MiB of [ = %v, want an error wrapping ErrMalformed", err)
	}
}

// TestListAnswerWithoutValueIsMalformed checks that a 200 whose JSON has
// no "value" array is not a page: taken as an empty last page, it would
// end an export early and silently, with rows missing.
func TestListAnswerWithoutValueIsMalformed(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		answer string
		ok     bool
	}{
		{`{}`, false},
		{`null`, false},
		{`{"value":null}`, false},
		{`{"values":[{"id":"1"}]}`, false},
		{`{"@odata.nextLink":"https://elsewhere.example/v1.0/users"}`, false},
		{`{"value":[]}`, true},
		{`{"value":[{"id":"1"}]}`, true},
	} {
		c, mux := setup(t)
		mux.HandleFunc("GET /v1.0/users", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, tt.answer)
		})
		page, err := c.List(t.Context(), V1, "/users")
		switch {
		case tt.ok && err != nil:
			t.Errorf("List answered %s: %v, want a page", tt.answer, err)
		case !tt.ok && !errors.Is(err, ErrMalformed):
			t.Errorf("List answered %s = %+v, %v; want an error wrapping ErrMalformed", tt.answer, page, err)
		}
	}
}
