package batch

import (
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/graphbatch/graphbatch/csvio"
	"github.com/graphbatch/graphbatch/graph"
	"github.com/graphbatch/graphbatch/graph/graphtest"
	"github.com/graphbatch/graphbatch/signin"
)

// TestRunWithExpiringTokens runs 4,000 rows at Intune's limit, over 13
// minutes of fake time, signed in with a real MSAL client against the
// emulator acting as authority, with tokens that live 6 minutes. Tokens
// must be refreshed as they near expiry, and Graph never see an expired one.
func TestRunWithExpiringTokens(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		emu := graphtest.New(graphtest.Options{Seed: 3, Authority: &graphtest.Authority{
			Tenant: "contoso", ClientID: "app", ClientSecret: "s3cret", TokenLifetime: 6 * time.Minute,
		}})
		hc := &http.Client{Transport: emu.Transport()} // in process: no socket in the bubble
		cloud := graph.Cloud{Name: "emulated", GraphRoot: "https://graph.emulator.test", AuthorityHost: "https://login.emulator.test"}
		cred, err := signin.NewCredential(signin.Config{Cloud: cloud, TenantID: "contoso", ClientID: "app", ClientSecret: "s3cret", HTTPClient: hc}, signin.Secret)
		if err != nil {
			t.Fatal(err)
		}
		client := graph.NewClient(hc, cloud.GraphRoot, signin.NewTokens(cred))
		start := time.Now()
		w, sum, err := runTestWith(t, distinctRows(4000), client, Config{Pacer: NewPacer(Rate{100, 20 * time.Second})})
		if err != nil {
			t.Fatal(err)
		}
		elapsed := time.Since(start)
		results := w.byRow(t)
		if len(results) != 4000 || sum.Updated != 4000 {
			t.Fatalf("%d outcomes, %d updated; want every one of the 4000 rows updated", len(results), sum.Updated)
		}
		for n, r := range results {
			if r.Outcome != csvio.Updated {
				t.Errorf("row %d: %s %d %s", n, r.Outcome, r.HTTPStatus, r.ErrorMessage)
			}
		}
		c := emu.Counters()
		t.Logf("%d rows in %v of fake time with %d tokens; %d refused", sum.Updated, elapsed, c.TokensIssued, c.Unauthorized)
		// MSAL replaces a token 5 minutes before it expires: one a minute here.
		if want := int(elapsed / time.Minute); c.TokensIssued < want {
			t.Errorf("%d tokens issued in %v, want at least %d", c.TokensIssued, elapsed, want)
		}
		if c.Unauthorized != 0 {
			t.Errorf("%d requests refused; an expired token was sent", c.Unauthorized)
		}
	})
}
