package signin_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/graphbatch/graphbatch/graph"
	"github.com/graphbatch/graphbatch/graph/graphtest"
	"github.com/graphbatch/graphbatch/signin"
)

const (
	testTenant = "graphtest" // the emulator's default tenant
	testClient = "0b5e4c1a-6d2f-4f0e-9c7a-3d1e2f4a5b6c"
	testSecret = "Qx8~s3cret.value_that-must_not_leak"
	jwtBearer  = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
)

// quietMSAL unsets the environment that would make MSAL leave loopback:
// a forced region, or a managed identity source other than the test's.
// Tests calling it cannot be parallel.
func quietMSAL(t *testing.T) {
	t.Helper()
	for _, k := range []string{"MSAL_FORCE_REGION", "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT", "MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT"} {
		t.Setenv(k, "") // restores the variable after the test
		os.Unsetenv(k)
	}
}

// newEmulator starts a TLS emulator acting as authority a, which MSAL
// reaches on loopback with the emulator's client.
func newEmulator(t *testing.T, a *graphtest.Authority) *graphtest.Server {
	t.Helper()
	emu := graphtest.NewServer(graphtest.Options{TLS: true, Limits: &graphtest.NoLimits, Authority: a})
	t.Cleanup(emu.Close)
	return emu
}

// emulatedCloud is the global cloud with its authority host at url.
func emulatedCloud(url string) graph.Cloud {
	c := graph.Clouds[0]
	c.AuthorityHost = url
	return c
}

// appSignIn is the app-only sign-in for testClient against emu.
func appSignIn(emu *graphtest.Server) signin.Config {
	return signin.Config{Cloud: emulatedCloud(emu.URL), TenantID: testTenant, ClientID: testClient, HTTPClient: emu.Client()}
}

func newCredential(t *testing.T, s signin.Config, method signin.Method) signin.Credential {
	t.Helper()
	cred, err := signin.NewCredential(s, method)
	if err != nil {
		t.Fatalf("NewCredential(%s) error: %v", method, err)
	}
	if cred == nil {
		t.Fatalf("NewCredential(%s) = nil, want a credential", method)
	}
	return cred
}

// mustToken calls cred.Token and fails the test if it fails.
func mustToken(t *testing.T, cred signin.Credential, fresh bool) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	tok, err := cred.Token(ctx, fresh)
	if err != nil {
		t.Fatalf("Token(fresh=%v) error: %v", fresh, err)
	}
	if tok == "" {
		t.Fatalf("Token(fresh=%v) = \"\", want a token", fresh)
	}
	return tok
}

func checkTokensIssued(t *testing.T, emu *graphtest.Server, when string, want int) {
	t.Helper()
	if got := emu.Counters().TokensIssued; got != want {
		t.Errorf("%s: emulator issued %d tokens, want %d", when, got, want)
	}
}

// patchWith sends one PATCH to the emulator's Graph signed in with cred,
// and fails the test unless Graph accepts the token.
func patchWith(t *testing.T, emu *graphtest.Server, cred signin.Credential) {
	t.Helper()
	c := graph.NewClient(emu.Client(), emu.URL, signin.NewTokens(cred))
	br, err := c.Batch(t.Context(), graph.V1, []graph.Request{{
		ID: "1", Method: http.MethodPatch, URL: graphtest.DeviceStatusPath("policy", "device"),
		Headers: map[string]string{"Content-Type": "application/json"},
		Body:    json.RawMessage(`{"status":"compliant"}`),
	}})
	if err != nil {
		t.Fatalf("Batch signed in with the credential's token: %v", err)
	}
	if len(br.Responses) != 1 || br.Responses[0].Status != http.StatusOK {
		t.Errorf("Batch responses = %+v, want one 200", br.Responses)
	}
}

// TestSecretSignIn signs in with a client secret against the emulator:
// MSAL's cache serves a second token, fresh forces a new one, and the
// token is one the emulator's Graph accepts.
func TestSecretSignIn(t *testing.T) {
	quietMSAL(t)
	emu := newEmulator(t, &graphtest.Authority{ClientID: testClient, ClientSecret: testSecret})
	s := appSignIn(emu)
	s.ClientSecret = testSecret
	cred := newCredential(t, s, signin.Secret)

	first := mustToken(t, cred, false)
	checkTokensIssued(t, emu, "first Token", 1)
	if info, ok := signin.ParseTokenInfo(first); !ok || info.AppID != testClient || info.TenantID != testTenant {
		t.Errorf("ParseTokenInfo(first token) = %+v, %v; want appid %q, tid %q", info, ok, testClient, testTenant)
	}

	if again := mustToken(t, cred, false); again != first {
		t.Errorf("second Token(fresh=false) returned a new token, want the cached one")
	}
	checkTokensIssued(t, emu, "second Token(fresh=false)", 1)

	fresh := mustToken(t, cred, true)
	if fresh == first {
		t.Errorf("Token(fresh=true) returned the cached token, want a new one")
	}
	checkTokensIssued(t, emu, "Token(fresh=true)", 2)
	if again := mustToken(t, cred, false); again != fresh {
		t.Errorf("Token(fresh=false) after a fresh one did not return the fresh token")
	}
	checkTokensIssued(t, emu, "Token(fresh=false) after a fresh one", 2)

	patchWith(t, emu, cred)
}

// TestAuthorityHostOverride checks that Config.AuthorityHost wins over the
// cloud's host.
func TestAuthorityHostOverride(t *testing.T) {
	quietMSAL(t)
	emu := newEmulator(t, &graphtest.Authority{ClientID: testClient, ClientSecret: testSecret})
	s := signin.Config{
		Cloud:         graph.Clouds[1], // usgov: would leave loopback if AuthorityHost were ignored
		AuthorityHost: emu.URL + "/",
		TenantID:      testTenant, ClientID: testClient, ClientSecret: testSecret,
		HTTPClient: emu.Client(),
	}
	mustToken(t, newCredential(t, s, signin.Secret), false)
	checkTokensIssued(t, emu, "Token", 1)
}

// TestSignInErrors checks that sign-in failures come back as one-line
// *signin.Error values with Entra ID's code and a hint, and without
// the secret.
func TestSignInErrors(t *testing.T) {
	quietMSAL(t)
	emu := newEmulator(t, &graphtest.Authority{ClientID: testClient, ClientSecret: testSecret})
	const wrongSecret = "Wr0ng~secret.value_also-secret"
	tests := []struct {
		name     string
		tenant   string
		client   string
		secret   string
		wantCode string
	}{
		{"wrong secret", testTenant, testClient, wrongSecret, "AADSTS7000215"},
		{"unknown client", testTenant, "99999999-0000-0000-0000-000000000000", testSecret, "AADSTS700016"},
		{"unknown tenant", "fabrikam", testClient, testSecret, "AADSTS90002"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := appSignIn(emu)
			s.TenantID, s.ClientID, s.ClientSecret = tt.tenant, tt.client, tt.secret
			cred := newCredential(t, s, signin.Secret)
			_, err := cred.Token(t.Context(), false)
			var ae *signin.Error
			if !errors.As(err, &ae) {
				t.Fatalf("Token error = %v (%T), want a *signin.Error", err, err)
			}
			if ae.Code != tt.wantCode {
				t.Errorf("Error.Code = %q, want %q", ae.Code, tt.wantCode)
			}
			if ae.Hint == "" {
				t.Errorf("Error.Hint is empty for %s", ae.Code)
			}
			msg := err.Error()
			if strings.ContainsAny(msg, "\r\n") {
				t.Errorf("Error() = %q, want one line", msg)
			}
			if strings.Contains(msg, "Trace ID") || strings.Contains(ae.Description, "Trace ID") {
				t.Errorf("Error() = %q, want it without Entra ID's trace lines", msg)
			}
			if strings.Contains(msg, tt.secret) {
				t.Errorf("Error() = %q contains the client secret", msg)
			}
			if !strings.HasPrefix(msg, tt.wantCode+": ") {
				t.Errorf("Error() = %q, want it to start with %q", msg, tt.wantCode+": ")
			}
		})
	}
	checkTokensIssued(t, emu, "failed sign-ins", 0)
}

