package main

import (
	"bytes"
	"encoding/pem"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/graphbatch/graphbatch/csvio"
	"github.com/graphbatch/graphbatch/graph/graphtest"
)

const (
	testTenant = "contoso-tenant"
	testClient = "11111111-2222-3333-4444-555555555555"
	testSecret = "Xq8~not-a-real-secret.Vb3s"
)

// tokenPrefix begins every token graphtest issues: the encoded JWT header.
const tokenPrefix = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"

// authorityEmulator starts a TLS emulator that is also the sign-in
// authority, writes its certificate for --ca-cert, and sets the AZURE_*
// variables an app registration would use.
func authorityEmulator(t *testing.T, a graphtest.Authority, opts graphtest.Options) (*graphtest.Server, string) {
	t.Helper()
	a.Tenant, a.ClientID, a.ClientSecret = testTenant, testClient, testSecret
	opts.TLS, opts.Authority = true, &a
	emu, err := graphtest.Listen("127.0.0.1:0", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emu.Close)
	ca := filepath.Join(t.TempDir(), "emulator.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: emu.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AZURE_TENANT_ID", testTenant)
	t.Setenv("AZURE_CLIENT_ID", testClient)
	t.Setenv("AZURE_CLIENT_SECRET", testSecret)
	t.Setenv("AZURE_AUTHORITY_HOST", emu.URL)
	t.Setenv("MSAL_FORCE_REGION", "")
	return emu, ca
}

// TestUpdateSignsInFromEnvironment runs update with nothing but the AZURE_*
// variables against an emulator that is the authority over TLS and that
// revokes every token in the middle of the run: every row must be
// updated, a new token fetched, and after the one 401 the revocation
// causes, no request sent with a refused token. (Tokens expiring during a
// long run are proven in batch's TestRunWithExpiringTokens, on a fake
// clock.)
func TestUpdateSignsInFromEnvironment(t *testing.T) {
	emu, ca := authorityEmulator(t, graphtest.Authority{RevokeAt: 15}, graphtest.Options{Limits: &graphtest.NoLimits})
	in := filepath.Join(t.TempDir(), "rows.csv")
	writeRows(t, in, 1200)
	out := filepath.Join(t.TempDir(), "results.csv")
	code, _, stderr := runCmd(t, "update", "device-statuses", "--in", in, "--out", out,
		"--graph-endpoint", emu.URL, "--ca-cert", ca, "--rate", "100000/s")
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	results := readResults(t, out)
	for _, r := range results {
		if r.Outcome != csvio.Updated {
			t.Errorf("row %d: %s %d %s", r.Row, r.Outcome, r.HTTPStatus, r.ErrorMessage)
		}
	}
	if len(results) != 1200 {
		t.Errorf("%d results, want 1200", len(results))
	}
	c := emu.Counters()
	if c.TokensIssued != 2 {
		t.Errorf("%d tokens issued, want 2: one at the start, one after the revocation", c.TokensIssued)
	}
	// With four workers, up to four envelopes may be in flight with the
	// revoked token; every later request must carry the new one.
	if c.Unauthorized < 1 || c.Unauthorized > 4 || c.ExpiredTokens != c.Unauthorized {
		t.Errorf("%d requests refused (%d with a revoked token), want 1 to 4, all revoked", c.Unauthorized, c.ExpiredTokens)
	}
}

// TestUpdateOutlivesItsTokens is the same run over TLS with tokens that
// live two seconds, in a run of about two and a half: graphbatch must
// replace each token before Graph would refuse it, although Entra ID
// announces them for 330 seconds (MSAL alone would keep one for 30), and
// the revocation must still cost exactly one refused request. It runs in
// real time, as real TLS sockets and MSAL's clock need; the same over 13
// minutes is batch's TestRunWithExpiringTokens, on a fake clock.
func TestUpdateOutlivesItsTokens(t *testing.T) {
	emu, ca := authorityEmulator(t,
		graphtest.Authority{TokenLifetime: 2 * time.Second, ExpiresIn: 330 * time.Second, RevokeAt: 10},
		graphtest.Options{Limits: &graphtest.NoLimits, Latency: 50 * time.Millisecond})
	in := filepath.Join(t.TempDir(), "rows.csv")
	writeRows(t, in, 1000)
	out := filepath.Join(t.TempDir(), "results.csv")
	start := time.Now()
	code, _, stderr := runCmd(t, "update", "device-statuses", "--in", in, "--out", out,
		"--graph-endpoint", emu.URL, "--ca-cert", ca, "--rate", "100000/s", "--concurrency", "1")
	elapsed := time.Since(start)
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	if n := len(readResults(t, out)); n != 1000 {
		t.Errorf("%d results, want 1000", n)
	}
	c := emu.Counters()
	t.Logf("%v: %d tokens issued, %d requests refused, %d with an expired or revoked token", elapsed, c.TokensIssued, c.Unauthorized, c.ExpiredTokens)
	if elapsed < 2*time.Second || c.TokensIssued < 3 {
		t.Errorf("%d tokens issued in %v; tokens were not replaced as they expired", c.TokensIssued, elapsed)
	}
	if c.Unauthorized != 1 || c.ExpiredTokens != 1 {
		t.Errorf("%d requests refused (%d expired or revoked), want only the one the revocation caused", c.Unauthorized, c.ExpiredTokens)
	}
}

