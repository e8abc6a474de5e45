package signin

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/graphbatch/graphbatch/graph"
)

// A Credential gets access tokens for Graph from Microsoft Entra ID.
type Credential interface {
	// Token returns an access token that is valid now. With fresh set it
	// must not return a cached token: Graph has just refused that one.
	Token(ctx context.Context, fresh bool) (string, error)
}

// Tokens hands out the token for each envelope. It serialises token
// requests (MSAL does not coalesce concurrent ones) and numbers the
// token in use, so that many workers meeting one refused token refresh it
// once. Its errors wrap graph.ErrAuth. It is safe for concurrent use.
type Tokens struct {
	cred Credential
	mu   sync.Mutex
	gen  uint64 // bumped whenever a fresh token is taken

	// The token last handed out and its claims, read once rather than
	// for every envelope.
	last    string
	lastJWT TokenInfo
	isJWT   bool
	// A token fetched because the one before expired soon, and which
	// expires soon too by this host's clock (a clock that is ahead): it
	// is used as it is, not fetched again for every envelope.
	forced string
}

var _ graph.TokenSource = (*Tokens)(nil)

// NewTokens returns Tokens drawing on cred.
func NewTokens(cred Credential) *Tokens { return &Tokens{cred: cred} }

// tokenTimeout bounds one token request: a managed identity endpoint that
// does not answer would otherwise hold a run for minutes. A person signing
// in with a device code gets as long as the code lives instead.
const tokenTimeout = time.Minute

// interactive is implemented by credentials that wait for a person.
type interactive interface{ interactive() }

// bound returns ctx with the time limit for one request of t's credential.
func (t *Tokens) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := t.cred.(interactive); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, tokenTimeout)
}

// Token returns the current token and its generation. The credential's
// own cache makes this cheap, and MSAL fetches a new token five minutes
// before the expiry Entra ID announced. Token also reads the expiry
// written in the token itself, and fetches a new one when that is near:
// a token whose announced lifetime disagrees with its own, or a host
// clock that is off, would otherwise be sent after it expired.
func (t *Tokens) Token(ctx context.Context) (string, uint64, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	ctx, cancel := t.bound(ctx)
	defer cancel()
	tok, err := t.cred.Token(ctx, false)
	if err != nil {
		return "", t.gen, fmt.Errorf("%w: %w", graph.ErrAuth, err)
	}
	if tok != t.last {
		t.last = tok
		t.lastJWT, t.isJWT = ParseTokenInfo(tok)
	}
	if t.isJWT && tok != t.forced && t.lastJWT.expiresSoon(time.Now()) {
		fresh, err := t.cred.Token(ctx, true)
		if err != nil {
			return "", t.gen, fmt.Errorf("%w: %w", graph.ErrAuth, err)
		}
		tok = fresh
		t.gen++
		if info, ok := ParseTokenInfo(fresh); ok && info.expiresSoon(time.Now()) {
			t.forced = fresh
		}
	}
	return tok, t.gen, nil
}

// Refresh forces a new token after Graph refused the one of generation
// gen. If another caller has refreshed since, it does nothing: the current
// token is already newer than the refused one.
func (t *Tokens) Refresh(ctx context.Context, gen uint64) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if gen != t.gen {
		return nil
	}
	ctx, cancel := t.bound(ctx)
	defer cancel()
	if _, err := t.cred.Token(ctx, true); err != nil {
		return fmt.Errorf("%w: %w", graph.ErrAuth, err)
	}
	t.gen++
	return nil
}

// TokenInfo is what an access token says about itself, read without
// verifying it: enough to warn about a missing permission.
type TokenInfo struct {
	AppID    string
	TenantID string
	Roles    []string // application permissions
	Scopes   []string // delegated permissions
	Issued   time.Time
	Expires  time.Time
}

// maxRefreshMargin is how long before its expiry a token is replaced.
const maxRefreshMargin = 5 * time.Minute

// expiresSoon reports whether the token expires within the refresh
// margin: five minutes, or a quarter of a shorter lifetime.
func (i TokenInfo) expiresSoon(now time.Time) bool {
	if i.Expires.IsZero() || i.Issued.IsZero() || !i.Expires.After(i.Issued) {
		return false
	}
	margin := min(maxRefreshMargin, i.Expires.Sub(i.Issued)/4)
	return !now.Add(margin).Before(i.Expires)
}

// HasPermission reports whether the token grants perm, as an application
// or a delegated permission.
func (i TokenInfo) HasPermission(perm string) bool {
	is := func(p string) bool { return strings.EqualFold(p, perm) }
	return slices.ContainsFunc(i.Roles, is) || slices.ContainsFunc(i.Scopes, is)
}

// ParseTokenInfo decodes the claims of a JWT access token. It returns
// false for a token that is not a JWT, which Graph tokens need not be.
func ParseTokenInfo(token string) (TokenInfo, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return TokenInfo{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return TokenInfo{}, false
	}
	var c struct {
		AppID string   `json:"appid"`
		AZP   string   `json:"azp"`
		TID   string   `json:"tid"`
		Roles []string `json:"roles"`
		SCP   string   `json:"scp"`
		Iat   int64    `json:"iat"`
		Exp   int64    `json:"exp"`
	}
	if json.Unmarshal(payload, &c) != nil {
		return TokenInfo{}, false
	}
	info := TokenInfo{
		AppID:    cmp.Or(c.AppID, c.AZP),
		TenantID: c.TID,
		Roles:    c.Roles,
		Scopes:   strings.Fields(c.SCP),
	}
	if c.Iat > 0 {
		info.Issued = time.Unix(c.Iat, 0)
	}
	if c.Exp > 0 {
		info.Expires = time.Unix(c.Exp, 0)
	}
	return info, true
}