// TestTokenKeepsContextError checks that a sign-in stopped by its context
// still says so: the command maps context.Canceled to "interrupted" (exit
// 130), and a Ctrl-C at the device code prompt must not read as a failed
// sign-in.
func TestTokenKeepsContextError(t *testing.T) {
	quietMSAL(t)
	emu := newEmulator(t, &graphtest.Authority{ClientID: testClient, ClientSecret: testSecret})
	s := appSignIn(emu)
	s.ClientSecret = testSecret
	cred := newCredential(t, s, signin.Secret)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := cred.Token(ctx, false)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Token(canceled ctx) error = %v (%T), want one that errors.Is context.Canceled", err, err)
	}
}

// failingTransport fails every request with err, as a proxy, DNS or TLS
// failure would.
type failingTransport struct{ err error }

func (f failingTransport) RoundTrip(*http.Request) (*http.Response, error) { return nil, f.err }

// TestTokenSaysWhyTheNetworkFailed checks that a sign-in that cannot reach
// Entra ID says why: MSAL puts the cause on the line after its own words.
func TestTokenSaysWhyTheNetworkFailed(t *testing.T) {
	quietMSAL(t)
	cause := errors.New("proxyconnect tcp: dial tcp 192.0.2.7:3128: connect: connection refused")
	s := signin.Config{
		Cloud: emulatedCloud("https://login.unreachable.test"), TenantID: "contoso", ClientID: testClient, ClientSecret: testSecret,
		HTTPClient: &http.Client{Transport: failingTransport{cause}},
	}
	_, err := newCredential(t, s, signin.Secret).Token(t.Context(), false)
	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("Token through a failing proxy error = %q, want it to tell %q", err, cause)
	}
}

// fakeAuthority returns a mux answering OpenID discovery for any tenant on
// the host it is reached by, and failing the test on requests no route
// was registered for. Tests add the token endpoint and what else they use.
func fakeAuthority(t *testing.T) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		base := "https://" + r.Host + "/" + r.PathValue("tenant")
		writeJSON(w, http.StatusOK, map[string]string{
			"issuer":                 base + "/v2.0",
			"token_endpoint":         base + "/oauth2/v2.0/token",
			"authorization_endpoint": base + "/oauth2/v2.0/authorize",
		})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("fake authority: unexpected request %s %s", r.Method, r.URL)
		http.Error(w, "unexpected request", http.StatusNotImplemented)
	})
	return mux
}

// serveTLS serves h over TLS on loopback until the test ends.
func serveTLS(t *testing.T, h http.Handler) *httptest.Server {
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// inProcess is an http.RoundTripper that serves requests with a handler in
// the caller's goroutine: no sockets, so it works in a synctest bubble.
type inProcess struct{ h http.Handler }

func (p inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	sreq := req.Clone(req.Context())
	sreq.RequestURI = req.URL.RequestURI()
	sreq.RemoteAddr = "192.0.2.1:49152"
	w := httptest.NewRecorder()
	p.h.ServeHTTP(w, sreq)
	return w.Result(), nil
}

// assertionLog records the client assertions a fake token endpoint got.
type assertionLog struct {
	mu         sync.Mutex
	assertions []string
}

func (l *assertionLog) got() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.assertions...)
}

// workloadAuthority is a fake authority whose token endpoint takes a
// federated client assertion for testClient and records it.
func workloadAuthority(t *testing.T) (*http.ServeMux, *assertionLog) {
	log := &assertionLog{}
	mux := fakeAuthority(t)
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Errorf("token request: %v", err)
		}
		f := r.PostForm
		for k, want := range map[string]string{"grant_type": "client_credentials", "client_id": testClient, "client_assertion_type": jwtBearer} {
			if got := f.Get(k); got != want {
				t.Errorf("token request %s = %q, want %q", k, got, want)
			}
		}
		if f.Has("client_secret") {
			t.Errorf("token request carries a client_secret, want only the federated assertion")
		}
		log.mu.Lock()
		log.assertions = append(log.assertions, f.Get("client_assertion"))
		n := len(log.assertions)
		log.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"token_type": "Bearer", "access_token": fmt.Sprintf("wi-token-%d", n), "expires_in": 3600})
	})
	return mux, log
}

