package signin

import (
	"context"
	"encoding/base64"
	"fmt"
	"testing"
	"testing/synctest"
	"time"
)

// slowPerson is a device code sign-in that takes the person five minutes.
type slowPerson struct{ deadline time.Time }

func (*slowPerson) interactive() {}

func (p *slowPerson) Token(ctx context.Context, _ bool) (string, error) {
	p.deadline, _ = ctx.Deadline()
	return "tok", nil
}

func TestTokensGiveAPersonTime(t *testing.T) {
	t.Parallel()
	p := &slowPerson{}
	if _, _, err := NewTokens(p).Token(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !p.deadline.IsZero() {
		t.Errorf("an interactive sign-in got a deadline in %v; a person needs longer than %v", time.Until(p.deadline), tokenTimeout)
	}
}

// aheadClock is a credential whose tokens, as this host's clock (ahead of
// Entra ID's) reads them, all expire within a minute. Like MSAL it serves
// its cached token until asked for a fresh one.
type aheadClock struct {
	issued int // tokens issued
	cached string
}

func (c *aheadClock) Token(_ context.Context, fresh bool) (string, error) {
	if c.cached == "" || fresh {
		c.issued++
		now := time.Now()
		claims := fmt.Sprintf(`{"iat":%d,"exp":%d,"n":%d}`, now.Add(-59*time.Minute).Unix(), now.Add(time.Minute).Unix(), c.issued)
		c.cached = "eyJhbGciOiJub25lIn0." + base64.RawURLEncoding.EncodeToString([]byte(claims)) + ".c2ln"
	}
	return c.cached, nil
}

// TestTokensAheadClockFetchesOnce: a token that expires soon is replaced
// once; when the new one expires soon too (the host's clock is ahead),
// it is used, not fetched again for every envelope, which would ask
// Entra ID for a token per request.
func TestTokensAheadClockFetchesOnce(t *testing.T) {
	t.Parallel()
	c := &aheadClock{}
	tokens := NewTokens(c)
	var gens []uint64
	for range 100 {
		_, gen, err := tokens.Token(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		gens = append(gens, gen)
	}
	if c.issued != 2 {
		t.Errorf("%d tokens issued for 100 envelopes, want 2: the first, and one fresh when it expired soon", c.issued)
	}
	if gens[0] != gens[99] {
		t.Errorf("the token's generation went from %d to %d: a refusal of it would not refresh it", gens[0], gens[99])
	}
	// A refusal by Graph still gets a fresh token.
	if err := tokens.Refresh(t.Context(), gens[99]); err != nil || c.issued != 3 {
		t.Errorf("Refresh: %v, %d tokens issued, want 3", err, c.issued)
	}
}

// shortLived is a credential whose tokens say they live ten minutes, but
// which, like MSAL told expires_in 3600, serves its cached token for most
// of an hour.
type shortLived struct {
	issued  int
	cached  string
	fetched time.Time
}

func (c *shortLived) Token(_ context.Context, fresh bool) (string, error) {
	now := time.Now()
	if c.cached == "" || fresh || now.Sub(c.fetched) >= 55*time.Minute {
		c.issued++
		claims := fmt.Sprintf(`{"iat":%d,"exp":%d,"n":%d}`, now.Unix(), now.Add(10*time.Minute).Unix(), c.issued)
		c.cached, c.fetched = "eyJhbGciOiJub25lIn0."+base64.RawURLEncoding.EncodeToString([]byte(claims))+".c2ln", now
	}
	return c.cached, nil
}

// TestTokensReplaceEveryShortLivedToken: when the lifetime a token states
// is shorter than the one announced, each token is replaced near its own
// expiry, the second and later ones too, not only the first.
func TestTokensReplaceEveryShortLivedToken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tokens := NewTokens(&shortLived{})
		for minute := range 60 {
			tok, _, err := tokens.Token(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if info, _ := ParseTokenInfo(tok); !time.Now().Before(info.Expires) {
				t.Fatalf("minute %d: Token() = a token that expired at minute %d", minute, minute-int(time.Since(info.Expires)/time.Minute))
			}
			time.Sleep(time.Minute)
		}
	})
}
