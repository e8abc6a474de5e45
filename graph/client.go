package graph

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/google/uuid"
)

// TokenSource gives the bearer token Graph requests carry. *signin.Tokens
// is one.
type TokenSource interface {
	// Token returns the token to send now and its generation, a number
	// that changes whenever the token is replaced.
	Token(ctx context.Context) (token string, gen uint64, err error)
	// Refresh replaces the token of generation gen, which Graph refused.
	// It does nothing if the token has been replaced since.
	Refresh(ctx context.Context, gen uint64) error
}

// Client sends $batch envelopes to Graph. It is safe for concurrent use.
type Client struct {
	httpClient *http.Client
	root       string
	tokens     TokenSource
}

// NewClient returns a Client for the Graph root URL root (scheme and host,
// no version, e.g. https://graph.microsoft.com). A nil tokens sends no
// Authorization header, for an emulator or a proxy that adds one. Errors
// from tokens wrap ErrAuth.
//
// The client never follows a redirect: a 3xx answer is returned as an
// *Error naming its Location, so that no token or body leaves for another
// host than root's (README, "Files and servers").
func NewClient(httpClient *http.Client, root string, tokens TokenSource) *Client {
	hc := http.Client{}
	if httpClient != nil {
		hc = *httpClient
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Client{httpClient: &hc, root: strings.TrimRight(root, "/"), tokens: tokens}
}

// ErrAuth is wrapped by errors getting a token: sign-in failed, and
// sending more is pointless.
var ErrAuth = errors.New("sign-in failed")

// ErrMalformed is wrapped by errors for envelope answers that are not a
// $batch response.
var ErrMalformed = errors.New("malformed $batch answer")

// BatchResult is Graph's answer to one envelope.
type BatchResult struct {
	Responses       []Response // in Graph's order, which is not the request order
	RequestID       string     // the envelope's request-id
	ClientRequestID string     // the client-request-id this envelope was sent with
	TokenGen        uint64     // the generation of the token sent, for Reauthenticate
}

// maxAnswerBytes bounds how much of an answer is read: 20 item answers,
// or a page of a list, are far smaller.
const maxAnswerBytes = 16 << 20

// Batch POSTs reqs as one envelope to {root}/{v}/$batch with a fresh
// client-request-id. If Graph answers the envelope with an error status or
// a redirect, the error is an *Error; another 2xx than 200, or a 200 whose body is not
// JSON, wraps ErrMalformed (a JSON body without responses gives none, and
// the caller sees every item unanswered); anything else is a transport
// error. Item failures are not errors: they are in the result's
// Responses. The result is not nil once the request was sent, so that a
// failure still names its client-request-id.
func (c *Client) Batch(ctx context.Context, v Version, reqs []Request) (*BatchResult, error) {
	body, err := Marshal(BatchRequest{Requests: reqs})
	if err != nil {
		return nil, fmt.Errorf("encoding $batch request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.root+"/"+string(v)+"/$batch", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	a, err := c.do(ctx, req)
	if a == nil {
		return nil, err
	}
	result := &BatchResult{ClientRequestID: a.crid, TokenGen: a.gen, RequestID: a.requestID}
	switch {
	case err != nil:
		return result, err
	case a.status >= 200 && a.status < 300 && a.status != http.StatusOK:
		return result, fmt.Errorf("%w: status %d instead of 200", ErrMalformed, a.status)
	case a.status != http.StatusOK:
		return result, a.err()
	}
	br, err := DecodeBatchResponse(a.body)
	if err != nil {
		return result, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	result.Responses = br.Responses
	return result, nil
}

// reply is what Graph answered one request, read whole.
type reply struct {
	status    int
	header    http.Header
	body      []byte
	crid      string // the client-request-id the request was sent with
	requestID string // Graph's request-id, cleaned
	gen       uint64 // the generation of the token sent
}

// do sends req with a fresh client-request-id and the token, and reads
// the answer. The reply is nil if nothing was sent; else it names the
// client-request-id, even when the answer was lost (err).
func (c *Client) do(ctx context.Context, req *http.Request) (*reply, error) {
	a := &reply{crid: uuid.NewString()}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("client-request-id", a.crid)
	var err error
	if a.gen, err = c.authorize(ctx, req); err != nil {
		return nil, err
	}
	resp, err := c.httpClient.Do(req)
	if err != nil {
		return a, err
	}
	defer resp.Body.Close()
	if a.body, err = readAnswer(resp); err != nil {
		return a, fmt.Errorf("reading the answer: %w", err)
	}
	a.status, a.header = resp.StatusCode, resp.Header
	a.requestID = cut(Clean(resp.Header.Get("request-id")), maxCodeText)
	return a, nil
}

// err is Graph's error for an answer with an error status, or the
// failure of one that redirects: Graph does not redirect, so whatever did
// is not Graph, and is not followed.
func (a *reply) err() *Error {
	if a.status >= 300 && a.status < 400 {
		where := cut(Clean(a.header.Get("Location")), maxBodyText)
		if where == "" {
			where = "nowhere"
		}
		return &Error{
			Status:          a.status,
			Code:            "Redirect",
			Message:         fmt.Sprintf("the answer redirects to %s; graphbatch never follows a redirect with a token (check --graph-endpoint and proxies)", where),
			RequestID:       a.requestID,
			ClientRequestID: a.crid,
		}
	}
	e := ParseError(a.status, a.body)
	e.RequestID = cmp.Or(a.requestID, e.RequestID)
	e.ClientRequestID = a.crid
	e.RetryAfter = a.header.Get("Retry-After")
	return e
}

// readAnswer reads a response body of up to maxAnswerBytes, in one
// allocation when the length is known.
func readAnswer(resp *http.Response) ([]byte, error) {
	if n := resp.ContentLength; n >= 0 && n <= maxAnswerBytes {
		buf := make([]byte, n)
		_, err := io.ReadFull(resp.Body, buf)
		return buf, err
	}
	return io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
}

func (c *Client) authorize(ctx context.Context, req *http.Request) (uint64, error) {
	if c.tokens == nil {
		return 0, nil
	}
	tok, gen, err := c.tokens.Token(ctx)
	if err != nil {
		return 0, authError(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	return gen, nil
}

// ErrNoToken is returned by Reauthenticate for a client that sends no
// token (--auth none): there is nothing to renew.
var ErrNoToken = errors.New("no token is sent")

// Reauthenticate forces a new token after Graph answered 401 to a request
// sent with the token of generation gen (BatchResult.TokenGen). The
// TokenSource coalesces callers reporting one refused token: *signin.Tokens
// refreshes it once.
func (c *Client) Reauthenticate(ctx context.Context, gen uint64) error {
	if c.tokens == nil {
		return ErrNoToken
	}
	return authError(c.tokens.Refresh(ctx, gen))
}

// authError returns err wrapping ErrAuth, so that callers can tell a
// sign-in failure from Graph's answers whatever the TokenSource.
func authError(err error) error {
	if err == nil || errors.Is(err, ErrAuth) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrAuth, err)
}

// maxMetadataBytes bounds a $metadata document: beta's is about 35 MB.
const maxMetadataBytes = 512 << 20

// Metadata copies Graph's metadata document (CSDL) for v, which Graph
// serves without sign-in, to w.
func (c *Client) Metadata(ctx context.Context, v Version, w io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.root+"/"+string(v)+"/$metadata", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/xml")
	resp, err := c.httpClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return ParseError(resp.StatusCode, body)
	}
	n, err := io.Copy(w, io.LimitReader(resp.Body, maxMetadataBytes+1))
	if err == nil && n > maxMetadataBytes {
		err = fmt.Errorf("the metadata is larger than %d MB", maxMetadataBytes>>20)
	}
	return err
}

// Page is one page of a collection Graph listed.
type Page struct {
	Values   []json.RawMessage `json:"value"`
	NextLink string            `json:"@odata.nextLink"`
}

// List GETs one page of a collection. url is relative to the version root
// ("/users?$select=id"), or a nextLink Graph gave, which must be under the
// same root and version: a link elsewhere is refused, never followed with
// the token. Graph's error answers are *Error; an answer that is not a
// page, a JSON object with a "value" array, wraps ErrMalformed.
func (c *Client) List(ctx context.Context, v Version, url string) (*Page, error) {
	base := c.root + "/" + string(v)
	if strings.Contains(url, "://") {
		rel, ok := strings.CutPrefix(url, base+"/")
		if !ok {
			return nil, fmt.Errorf("%w: the next page is at %s, outside %s: not followed", ErrMalformed, Clean(url), base)
		}
		url = "/" + rel
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+url, nil)
	if err != nil {
		return nil, err
	}
	a, err := c.do(ctx, req)
	if err != nil {
		return nil, err
	}
	if a.status != http.StatusOK {
		return nil, a.err()
	}
	var p Page
	if err := json.Unmarshal(a.body, &p); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if p.Values == nil { // an empty last page is "value":[]
		return nil, fmt.Errorf(`%w: the page has no "value" array`, ErrMalformed)
	}
	return &p, nil
}