// TestWorkloadIdentitySignIn signs in with a federated token file: its
// contents, without the trailing newline, are the client assertion.
func TestWorkloadIdentitySignIn(t *testing.T) {
	quietMSAL(t)
	mux, log := workloadAuthority(t)
	srv := serveTLS(t, mux)
	file := filepath.Join(t.TempDir(), "azure-identity-token")
	const federated = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6ZGVmYXVsdDpncmFwaGJhdGNoIn0.c2ln"
	if err := os.WriteFile(file, []byte(federated+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := signin.Config{Cloud: emulatedCloud(srv.URL), TenantID: "contoso", ClientID: testClient, FederatedTokenFile: file, HTTPClient: srv.Client()}
	cred := newCredential(t, s, signin.WorkloadIdentity)
	if tok := mustToken(t, cred, false); tok != "wi-token-1" {
		t.Errorf("Token = %q, want %q", tok, "wi-token-1")
	}
	mustToken(t, cred, false) // from MSAL's cache: no request
	if diff := cmp.Diff([]string{federated}, log.got()); diff != "" {
		t.Errorf("client assertions sent (-want +got):\n%s", diff)
	}
}

// TestWorkloadIdentityMissingFile checks that an unreadable token file
// fails the sign-in and says which file.
func TestWorkloadIdentityMissingFile(t *testing.T) {
	quietMSAL(t)
	mux, log := workloadAuthority(t)
	srv := serveTLS(t, mux)
	file := filepath.Join(t.TempDir(), "no-such-token")
	s := signin.Config{Cloud: emulatedCloud(srv.URL), TenantID: "contoso", ClientID: testClient, FederatedTokenFile: file, HTTPClient: srv.Client()}
	cred := newCredential(t, s, signin.WorkloadIdentity)
	_, err := cred.Token(t.Context(), false)
	if err == nil || !strings.Contains(err.Error(), "federated token") {
		t.Errorf("Token with a missing token file error = %v, want one about the federated token", err)
	}
	if got := log.got(); len(got) != 0 {
		t.Errorf("token requests sent with a missing file: %q", got)
	}
}

// TestWorkloadIdentityRereadsTokenFile runs on a fake clock: a rotated
// token file is read again once the read token is 5 minutes old, not
// before.
func TestWorkloadIdentityRereadsTokenFile(t *testing.T) {
	quietMSAL(t)
	file := filepath.Join(t.TempDir(), "azure-identity-token")
	write := func(s string) {
		if err := os.WriteFile(file, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	synctest.Test(t, func(t *testing.T) {
		mux, log := workloadAuthority(t)
		cloud := graph.Cloud{Name: "test", GraphRoot: "https://graph.workload.test", AuthorityHost: "https://login.workload.test"}
		s := signin.Config{Cloud: cloud, TenantID: "contoso", ClientID: testClient, FederatedTokenFile: file, HTTPClient: &http.Client{Transport: inProcess{mux}}}
		cred := newCredential(t, s, signin.WorkloadIdentity)

		write("federated-1")
		mustToken(t, cred, false)
		write("federated-2") // rotated by the kubelet
		time.Sleep(time.Minute)
		mustToken(t, cred, true) // a new token request, still with the read token
		time.Sleep(5 * time.Minute)
		mustToken(t, cred, true) // the read token is too old: the file is read again
		if diff := cmp.Diff([]string{"federated-1", "federated-1", "federated-2"}, log.got()); diff != "" {
			t.Errorf("client assertions sent at 0, 1 and 6 minutes (-want +got):\n%s", diff)
		}
	})
}

// TestManagedIdentitySignIn gets tokens from the emulator's App Service
// managed identity endpoint, for the system-assigned identity and for a
// user-assigned one. MSAL's managed identity cache is process-wide, so each
// run asks for its own resource.
func TestManagedIdentitySignIn(t *testing.T) {
	tests := []struct {
		name      string
		clientID  string
		wantAppID string
	}{
		{"system-assigned", "", "system-assigned"},
		{"user-assigned", "7c6a1f3e-2b4d-4e5f-8a9b-0c1d2e3f4a5b", "7c6a1f3e-2b4d-4e5f-8a9b-0c1d2e3f4a5b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			quietMSAL(t)
			const header = "identity-header-value"
			emu := newEmulator(t, &graphtest.Authority{IdentityHeader: header})
			t.Setenv("IDENTITY_ENDPOINT", emu.URL+"/msi/token")
			t.Setenv("IDENTITY_HEADER", header)
			cloud := graph.Cloud{Name: "test", GraphRoot: "https://graph-" + uuid.NewString() + ".test", AuthorityHost: emu.URL}
			s := signin.Config{Cloud: cloud, ClientID: tt.clientID, ManagedIdentityEnv: true, HTTPClient: emu.Client()}
			if m, err := s.Resolve(); err != nil || m != signin.ManagedIdentity {
				t.Errorf("Resolve() = %q, %v; want %q", m, err, signin.ManagedIdentity)
			}
			cred := newCredential(t, s, signin.ManagedIdentity)

			tok := mustToken(t, cred, false)
			checkTokensIssued(t, emu, "first Token", 1)
			if info, ok := signin.ParseTokenInfo(tok); !ok || info.AppID != tt.wantAppID {
				t.Errorf("ParseTokenInfo(token) = %+v, %v; want appid %q", info, ok, tt.wantAppID)
			}
			if again := mustToken(t, cred, false); again != tok {
				t.Errorf("second Token(fresh=false) returned a new token, want the cached one")
			}
			checkTokensIssued(t, emu, "second Token(fresh=false)", 1)
			if fresh := mustToken(t, cred, true); fresh == tok {
				t.Errorf("Token(fresh=true) returned the cached token, want a new one")
			}
			checkTokensIssued(t, emu, "Token(fresh=true)", 2)
			patchWith(t, emu, cred)
		})
	}
}

// deviceAuthority is a fake Entra ID for the device code flow and refresh
// tokens, counting what it was asked.
type deviceAuthority struct {
	t                                *testing.T
	deviceCodes, polls, refreshes    atomic.Int32
	mu                               sync.Mutex
	refreshToken                     string // the one last issued
	refreshClaims                    []string
	clientID, tenant, scope, message string
}

func (a *deviceAuthority) mux() *http.ServeMux {
	mux := fakeAuthority(a.t)
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/devicecode", func(w http.ResponseWriter, r *http.Request) {
		a.deviceCodes.Add(1)
		_ = r.ParseForm()
		if got := r.PostForm.Get("client_id"); got != a.clientID {
			a.t.Errorf("devicecode request client_id = %q, want %q", got, a.clientID)
		}
		if got := r.PostForm.Get("scope"); !strings.Contains(got, a.scope) {
			a.t.Errorf("devicecode request scope = %q, want it to contain %q", got, a.scope)
		}
		if got := r.PathValue("tenant"); got != a.tenant {
			a.t.Errorf("devicecode request for tenant %q, want %q", got, a.tenant)
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"device_code": "device-code-1", "user_code": "ABCD-EFGH",
			"verification_uri": "https://microsoft.com/devicelogin",
			"expires_in":       900, "interval": 5, "message": a.message,
		})
	})
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		f := r.PostForm
		switch f.Get("grant_type") {
		case "device_code", "urn:ietf:params:oauth:grant-type:device_code": // MSAL Go sends the short form
			if got := f.Get("device_code"); got != "device-code-1" {
				a.t.Errorf("token request device_code = %q, want %q", got, "device-code-1")
			}
			if a.polls.Add(1) == 1 {
				writeJSON(w, http.StatusBadRequest, map[string]any{"error": "authorization_pending", "error_description": "AADSTS70016: OAuth 2.0 device flow error. Authorization is pending. Continue polling."})
				return
			}
			a.issue(w, "at-1", "rt-1")
		case "refresh_token":
			a.mu.Lock()
			want := a.refreshToken
			a.refreshClaims = append(a.refreshClaims, f.Get("claims"))
			a.mu.Unlock()
			if got := f.Get("refresh_token"); got != want {
				a.t.Errorf("refresh_token = %q, want %q", got, want)
				writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_grant", "error_description": "AADSTS70000: bad refresh token"})
				return
			}
			n := a.refreshes.Add(1) + 1
			a.issue(w, fmt.Sprintf("at-%d", n), fmt.Sprintf("rt-%d", n))
		default:
			a.t.Errorf("token request grant_type = %q, want device_code or refresh_token", f.Get("grant_type"))
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "unsupported_grant_type"})
		}
	})
	return mux
}

func (a *deviceAuthority) issue(w http.ResponseWriter, at, rt string) {
	a.mu.Lock()
	a.refreshToken = rt
	a.mu.Unlock()
	b64 := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	now := time.Now().Unix()
	idToken := "h." + b64(map[string]any{
		"oid": "user-oid", "sub": "user-sub", "tid": a.tenant, "preferred_username": "admin@contoso.test",
		"aud": a.clientID, "iat": now, "exp": now + 3600,
	}) + ".s"
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type": "Bearer", "access_token": at, "expires_in": 3600, "refresh_token": rt,
		"id_token": idToken, "client_info": b64(map[string]string{"uid": "user-oid", "utid": a.tenant}),
	})
}

