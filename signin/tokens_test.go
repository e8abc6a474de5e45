package signin

import (
	"context"
	"testing"
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
