package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/google/uuid"
)

// A TokenSource gives the bearer token sent with each envelope.
type TokenSource interface {
	// Token returns a token that is valid now. With refresh set it must not
	// return a cached token: Graph has just refused the last one.
	Token(ctx context.Context, refresh bool) (string, error)
}

// Client sends $batch envelopes to Graph. It is safe for concurrent use.
type Client struct {
	httpClient *http.Client
	root       string
	tokens     TokenSource
}

// NewClient returns a Client for the Graph root URL root (scheme and host,
// no version, e.g. https://graph.microsoft.com). A nil tokens sends no
// Authorization header, for an emulator or a proxy that adds one.
func NewClient(httpClient *http.Client, root string, tokens TokenSource) *Client {
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	return &Client{httpClient: httpClient, root: strings.TrimRight(root, "/"), tokens: tokens}
}

// ErrMalformed is wrapped by errors for envelope answers that are not a
// $batch response.
var ErrMalformed = errors.New("malformed $batch answer")

// BatchResult is Graph's answer to one envelope.
type BatchResult struct {
	Responses       []Response // in Graph's order, which is not the request order
	RequestID       string     // the envelope's request-id
	ClientRequestID string     // the client-request-id this envelope was sent with
}

// maxAnswerBytes bounds how much of an answer is read: 20 PATCH answers are
// a few kilobytes.
const maxAnswerBytes = 16 << 20

// Batch POSTs reqs as one envelope to {root}/{v}/$batch with a fresh
// client-request-id. If Graph answers the envelope with an error status, the
// error is an *Error; a 200 whose body is not JSON wraps ErrMalformed
// (a JSON body without responses gives none, and the caller sees every
// item unanswered); anything else is a transport error. Item failures are not
// errors: they are in the result's Responses.
func (c *Client) Batch(ctx context.Context, v Version, reqs []Request) (*BatchResult, error) {
	env := BatchRequest{Requests: reqs}
	body := env.AppendJSON(make([]byte, 0, 256*len(reqs)))
	crid := uuid.NewString()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.root+"/"+string(v)+"/$batch", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("client-request-id", crid)
	if err := c.authorize(ctx, req); err != nil {
		return nil, err
	}
	resp, err := c.httpClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return nil, fmt.Errorf("reading $batch answer: %w", err)
	}
	result := &BatchResult{RequestID: resp.Header.Get("request-id"), ClientRequestID: crid}
	if resp.StatusCode != http.StatusOK {
		e := ParseError(resp.StatusCode, answer)
		e.RequestID = firstNonEmpty(result.RequestID, e.RequestID)
		e.ClientRequestID = crid
		e.RetryAfter = resp.Header.Get("Retry-After")
		return result, e
	}
	var br BatchResponse
	if err := json.Unmarshal(answer, &br); err != nil {
		return result, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	result.Responses = br.Responses
	return result, nil
}

func (c *Client) authorize(ctx context.Context, req *http.Request) error {
	if c.tokens == nil {
		return nil
	}
	tok, err := c.tokens.Token(ctx, false)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	return nil
}