// TestDeviceCodeSignIn signs a person in with a device code, keeps the
// sign-in in a 0600 file, and checks that the next run (a new credential)
// is silent, redeeming the saved refresh token when asked for a fresh one.
func TestDeviceCodeSignIn(t *testing.T) {
	quietMSAL(t)
	a := &deviceAuthority{
		t: t, clientID: testClient, tenant: "contoso", scope: graph.Clouds[0].Scope(),
		message: "To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code ABCD-EFGH to authenticate.",
	}
	srv := serveTLS(t, a.mux())
	var prompt bytes.Buffer
	cachePath := filepath.Join(t.TempDir(), "graphbatch", "cache.json")
	s := signin.Config{
		Method: signin.DeviceCode, Cloud: emulatedCloud(srv.URL), TenantID: "contoso", ClientID: testClient,
		Interactive: true, Prompt: &prompt, TokenCachePath: cachePath, HTTPClient: srv.Client(),
	}
	if m, err := s.Resolve(); err != nil || m != signin.DeviceCode {
		t.Fatalf("Resolve() = %q, %v; want %q", m, err, signin.DeviceCode)
	}

	if tok := mustToken(t, newCredential(t, s, signin.DeviceCode), false); tok != "at-1" {
		t.Errorf("first run: Token = %q, want %q", tok, "at-1")
	}
	if got := prompt.String(); strings.Count(got, a.message) != 1 {
		t.Errorf("prompt = %q, want the device code message once", got)
	}
	if n := a.deviceCodes.Load(); n != 1 {
		t.Errorf("first run: %d devicecode requests, want 1", n)
	}
	if n := a.polls.Load(); n != 2 {
		t.Errorf("first run: %d device code polls, want 2 (pending, then signed in)", n)
	}
	fi, err := os.Stat(cachePath)
	if err != nil {
		t.Fatalf("token cache: %v", err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("token cache mode = %v, want -rw-------", mode)
	}
	if di, err := os.Stat(filepath.Dir(cachePath)); err != nil || di.Mode().Perm() != 0o700 {
		t.Errorf("token cache directory: %v, %v; want mode drwx------", di.Mode(), err)
	}
	if b, _ := os.ReadFile(cachePath); !bytes.Contains(b, []byte("rt-1")) {
		t.Errorf("token cache does not hold the refresh token: %s", b)
	}

	// The next run: a new MSAL client, from the file alone.
	second := newCredential(t, s, signin.DeviceCode)
	if tok := mustToken(t, second, false); tok != "at-1" {
		t.Errorf("second run: Token = %q, want the saved %q", tok, "at-1")
	}
	if tok := mustToken(t, second, true); tok != "at-2" {
		t.Errorf("second run: Token(fresh=true) = %q, want %q from the refresh token", tok, "at-2")
	}
	if n := a.deviceCodes.Load(); n != 1 {
		t.Errorf("after the second run: %d devicecode requests, want still 1", n)
	}
	if n := a.refreshes.Load(); n != 1 {
		t.Errorf("after the second run: %d refresh token redemptions, want 1", n)
	}
	a.mu.Lock()
	if len(a.refreshClaims) != 1 || !strings.Contains(a.refreshClaims[0], `"access_token"`) {
		t.Errorf("refresh token request claims = %q, want the fresh-token claims challenge", a.refreshClaims)
	}
	a.mu.Unlock()

	// A third run sees what the second wrote.
	if tok := mustToken(t, newCredential(t, s, signin.DeviceCode), false); tok != "at-2" {
		t.Errorf("third run: Token = %q, want %q saved by the second", tok, "at-2")
	}
	if got := prompt.String(); strings.Count(got, a.message) != 1 {
		t.Errorf("prompt after three runs = %q, want the device code message once", got)
	}
}

// TestDeviceCodeUnreadableCache: a token cache file that does not hold a
// cache (empty, or not JSON) counts as no cache: the person signs in
// again and the file is written anew, rather than every later sign-in
// failing on it, after the person has entered the code.
func TestDeviceCodeUnreadableCache(t *testing.T) {
	quietMSAL(t)
	for _, content := range []string{"", "{not json"} {
		a := &deviceAuthority{t: t, clientID: testClient, tenant: "contoso", scope: graph.Clouds[0].Scope(), message: "enter the code"}
		srv := serveTLS(t, a.mux())
		cachePath := writeFile(t, "cache.json", []byte(content))
		s := signin.Config{
			Cloud: emulatedCloud(srv.URL), TenantID: "contoso", ClientID: testClient,
			Interactive: true, TokenCachePath: cachePath, HTTPClient: srv.Client(),
		}
		if tok, err := newCredential(t, s, signin.DeviceCode).Token(t.Context(), false); tok != "at-1" || err != nil {
			t.Errorf("cache %q: Token = %q, %v; want %q, nil", content, tok, err, "at-1")
		}
		if b, _ := os.ReadFile(cachePath); !bytes.Contains(b, []byte("rt-1")) {
			t.Errorf("cache %q: afterwards the file holds %q, want the new sign-in", content, b)
		}
	}
}

// TestDeviceCodePromptCleaned: the device code message comes from the
// authority, and reaches the person's terminal without the controls that
// would drive it or the overrides that would show it reversed.
func TestDeviceCodePromptCleaned(t *testing.T) {
	quietMSAL(t)
	a := &deviceAuthority{
		t: t, clientID: testClient, tenant: "contoso", scope: graph.Clouds[0].Scope(),
		message: "To sign in, open \x1b]8;;https://evil.test\x07https://microsoft.com/devicelogin\x1b]8;;\x07 and enter the code \u202eHGFE-DCBA\x1b[2J",
	}
	srv := serveTLS(t, a.mux())
	var prompt bytes.Buffer
	s := signin.Config{Cloud: emulatedCloud(srv.URL), TenantID: "contoso", ClientID: testClient, Interactive: true, Prompt: &prompt, HTTPClient: srv.Client()}
	mustToken(t, newCredential(t, s, signin.DeviceCode), false)
	if got := prompt.String(); got == "" || strings.ContainsAny(got, "\x1b\x07\u202e") {
		t.Errorf("prompt = %q, want the message with its controls and overrides escaped", got)
	}
}

// TestExplain checks how Entra ID's and MSAL's errors become an
// *signin.Error: Entra ID answers are served by a fake token endpoint,
// one per tenant, to a secret credential.
func TestExplain(t *testing.T) {
	quietMSAL(t)
	const trace = "\r\nTrace ID: 0f3e0f4c-1b5e-4a48-9c1d-2f9a5b7c6d00\r\nCorrelation ID: 6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d\r\nTimestamp: 2025-02-13 10:17:06Z"
	answers := map[string]struct {
		status      int
		contentType string
		body        string
	}{
		"json": {http.StatusBadRequest, "application/json", mustJSON(map[string]any{
			"error":             "unauthorized_client",
			"error_description": "AADSTS700016: Application with identifier 'app' was not found in the directory 'Contoso'. This can happen if the application has not been installed by the administrator of the tenant." + trace,
			"error_codes":       []int{700016},
		})},
		"text": {http.StatusUnauthorized, "text/plain", "AADSTS7000222: The provided client secret keys for app 'app' are expired." + trace},
		"unknown-code": {http.StatusBadRequest, "application/json", mustJSON(map[string]any{
			"error": "invalid_request", "error_description": "AADSTS9999999: Something new." + trace,
		})},
		"no-code":  {http.StatusInternalServerError, "application/json", `{"error":"server_error"}`},
		"no-token": {http.StatusOK, "application/json", `{"token_type":"Bearer","expires_in":3600}`},
	}
	mux := fakeAuthority(t)
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", func(w http.ResponseWriter, r *http.Request) {
		a := answers[r.PathValue("tenant")]
		w.Header().Set("Content-Type", a.contentType)
		w.WriteHeader(a.status)
		io.WriteString(w, a.body)
	})
	srv := serveTLS(t, mux)

	tests := []struct {
		tenant   string
		want     signin.Error
		wantHint string // in Hint; "" wants none
	}{
		{"json", signin.Error{Code: "AADSTS700016", Description: "Application with identifier 'app' was not found in the directory 'Contoso'. This can happen if the application has not been installed by the administrator of the tenant."}, "AZURE_CLIENT_ID"},
		{"text", signin.Error{Code: "AADSTS7000222", Description: "The provided client secret keys for app 'app' are expired."}, "expired"},
		{"unknown-code", signin.Error{Code: "AADSTS9999999", Description: "Something new."}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.tenant, func(t *testing.T) {
			ae := signInError(t, srv, tt.tenant)
			if ae.Code != tt.want.Code || ae.Description != tt.want.Description {
				t.Errorf("Error = {Code: %q, Description: %q}, want {Code: %q, Description: %q}", ae.Code, ae.Description, tt.want.Code, tt.want.Description)
			}
			if tt.wantHint == "" && ae.Hint != "" || !strings.Contains(ae.Hint, tt.wantHint) {
				t.Errorf("Error.Hint = %q, want one mentioning %q", ae.Hint, tt.wantHint)
			}
		})
	}
	// Without an AADSTS code the description is the first line of MSAL's
	// error, which has no more to say.
	for _, tt := range []struct{ tenant, want string }{{"no-code", "500"}, {"no-token", "access_token"}} {
		t.Run(tt.tenant, func(t *testing.T) {
			ae := signInError(t, srv, tt.tenant)
			if ae.Code != "" || ae.Hint != "" {
				t.Errorf("Error = {Code: %q, Hint: %q}, want neither", ae.Code, ae.Hint)
			}
			if ae.Description == "" || strings.ContainsAny(ae.Description, "\r\n") || !strings.Contains(ae.Description, tt.want) {
				t.Errorf("Error.Description = %q, want one line mentioning %q", ae.Description, tt.want)
			}
		})
	}
}