func writeRows(t *testing.T, path string, n int) {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("policyId,id,status\n")
	for i := range n {
		b.WriteString("p1,d" + strconv.Itoa(i) + ",compliant\n")
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestWrongSecretStopsBeforeAnything checks that a refused sign-in exits 1
// with Entra ID's AADSTS code on one line and leaves the results file as
// it was.
func TestWrongSecretStopsBeforeAnything(t *testing.T) {
	emu, ca := authorityEmulator(t, graphtest.Authority{}, graphtest.Options{})
	t.Setenv("AZURE_CLIENT_SECRET", "the-secret-id-not-its-value")
	out := filepath.Join(t.TempDir(), "results.csv")
	code, stdout, stderr := runCmd(t, "update", "device-statuses", "--in", "../../samples/device-statuses.csv",
		"--out", out, "--graph-endpoint", emu.URL, "--ca-cert", ca)
	if code != exitFatal {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitFatal, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "AADSTS7000215") || !strings.Contains(lines[0], "hint:") {
		t.Errorf("stderr = %q, want one line with AADSTS7000215 and a hint", stderr)
	}
	if strings.Contains(stdout+stderr, "the-secret-id-not-its-value") {
		t.Error("the secret appears in the output")
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("results file touched by a run that could not sign in (stat: %v)", err)
	}
	if c := emu.Counters(); c.Envelopes != 0 {
		t.Errorf("%d envelopes sent after a failed sign-in", c.Envelopes)
	}
}

// TestNothingLeaksSecrets runs at debug level, with a 401 along the way,
// and searches everything graphbatch wrote for the secret and for tokens.
func TestNothingLeaksSecrets(t *testing.T) {
	emu, ca := authorityEmulator(t, graphtest.Authority{}, graphtest.Options{Limits: &graphtest.NoLimits})
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte(testSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AZURE_CLIENT_SECRET", "")
	out := filepath.Join(t.TempDir(), "results.csv")
	emu.RevokeTokens() // nothing issued yet: no effect, but keeps the test honest about the path below
	code, stdout, stderr := runCmd(t, "update", "device-statuses", "--in", "../../samples/with-errors.csv", "--out", out,
		"--graph-endpoint", emu.URL, "--ca-cert", ca, "--client-secret-file", secretFile, "--log-level", "debug", "--log-format", "json")
	if code != exitRowsFailed {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitRowsFailed, stderr)
	}
	results, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	all := stdout + stderr + string(results)
	for _, secret := range []string{testSecret, tokenPrefix, "Bearer "} {
		if strings.Contains(all, secret) {
			t.Errorf("output contains %q", secret)
		}
	}
	if !strings.Contains(stderr, `"auth":"secret"`) {
		t.Errorf("debug log does not say which sign-in method auto picked:\n%s", stderr)
	}
}

// TestGraphRefusingSignInStopsTheRun runs update without a token against
// an emulator that wants one: after the one refresh that cannot help,
// the run stops with exit 1, saying why and how to continue, and records
// no row as failed.
func TestGraphRefusingSignInStopsTheRun(t *testing.T) {
	emu, ca := authorityEmulator(t, graphtest.Authority{}, graphtest.Options{})
	out := filepath.Join(t.TempDir(), "results.csv")
	code, _, stderr := runCmd(t, "update", "device-statuses", "--in", "../../samples/device-statuses.csv",
		"--out", out, "--graph-endpoint", emu.URL, "--ca-cert", ca, "--auth", "none")
	if code != exitFatal {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitFatal, stderr)
	}
	// No token was sent, so none was "renewed" and no sign-in "failed"
	// (issue #10.11): the message says what happened.
	if !strings.Contains(stderr, "no token was sent (--auth none)") || !strings.Contains(stderr, "Access token is empty") ||
		strings.Contains(stderr, "sign-in failed") {
		t.Errorf("stderr does not say Graph wants a token, and why:\n%s", stderr)
	}
	if !strings.Contains(stderr, "Once it is fixed, continue with:") || !strings.Contains(stderr, "--resume") {
		t.Errorf("stderr does not say how to continue:\n%s", stderr)
	}
	if rows := readResults(t, out); len(rows) != 0 {
		t.Errorf("%d rows recorded; a refused sign-in must leave every row for --resume", len(rows))
	}
}