// TestExplainCleansDescription: the description after an AADSTS code is
// text from a server, cleaned as the rest of MSAL's error is: controls
// and text direction overrides shown escaped, cut to graph.MaxMessage.
func TestExplainCleansDescription(t *testing.T) {
	quietMSAL(t)
	mux := fakeAuthority(t)
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, "AADSTS7000215: Invalid client secret for \u202eexe.txt, \x1b[2J"+strings.Repeat(" and more", 1000))
	})
	ae := signInError(t, serveTLS(t, mux), "contoso")
	if strings.ContainsAny(ae.Description, "\u202e\x1b") || len([]rune(ae.Description)) > graph.MaxMessage {
		t.Errorf("Error.Description = %q (%d characters), want no control or direction characters, at most %d characters",
			ae.Description, len([]rune(ae.Description)), graph.MaxMessage)
	}
}

// signInError signs in to tenant with a secret and returns the error.
func signInError(t *testing.T, srv *httptest.Server, tenant string) *signin.Error {
	t.Helper()
	s := signin.Config{Cloud: emulatedCloud(srv.URL), TenantID: tenant, ClientID: testClient, ClientSecret: testSecret, HTTPClient: srv.Client()}
	_, err := newCredential(t, s, signin.Secret).Token(t.Context(), false)
	var ae *signin.Error
	if !errors.As(err, &ae) {
		t.Fatalf("Token error = %v (%T), want a *signin.Error", err, err)
	}
	if msg := err.Error(); strings.ContainsAny(msg, "\r\n") || strings.Contains(msg, "Trace ID") || strings.Contains(msg, testSecret) {
		t.Errorf("Error() = %q, want one line without trace or secret", msg)
	}
	return ae
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestErrorString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		e    signin.Error
		want string
	}{
		{signin.Error{Code: "AADSTS90002", Description: "Tenant 'x' not found.", Hint: "no such tenant"}, "AADSTS90002: Tenant 'x' not found. (hint: no such tenant)"},
		{signin.Error{Code: "AADSTS90002", Description: "AADSTS90002: Tenant 'x' not found."}, "AADSTS90002: Tenant 'x' not found."},
		{signin.Error{Description: "context deadline exceeded"}, "context deadline exceeded"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("%+v.Error() = %q, want %q", tt.e, got, tt.want)
		}
	}
}

// Certificates.

var (
	appKey   = sync.OnceValue(func() *rsa.PrivateKey { return mustRSAKey() })
	otherKey = sync.OnceValue(func() *rsa.PrivateKey { return mustRSAKey() })
)

func mustRSAKey() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}

// newCert returns a certificate for key's public half with common name cn,
// issued by parent (signed with parentKey), or self-signed if parent is nil.
func newCert(t *testing.T, key crypto.Signer, cn string, parent *x509.Certificate, parentKey crypto.Signer) *x509.Certificate {
	t.Helper()
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: parent == nil,
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func pemCerts(certs ...*x509.Certificate) []byte {
	var b []byte
	for _, c := range certs {
		b = append(b, pemBlock("CERTIFICATE", c.Raw)...)
	}
	return b
}

func pkcs8(t *testing.T, key any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pemBlock("PRIVATE KEY", der)
}

func pfx(t *testing.T, enc *pkcs12.Encoder, key any, leaf *x509.Certificate, chain []*x509.Certificate, password string) []byte {
	t.Helper()
	b, err := enc.Encode(key, leaf, chain, password)
	if err != nil {
		t.Fatalf("encoding a PFX: %v", err)
	}
	return b
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCertificateSignIn signs in with the certificate in each file format
// LoadCertificate reads; the emulator verifies the assertion's signature
// with the registered certificate.
func TestCertificateSignIn(t *testing.T) {
	quietMSAL(t)
	key, caKey := appKey(), otherKey()
	self := newCert(t, key, "graphbatch test app", nil, nil)
	ca := newCert(t, caKey, "graphbatch test CA", nil, nil)
	leaf := newCert(t, key, "graphbatch test app (CA-issued)", ca, caKey)
	const pw = "pfx password"
	tests := []struct {
		name      string
		data      []byte
		password  string
		cert      *x509.Certificate // the registered certificate
		wantCerts int
	}{
		{"PEM, PKCS#8 key", append(pemCerts(self), pkcs8(t, key)...), "", self, 1},
		{"PEM, PKCS#1 key", append(pemCerts(self), pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key))...), "", self, 1},
		{"PEM, key before certificate", append(pkcs8(t, key), pemCerts(self)...), "", self, 1},
		{"PEM, chain", append(pemCerts(leaf, ca), pkcs8(t, key)...), "", leaf, 2},
		{"PFX, OpenSSL 3 default (AES-256-CBC, SHA-256 MAC)", pfx(t, pkcs12.Modern2023, key, self, nil, pw), pw, self, 1},
		{"PFX, legacy RC2", pfx(t, pkcs12.LegacyRC2, key, self, nil, pw), pw, self, 1},
		{"PFX, legacy 3DES", pfx(t, pkcs12.LegacyDES, key, self, nil, pw), pw, self, 1},
		{"PFX, no password", pfx(t, pkcs12.Passwordless, key, self, nil, ""), "", self, 1},
		{"PFX, chain", pfx(t, pkcs12.Modern, key, leaf, []*x509.Certificate{ca}, pw), pw, leaf, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, "app-cert", tt.data)
			certs, k, err := signin.LoadCertificate(path, tt.password)
			if err != nil {
				t.Fatalf("LoadCertificate error: %v", err)
			}
			if rk, ok := k.(*rsa.PrivateKey); !ok || !rk.Equal(key) {
				t.Errorf("LoadCertificate key = %T, want the app's RSA key", k)
			}
			if len(certs) != tt.wantCerts || !containsCert(certs, tt.cert) {
				t.Errorf("LoadCertificate returned %d certificates, want %d including %q", len(certs), tt.wantCerts, tt.cert.Subject.CommonName)
			}

			emu := newEmulator(t, &graphtest.Authority{ClientID: testClient, Certificate: tt.cert})
			s := appSignIn(emu)
			s.CertificatePath, s.CertificatePassword = path, tt.password
			if m, err := s.Resolve(); err != nil || m != signin.Certificate {
				t.Errorf("Resolve() = %q, %v; want %q", m, err, signin.Certificate)
			}
			mustToken(t, newCredential(t, s, signin.Certificate), false)
			checkTokensIssued(t, emu, "Token", 1)
		})
	}
}

func containsCert(certs []*x509.Certificate, c *x509.Certificate) bool {
	for _, x := range certs {
		if x.Equal(c) {
			return true
		}
	}
	return false
}

// formRecorder records the forms POSTed through it.
type formRecorder struct {
	base  http.RoundTripper
	mu    sync.Mutex
	forms []url.Values
}

func (r *formRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPost && req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		form, _ := url.ParseQuery(string(b))
		r.mu.Lock()
		r.forms = append(r.forms, form)
		r.mu.Unlock()
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	return r.base.RoundTrip(req)
}

// TestCertificateSendX5C checks that SendX5C puts the chain in the
// assertion's x5c header, leaf first, and that the assertion still verifies.
func TestCertificateSendX5C(t *testing.T) {
	quietMSAL(t)
	key, caKey := appKey(), otherKey()
	ca := newCert(t, caKey, "graphbatch test CA", nil, nil)
	leaf := newCert(t, key, "graphbatch test app", ca, caKey)
	path := writeFile(t, "app.pfx", pfx(t, pkcs12.Modern, key, leaf, []*x509.Certificate{ca}, "pw"))
	std := base64.StdEncoding.EncodeToString
	for _, tt := range []struct {
		send bool
		want []string
	}{
		{false, nil},
		{true, []string{std(leaf.Raw), std(ca.Raw)}},
	} {
		t.Run(fmt.Sprintf("SendX5C=%v", tt.send), func(t *testing.T) {
			emu := newEmulator(t, &graphtest.Authority{ClientID: testClient, Certificate: leaf})
			rec := &formRecorder{base: emu.Client().Transport}
			s := appSignIn(emu)
			s.HTTPClient = &http.Client{Transport: rec}
			s.CertificatePath, s.CertificatePassword, s.SendX5C = path, "pw", tt.send
			mustToken(t, newCredential(t, s, signin.Certificate), false)
			checkTokensIssued(t, emu, "Token", 1)

			rec.mu.Lock()
			defer rec.mu.Unlock()
			if len(rec.forms) != 1 {
				t.Fatalf("%d token requests, want 1", len(rec.forms))
			}
			f := rec.forms[0]
			if got := f.Get("client_assertion_type"); got != jwtBearer {
				t.Errorf("client_assertion_type = %q, want %q", got, jwtBearer)
			}
			var head struct {
				Alg     string   `json:"alg"`
				X5C     []string `json:"x5c"`
				X5TS256 string   `json:"x5t#S256"`
			}
			part, _, _ := strings.Cut(f.Get("client_assertion"), ".")
			if b, err := base64.RawURLEncoding.DecodeString(part); err != nil || json.Unmarshal(b, &head) != nil {
				t.Fatalf("client_assertion header %q is not base64url JSON", part)
			}
			if head.Alg != "PS256" || head.X5TS256 == "" {
				t.Errorf("assertion header alg = %q, x5t#S256 = %q; want PS256 and a thumbprint", head.Alg, head.X5TS256)
			}
			if diff := cmp.Diff(tt.want, head.X5C); diff != "" {
				t.Errorf("assertion header x5c (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLoadCertificateErrors checks that files LoadCertificate cannot use
// are refused with an error naming the file and the problem, and never the
// password.
func TestLoadCertificateErrors(t *testing.T) {
	t.Parallel()
	key := appKey()
	self := newCert(t, key, "graphbatch test app", nil, nil)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecCert := newCert(t, ecKey, "graphbatch EC app", nil, nil)
	sec1, err := x509.MarshalECPrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	const pw = "right password"
	modern := pfx(t, pkcs12.Modern, key, self, nil, pw)
	junk := make([]byte, 256)
	rand.Read(junk)
	encryptedPKCS8 := append(pemCerts(self), pemBlock("ENCRYPTED PRIVATE KEY", junk)...)
	legacyEncrypted := append(pemCerts(self), pem.EncodeToMemory(&pem.Block{
		Type:    "RSA PRIVATE KEY",
		Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-256-CBC,00112233445566778899AABBCCDDEEFF"},
		Bytes:   junk,
	})...)
	tests := []struct {
		name     string
		data     []byte
		password string
		want     string // in the error
	}{
		{"PFX, wrong password", modern, "wrong password", "password"},
		{"PFX, no password given", modern, "", "password"},
		{"legacy PFX, wrong password", pfx(t, pkcs12.LegacyRC2, key, self, nil, pw), "wrong password", "password"},
		{"PEM, encrypted PKCS#8 key", encryptedPKCS8, "", "encrypted"},
		{"PEM, legacy encrypted key", legacyEncrypted, "", "encrypted"},
		{"PEM, EC key (PKCS#8)", append(pemCerts(ecCert), pkcs8(t, ecKey)...), "", "RSA"},
		{"PEM, EC key (SEC 1)", append(pemCerts(ecCert), pemBlock("EC PRIVATE KEY", sec1)...), "", "RSA"},
		{"PFX, EC key", pfx(t, pkcs12.Modern, ecKey, ecCert, nil, pw), pw, "RSA"},
		{"PEM, no key", pemCerts(self), "", "private key"},
		{"PEM, no certificate", pkcs8(t, key), "", "certificate"},
		{"neither PEM nor PFX", []byte("this is a certificate, honest\n"), "", "not a PEM or PFX"},
		{"empty file", nil, "", "not a PEM or PFX"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := writeFile(t, "app-cert", tt.data)
			certs, k, err := signin.LoadCertificate(path, tt.password)
			if err == nil {
				t.Fatalf("LoadCertificate = %d certificates, %T key, nil error; want an error mentioning %q", len(certs), k, tt.want)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) || !strings.Contains(msg, path) {
				t.Errorf("LoadCertificate error = %q, want one naming the file and mentioning %q", msg, tt.want)
			}
			if tt.password != "" && strings.Contains(msg, tt.password) {
				t.Errorf("LoadCertificate error = %q contains the password", msg)
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		t.Parallel()
		_, _, err := signin.LoadCertificate(filepath.Join(t.TempDir(), "missing.pem"), "")
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("LoadCertificate(missing file) error = %v, want fs.ErrNotExist", err)
		}
	})
}

// TestLoadCertificateOpenSSL loads PFX files written by the openssl
// command, with OpenSSL 3's defaults and with -legacy.
func TestLoadCertificateOpenSSL(t *testing.T) {
	t.Parallel()
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("no openssl command")
	}
	key := appKey()
	self := newCert(t, key, "graphbatch test app", nil, nil)
	dir := t.TempDir()
	certPath, keyPath := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certPath, pemCerts(self), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pkcs8(t, key), 0o600); err != nil {
		t.Fatal(err)
	}
	const pw = "openssl password"
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"OpenSSL 3 defaults", nil},
		{"-legacy", []string{"-legacy"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "app.pfx")
			args := append([]string{"pkcs12", "-export", "-in", certPath, "-inkey", keyPath, "-out", out, "-passout", "pass:" + pw}, tt.args...)
			if b, err := exec.CommandContext(t.Context(), openssl, args...).CombinedOutput(); err != nil {
				if len(tt.args) > 0 {
					t.Skipf("openssl %s failed (no legacy provider?): %v\n%s", strings.Join(args, " "), err, b)
				}
				t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, b)
			}
			certs, k, err := signin.LoadCertificate(out, pw)
			if err != nil {
				t.Fatalf("LoadCertificate(openssl pkcs12 -export %s) error: %v", strings.Join(tt.args, " "), err)
			}
			if rk, ok := k.(*rsa.PrivateKey); !ok || !rk.Equal(key) || len(certs) != 1 || !certs[0].Equal(self) {
				t.Errorf("LoadCertificate = %d certificates, %T key; want the app's certificate and RSA key", len(certs), k)
			}
		})
	}
}

// Choosing the sign-in method.

func TestParseMethod(t *testing.T) {
	t.Parallel()
	for _, m := range signin.Methods {
		if got, err := signin.ParseMethod(string(m)); got != m || err != nil {
			t.Errorf("ParseMethod(%q) = %q, %v; want %q, nil", m, got, err, m)
		}
	}
	for _, s := range []string{"", "password", "Secret", " secret"} {
		if got, err := signin.ParseMethod(s); err == nil || !strings.Contains(err.Error(), "unknown --auth") {
			t.Errorf("ParseMethod(%q) = %q, %v; want an error naming --auth", s, got, err)
		}
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	all := signin.Config{Method: signin.Auto, ClientSecret: "s", CertificatePath: "c.pem", FederatedTokenFile: "f", ManagedIdentityEnv: true, Interactive: true, ClientID: "id"}
	with := func(f func(*signin.Config)) signin.Config {
		s := all
		f(&s)
		return s
	}
	type resolveTest struct {
		name    string
		s       signin.Config
		want    signin.Method
		wantErr string // in the error; "" wants none
	}
	tests := []resolveTest{
		{"auto, everything", all, signin.Secret, ""},
		{"empty method is auto", with(func(s *signin.Config) { s.Method = "" }), signin.Secret, ""},
		{"auto, no secret", with(func(s *signin.Config) { s.ClientSecret = "" }), signin.Certificate, ""},
		{"auto, no secret or certificate", with(func(s *signin.Config) { s.ClientSecret, s.CertificatePath = "", "" }), signin.WorkloadIdentity, ""},
		{"auto, managed identity", signin.Config{Method: signin.Auto, ManagedIdentityEnv: true, Interactive: true, ClientID: "id"}, signin.ManagedIdentity, ""},
		{"auto, person at a terminal", signin.Config{Method: signin.Auto, Interactive: true, ClientID: "id"}, signin.DeviceCode, ""},
		{"auto, terminal without client id", signin.Config{Method: signin.Auto, Interactive: true}, "", "no credentials found"},
		{"auto, client id without terminal", signin.Config{Method: signin.Auto, ClientID: "id", TenantID: "t"}, "", "no credentials found"},
		{"auto, nothing", signin.Config{}, "", "no credentials found"},
		{"unknown method", signin.Config{Method: "password", ClientSecret: "s"}, "", "unknown --auth"},
		{"method in the wrong case", signin.Config{Method: "Secret", ClientSecret: "s"}, "", "unknown --auth"},
	}
	for _, m := range signin.Methods {
		if m != signin.Auto { // an explicit method wins over everything configured
			tests = append(tests, resolveTest{"explicit " + string(m), with(func(s *signin.Config) { s.Method = m }), m, ""})
		}
	}
	for _, tt := range tests {
		got, err := tt.s.Resolve()
		switch {
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s: Resolve() = %q, %v; want an error mentioning %q", tt.name, got, err, tt.wantErr)
		case tt.wantErr == "" && (err != nil || got != tt.want):
			t.Errorf("%s: Resolve() = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}

// TestNewCredentialErrors checks that NewCredential refuses incomplete
// configurations before anything is sent, saying what is missing.
func TestNewCredentialErrors(t *testing.T) {
	t.Parallel()
	key := appKey()
	other := newCert(t, otherKey(), "someone else", nil, nil)
	mismatched := writeFile(t, "mismatch.pem", append(pemCerts(other), pkcs8(t, key)...))
	base := signin.Config{Cloud: graph.Clouds[0], TenantID: "contoso", ClientID: "app"}
	with := func(f func(*signin.Config)) signin.Config {
		s := base
		f(&s)
		return s
	}
	tests := []struct {
		name   string
		s      signin.Config
		method signin.Method
		want   string // in the error
	}{
		{"secret without secret", base, signin.Secret, "AZURE_CLIENT_SECRET"},
		{"secret without tenant", with(func(s *signin.Config) { s.ClientSecret, s.TenantID = "s", "" }), signin.Secret, "tenant"},
		{"secret without client id", with(func(s *signin.Config) { s.ClientSecret, s.ClientID = "s", "" }), signin.Secret, "client id"},
		{"certificate without path", base, signin.Certificate, "AZURE_CLIENT_CERTIFICATE_PATH"},
		{"certificate, missing file", with(func(s *signin.Config) { s.CertificatePath = filepath.Join(t.TempDir(), "none.pem") }), signin.Certificate, "none.pem"},
		{"certificate for another key", with(func(s *signin.Config) { s.CertificatePath = mismatched }), signin.Certificate, "mismatch.pem"},
		{"workload identity without file", base, signin.WorkloadIdentity, "AZURE_FEDERATED_TOKEN_FILE"},
		{"workload identity without tenant", with(func(s *signin.Config) { s.FederatedTokenFile, s.TenantID = "f", "" }), signin.WorkloadIdentity, "tenant"},
		{"device code without client id", with(func(s *signin.Config) { s.ClientID = "" }), signin.DeviceCode, "client id"},
		{"unknown method", base, "password", "unknown --auth"},
		{"auto is not a method", base, signin.Auto, "unknown --auth"},
	}
	for _, tt := range tests {
		cred, err := signin.NewCredential(tt.s, tt.method)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: NewCredential(%q) = %v, %v; want an error mentioning %q", tt.name, tt.method, cred, err, tt.want)
		}
	}
	if cred, err := signin.NewCredential(base, signin.None); cred != nil || err != nil {
		t.Errorf("NewCredential(none) = %v, %v; want nil, nil", cred, err)
	}
}

// Tokens.

// credFunc is a Credential made of a function.
type credFunc func(ctx context.Context, fresh bool) (string, error)

func (f credFunc) Token(ctx context.Context, fresh bool) (string, error) { return f(ctx, fresh) }

// TestTokensSerialised runs 20 concurrent Token calls through a credential
// that fails the test if it is entered while busy.
func TestTokensSerialised(t *testing.T) {
	t.Parallel()
	var inside, calls atomic.Int32
	tokens := signin.NewTokens(credFunc(func(context.Context, bool) (string, error) {
		if n := inside.Add(1); n != 1 {
			t.Errorf("credential entered with %d calls in it, want requests serialised", n-1)
		}
		defer inside.Add(-1)
		calls.Add(1)
		for range 100 {
			runtime.Gosched()
		}
		return "opaque-token", nil
	}))
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			tok, gen, err := tokens.Token(t.Context())
			if tok != "opaque-token" || gen != 0 || err != nil {
				t.Errorf("Token() = %q, %d, %v; want %q, 0, nil", tok, gen, err, "opaque-token")
			}
		})
	}
	wg.Wait()
	if n := calls.Load(); n != 20 {
		t.Errorf("credential called %d times, want 20", n)
	}
}

// TestTokensRefresh checks that Refresh forces one fresh token for the
// current generation and ignores a stale one.
func TestTokensRefresh(t *testing.T) {
	t.Parallel()
	var fresh int
	failFresh := false
	tokens := signin.NewTokens(credFunc(func(_ context.Context, f bool) (string, error) {
		if f {
			if failFresh {
				return "", errors.New("no fresh token")
			}
			fresh++
		}
		return fmt.Sprintf("token-%d", fresh), nil
	}))
	ctx := t.Context()
	tok, gen, err := tokens.Token(ctx)
	if tok != "token-0" || gen != 0 || err != nil {
		t.Fatalf("Token() = %q, %d, %v; want token-0, 0, nil", tok, gen, err)
	}
	if err := tokens.Refresh(ctx, gen); err != nil || fresh != 1 {
		t.Errorf("Refresh(%d) = %v with %d fresh tokens, want nil and 1", gen, err, fresh)
	}
	if tok, g, _ := tokens.Token(ctx); tok != "token-1" || g != gen+1 {
		t.Errorf("Token() after Refresh = %q, %d; want token-1, %d", tok, g, gen+1)
	}
	if err := tokens.Refresh(ctx, gen); err != nil || fresh != 1 {
		t.Errorf("Refresh(stale %d) = %v with %d fresh tokens, want nil and still 1", gen, err, fresh)
	}
	if _, g, _ := tokens.Token(ctx); g != gen+1 {
		t.Errorf("generation after a stale Refresh = %d, want %d", g, gen+1)
	}
	failFresh = true
	if err := tokens.Refresh(ctx, gen+1); err == nil {
		t.Errorf("Refresh with a failing credential = nil, want its error")
	}
	if _, g, _ := tokens.Token(ctx); g != gen+1 {
		t.Errorf("generation after a failed Refresh = %d, want still %d", g, gen+1)
	}
}

// TestClientRefreshesOnce sends through a Client signed in with Tokens:
// three workers reporting the same refused token cause one refresh, and
// the next envelope carries the new token.
func TestClientRefreshesOnce(t *testing.T) {
	t.Parallel()
	var fresh atomic.Int32
	tokens := signin.NewTokens(credFunc(func(_ context.Context, f bool) (string, error) {
		if f {
			fresh.Add(1)
		}
		return fmt.Sprintf("tok-%d", fresh.Load()), nil
	}))
	sent := make(chan string, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sent <- r.Header.Get("Authorization")
		io.WriteString(w, `{"responses":[]}`)
	}))
	t.Cleanup(srv.Close)
	c := graph.NewClient(srv.Client(), srv.URL, tokens)
	res, err := c.Batch(t.Context(), graph.V1, nil)
	if err != nil {
		t.Fatal(err)
	}
	<-sent
	for range 3 {
		if err := c.Reauthenticate(t.Context(), res.TokenGen); err != nil {
			t.Fatal(err)
		}
	}
	if n := fresh.Load(); n != 1 {
		t.Errorf("%d forced refreshes for one refused token, want 1", n)
	}
	res2, err := c.Batch(t.Context(), graph.V1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := <-sent; got != "Bearer tok-1" {
		t.Errorf("Authorization after the refresh = %q, want %q", got, "Bearer tok-1")
	}
	if res2.TokenGen == res.TokenGen {
		t.Errorf("token generation did not change after a refresh")
	}
}

// TestTokensDeadline checks that token requests are bounded even when the
// caller's context is not, and keep a shorter deadline of the caller's.
func TestTokensDeadline(t *testing.T) {
	t.Parallel()
	var deadlines []time.Duration
	tokens := signin.NewTokens(credFunc(func(ctx context.Context, _ bool) (string, error) {
		d, ok := ctx.Deadline()
		if !ok {
			deadlines = append(deadlines, -1)
		} else {
			deadlines = append(deadlines, time.Until(d))
		}
		return "opaque-token", nil
	}))
	short, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	tokens.Token(t.Context()) // no deadline of its own
	tokens.Refresh(t.Context(), 0)
	tokens.Token(short)
	if len(deadlines) != 3 {
		t.Fatalf("%d credential calls, want 3", len(deadlines))
	}
	for i, limit := range []time.Duration{time.Minute, time.Minute, 5 * time.Second} {
		if d := deadlines[i]; d <= 0 || d > limit {
			t.Errorf("call %d: credential's context deadline in %v, want one within %v", i, d, limit)
		}
	}
}

// TestTokensReplacesTokenNearExpiry checks that Token reads the token's
// own expiry and gets a fresh one when it is near, as a new generation.
func TestTokensReplacesTokenNearExpiry(t *testing.T) {
	t.Parallel()
	now := time.Now()
	const replacement = "replacement"
	tests := []struct {
		name      string
		cached    string
		wantFresh bool
	}{
		{"expires in 3 minutes", makeJWT(map[string]any{"iat": now.Add(-57 * time.Minute).Unix(), "exp": now.Add(3 * time.Minute).Unix()}), true},
		{"expired", makeJWT(map[string]any{"iat": now.Add(-61 * time.Minute).Unix(), "exp": now.Add(-time.Minute).Unix()}), true},
		{"expires in an hour", makeJWT(map[string]any{"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}), false},
		{"lives 2 minutes, all ahead", makeJWT(map[string]any{"iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix()}), false},
		{"not a JWT", "opaque", false},
	}
	for _, tt := range tests {
		fresh := 0
		tokens := signin.NewTokens(credFunc(func(_ context.Context, f bool) (string, error) {
			if f {
				fresh++
				return replacement, nil
			}
			return tt.cached, nil
		}))
		tok, gen, err := tokens.Token(t.Context())
		gotFresh := tok == replacement
		if gotFresh != tt.wantFresh || err != nil || uint64(fresh) != gen || (gen == 1) != tt.wantFresh {
			t.Errorf("%s: Token() = replaced %v, generation %d, %v after %d fresh requests; want replaced %v, nil, one fresh request and generation 1 only if replaced",
				tt.name, gotFresh, gen, err, fresh, tt.wantFresh)
		}
	}
}

// Token information.

func makeJWT(claims map[string]any) string {
	return "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9." + base64.RawURLEncoding.EncodeToString([]byte(mustJSON(claims))) + ".c2lnbmF0dXJl"
}

func TestParseTokenInfo(t *testing.T) {
	t.Parallel()
	iat, exp := time.Unix(1739440626, 0), time.Unix(1739444226, 0)
	appClaims := map[string]any{"appid": "app", "tid": "tenant", "roles": []string{"DeviceManagementConfiguration.ReadWrite.All", "User.Read.All"}, "iat": iat.Unix(), "exp": exp.Unix()}
	padded := "h." + base64.URLEncoding.EncodeToString([]byte(`{"appid":"app!"}`)) + ".s"
	tests := []struct {
		name   string
		token  string
		want   signin.TokenInfo
		wantOK bool
	}{
		{"app token", makeJWT(appClaims), signin.TokenInfo{AppID: "app", TenantID: "tenant", Roles: []string{"DeviceManagementConfiguration.ReadWrite.All", "User.Read.All"}, Issued: iat, Expires: exp}, true},
		{"delegated token", makeJWT(map[string]any{"azp": "cli", "tid": "tenant", "scp": "DeviceManagementConfiguration.ReadWrite.All  openid profile"}), signin.TokenInfo{AppID: "cli", TenantID: "tenant", Scopes: []string{"DeviceManagementConfiguration.ReadWrite.All", "openid", "profile"}}, true},
		{"padded base64url", padded, signin.TokenInfo{AppID: "app!"}, true},
		{"not a JWT", "EwBwA8l6BAAUO9chh8cJscQLmU+LSWpbnr0vmwwAAQ", signin.TokenInfo{}, false},
		{"two parts", "a.b", signin.TokenInfo{}, false},
		{"garbage base64", "h.!!not*base64!!.s", signin.TokenInfo{}, false},
		{"not JSON", "h." + base64.RawURLEncoding.EncodeToString([]byte("not json")) + ".s", signin.TokenInfo{}, false},
		{"roles not a list", makeJWT(map[string]any{"roles": "Admin"}), signin.TokenInfo{}, false},
	}
	for _, tt := range tests {
		got, ok := signin.ParseTokenInfo(tt.token)
		if ok != tt.wantOK {
			t.Errorf("%s: ParseTokenInfo(%q) ok = %v, want %v", tt.name, tt.token, ok, tt.wantOK)
		}
		if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: ParseTokenInfo(%q) (-want +got):\n%s", tt.name, tt.token, diff)
		}
	}
}

func TestHasPermission(t *testing.T) {
	t.Parallel()
	const permission = "DeviceManagementConfiguration.ReadWrite.All"
	app := signin.TokenInfo{Roles: []string{"DeviceManagementConfiguration.ReadWrite.All"}}
	user := signin.TokenInfo{Scopes: []string{"openid", "DeviceManagementConfiguration.ReadWrite.All"}}
	tests := []struct {
		name string
		info signin.TokenInfo
		perm string
		want bool
	}{
		{"app role", app, permission, true},
		{"app role, other case", app, "devicemanagementconfiguration.readwrite.all", true},
		{"delegated scope", user, permission, true},
		{"delegated scope, other case", user, "DEVICEMANAGEMENTCONFIGURATION.READWRITE.ALL", true},
		{"read-only is not enough", signin.TokenInfo{Roles: []string{"DeviceManagementConfiguration.Read.All"}}, permission, false},
		{"no permissions", signin.TokenInfo{}, permission, false},
		{"prefix only", app, "DeviceManagementConfiguration", false},
	}
	for _, tt := range tests {
		if got := tt.info.HasPermission(tt.perm); got != tt.want {
			t.Errorf("%s: HasPermission(%q) = %v, want %v", tt.name, tt.perm, got, tt.want)
		}
	}
}
