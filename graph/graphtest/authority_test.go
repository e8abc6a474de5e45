package graphtest_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphbatch/graphbatch/graph/graphtest"
)

const (
	authTenant = "contoso"
	authClient = "app-client-id"
	authSecret = "s3cret~value"
	loginURL   = "https://login.emulator.test" // reached in process
	graphURL   = "https://graph.emulator.test"
	jwtBearer  = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
)

// newAuthority returns an in-process emulator acting as authority a and
// an HTTP client that reaches it without a socket, for any https URL.
func newAuthority(a graphtest.Authority) (*graphtest.Server, *http.Client) {
	emu := graphtest.New(graphtest.Options{Seed: 1, Limits: &graphtest.NoLimits, Authority: &a})
	return emu, &http.Client{Transport: emu.Transport()}
}

func tokenEndpoint(tenant string) string { return loginURL + "/" + tenant + "/oauth2/v2.0/token" }

// tokenAnswer is the token endpoint's JSON answer, success or error.
type tokenAnswer struct {
	TokenType        string `json:"token_type"`
	AccessToken      string `json:"access_token"`
	ExpiresIn        int    `json:"expires_in"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorCodes       []int  `json:"error_codes"`
}

// requestToken POSTs form to tenant's token endpoint.
func requestToken(t *testing.T, c *http.Client, tenant string, form url.Values) (int, tokenAnswer) {
	t.Helper()
	status, _, body := do(t, c, http.MethodPost, tokenEndpoint(tenant), map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, form.Encode())
	var a tokenAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatalf("token endpoint answer is not JSON: %v; body %s", err, body)
	}
	return status, a
}

func secretForm(client, secret string) url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "client_id": {client}, "client_secret": {secret}, "scope": {"https://graph.microsoft.com/.default"}}
}

// secretToken gets a token for authClient with authSecret.
func secretToken(t *testing.T, c *http.Client) string {
	t.Helper()
	status, a := requestToken(t, c, authTenant, secretForm(authClient, authSecret))
	if status != http.StatusOK || a.AccessToken == "" {
		t.Fatalf("token request = %d %+v, want 200 with a token", status, a)
	}
	return a.AccessToken
}

// postEnvelope POSTs a $batch of one PATCH with the bearer token tok ("" for
// none) and returns the status and body.
func postEnvelope(t *testing.T, c *http.Client, tok string) (int, []byte) {
	t.Helper()
	h := map[string]string{"Content-Type": jsonType, "client-request-id": "crid-1"}
	if tok != "" {
		h["Authorization"] = "Bearer " + tok
	}
	status, _, body := do(t, c, http.MethodPost, graphURL+"/v1.0/$batch", h, envelope(patchItems(1)...))
	return status, body
}

// checkRefused checks that Graph refused a request 401 InvalidAuthenticationToken
// with msg in its message.
func checkRefused(t *testing.T, what string, status int, body []byte, msg string) {
	t.Helper()
	if status != http.StatusUnauthorized {
		t.Errorf("%s: status %d, want 401; body %s", what, status, body)
		return
	}
	checkError(t, what, body, "InvalidAuthenticationToken", msg, "crid-1")
}

func checkAuthCounters(t *testing.T, emu *graphtest.Server, when string, issued, unauthorized, expired int) {
	t.Helper()
	c := emu.Counters()
	if c.TokensIssued != issued || c.Unauthorized != unauthorized || c.ExpiredTokens != expired {
		t.Errorf("%s: counters tokensIssued %d, unauthorized %d, expiredTokens %d; want %d, %d, %d",
			when, c.TokensIssued, c.Unauthorized, c.ExpiredTokens, issued, unauthorized, expired)
	}
}

func decodeClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q is not a JWT", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("token payload: %v", err)
	}
	return decodeObject(t, "token claims", b)
}

// TestAuthorityOpenIDConfiguration reads the discovery document over TLS:
// its endpoints are on the emulator's own https URL, as MSAL requires.
func TestAuthorityOpenIDConfiguration(t *testing.T) {
	t.Parallel()
	emu := graphtest.NewServer(graphtest.Options{TLS: true, Authority: &graphtest.Authority{Tenant: authTenant, ClientID: authClient}})
	t.Cleanup(emu.Close)
	if !strings.HasPrefix(emu.URL, "https://127.0.0.1:") {
		t.Errorf("URL = %q, want https on loopback", emu.URL)
	}
	status, header, body := do(t, emu.Client(), http.MethodGet, emu.URL+"/"+authTenant+"/v2.0/.well-known/openid-configuration", nil, "")
	if status != http.StatusOK || !strings.HasPrefix(header.Get("Content-Type"), jsonType) {
		t.Fatalf("GET openid-configuration = %d %q, want 200 JSON; body %s", status, header.Get("Content-Type"), body)
	}
	var got map[string]string
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("openid-configuration: %v; body %s", err, body)
	}
	base := emu.URL + "/" + authTenant
	want := map[string]string{
		"issuer":                 base + "/v2.0",
		"token_endpoint":         base + "/oauth2/v2.0/token",
		"authorization_endpoint": base + "/oauth2/v2.0/authorize",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("openid-configuration (-want +got):\n%s", diff)
	}
}

var (
	registeredKey = sync.OnceValue(func() *rsa.PrivateKey { return mustRSAKey() })
	strangerKey   = sync.OnceValue(func() *rsa.PrivateKey { return mustRSAKey() })
	registered    = sync.OnceValue(func() *x509.Certificate {
		key := registeredKey()
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "graphtest app"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			panic(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			panic(err)
		}
		return c
	})
)

func mustRSAKey() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}

// assertion returns a client assertion JWT with the given claims, signed
// with key using alg (PS256 or RS256).
func assertion(t *testing.T, key *rsa.PrivateKey, alg string, claims map[string]any) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signed := enc(map[string]string{"alg": alg, "typ": "JWT"}) + "." + enc(claims)
	digest := sha256.Sum256([]byte(signed))
	var sig []byte
	var err error
	if alg == "RS256" {
		sig, err = rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	} else {
		sig, err = rsa.SignPSS(rand.Reader, key, crypto.SHA256, digest[:], nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return signed + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// assertionClaims are the claims MSAL puts in a certificate assertion for
// authClient at the emulator's token endpoint, changed by edit.
func assertionClaims(edit func(map[string]any)) map[string]any {
	now := time.Now()
	c := map[string]any{
		"aud": tokenEndpoint(authTenant), "iss": authClient, "sub": authClient, "jti": "jti-1",
		"nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
	}
	if edit != nil {
		edit(c)
	}
	return c
}

func assertionForm(a string) url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "client_id": {authClient}, "client_assertion_type": {jwtBearer}, "client_assertion": {a}, "scope": {"https://graph.microsoft.com/.default"}}
}

// TestAuthorityTokenEndpoint requests tokens with good and bad
// credentials and checks Entra ID's answers: status, OAuth error and
// AADSTS code, with trace lines in the description.
func TestAuthorityTokenEndpoint(t *testing.T) {
	t.Parallel()
	app := graphtest.Authority{Tenant: authTenant, ClientID: authClient, ClientSecret: authSecret, Certificate: registered()}
	certOnly := app
	certOnly.ClientSecret = ""
	secretOnly := app
	secretOnly.Certificate = nil
	key, stranger := registeredKey(), strangerKey()
	tests := []struct {
		name       string
		auth       graphtest.Authority
		tenant     string
		form       url.Values
		wantStatus int
		wantError  string // OAuth error; "" for a token
		wantCode   int    // AADSTS code
	}{
		{"secret", app, authTenant, secretForm(authClient, authSecret), http.StatusOK, "", 0},
		{"wrong secret", app, authTenant, secretForm(authClient, "not-the-secret"), http.StatusUnauthorized, "invalid_client", 7000215},
		{"secret for an app without one", certOnly, authTenant, secretForm(authClient, ""), http.StatusUnauthorized, "invalid_client", 7000215},
		{"unknown client", app, authTenant, secretForm("someone-else", authSecret), http.StatusBadRequest, "unauthorized_client", 700016},
		{"unknown tenant", app, "fabrikam", secretForm(authClient, authSecret), http.StatusBadRequest, "invalid_request", 90002},
		{"default tenant", graphtest.Authority{ClientID: authClient, ClientSecret: authSecret}, "graphtest", secretForm(authClient, authSecret), http.StatusOK, "", 0},
		{"unsupported grant", app, authTenant, url.Values{"grant_type": {"password"}, "client_id": {authClient}}, http.StatusBadRequest, "unsupported_grant_type", 70003},
		{"no credential", app, authTenant, url.Values{"grant_type": {"client_credentials"}, "client_id": {authClient}}, http.StatusUnauthorized, "invalid_client", 7000218},
		{"assertion, PS256", app, authTenant, assertionForm(assertion(t, key, "PS256", assertionClaims(nil))), http.StatusOK, "", 0},
		{"assertion, RS256", app, authTenant, assertionForm(assertion(t, key, "RS256", assertionClaims(nil))), http.StatusOK, "", 0},
		{"assertion signed by another key", app, authTenant, assertionForm(assertion(t, stranger, "PS256", assertionClaims(nil))), http.StatusUnauthorized, "invalid_client", 700027},
		{"assertion for another endpoint", app, authTenant, assertionForm(assertion(t, key, "PS256", assertionClaims(func(c map[string]any) { c["aud"] = "https://login.microsoftonline.com/contoso/oauth2/v2.0/token" }))), http.StatusUnauthorized, "invalid_client", 700027},
		{"assertion for another tenant's endpoint", app, authTenant, assertionForm(assertion(t, key, "PS256", assertionClaims(func(c map[string]any) { c["aud"] = tokenEndpoint("fabrikam") }))), http.StatusUnauthorized, "invalid_client", 700027},
		{"assertion by another app", app, authTenant, assertionForm(assertion(t, key, "PS256", assertionClaims(func(c map[string]any) { c["iss"], c["sub"] = "other", "other" }))), http.StatusUnauthorized, "invalid_client", 700027},
		{"expired assertion", app, authTenant, assertionForm(assertion(t, key, "PS256", assertionClaims(func(c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() }))), http.StatusUnauthorized, "invalid_client", 700027},
		{"assertion not valid yet", app, authTenant, assertionForm(assertion(t, key, "PS256", assertionClaims(func(c map[string]any) { c["nbf"] = time.Now().Add(time.Hour).Unix() }))), http.StatusUnauthorized, "invalid_client", 700027},
		{"assertion with alg none", app, authTenant, assertionForm("eyJhbGciOiJub25lIn0." + base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"app-client-id","sub":"app-client-id"}`)) + "."), http.StatusUnauthorized, "invalid_client", 700027},
		{"assertion not a JWT", app, authTenant, assertionForm("not-a-jwt"), http.StatusUnauthorized, "invalid_client", 700027},
		{"assertion without a registered certificate", secretOnly, authTenant, assertionForm(assertion(t, key, "PS256", assertionClaims(nil))), http.StatusUnauthorized, "invalid_client", 700027},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			emu, c := newAuthority(tt.auth)
			status, a := requestToken(t, c, tt.tenant, tt.form)
			if status != tt.wantStatus {
				t.Errorf("token request status = %d, want %d; answer %+v", status, tt.wantStatus, a)
			}
			if tt.wantError == "" {
				if a.TokenType != "Bearer" || a.AccessToken == "" || a.ExpiresIn != 3600 {
					t.Errorf("token answer = %+v, want a Bearer token expiring in 3600 s", a)
				}
				claims := decodeClaims(t, a.AccessToken)
				if claims["appid"] != authClient || claims["tid"] != tt.tenant {
					t.Errorf("token claims appid %v, tid %v; want %q, %q", claims["appid"], claims["tid"], authClient, tt.tenant)
				}
				checkAuthCounters(t, emu, "after a token", 1, 0, 0)
				return
			}
			if a.Error != tt.wantError || a.AccessToken != "" {
				t.Errorf("token answer error = %q, access_token %q; want %q and none", a.Error, a.AccessToken, tt.wantError)
			}
			prefix := "AADSTS" + strconv.Itoa(tt.wantCode) + ": "
			if !strings.HasPrefix(a.ErrorDescription, prefix) || !strings.Contains(a.ErrorDescription, "\r\nTrace ID: ") {
				t.Errorf("error_description = %q, want it to start with %q and carry a trace ID line", a.ErrorDescription, prefix)
			}
			if len(a.ErrorCodes) != 1 || a.ErrorCodes[0] != tt.wantCode {
				t.Errorf("error_codes = %v, want [%d]", a.ErrorCodes, tt.wantCode)
			}
			if s := tt.form.Get("client_secret"); s != "" && strings.Contains(a.ErrorDescription, s) {
				t.Errorf("error_description = %q repeats the secret", a.ErrorDescription)
			}
			checkAuthCounters(t, emu, "after a refusal", 0, 0, 0)
		})
	}
}

// TestAuthorityGraphNeedsToken checks that Graph answers 401 in its own
// error shape to requests without one of the authority's tokens, and
// counts them.
func TestAuthorityGraphNeedsToken(t *testing.T) {
	t.Parallel()
	emu, c := newAuthority(graphtest.Authority{Tenant: authTenant, ClientID: authClient, ClientSecret: authSecret})

	status, body := postEnvelope(t, c, "")
	checkRefused(t, "$batch without a token", status, body, "Access token is empty")
	checkAuthCounters(t, emu, "after a $batch without a token", 0, 1, 0)

	tok := secretToken(t, c)
	parts := strings.Split(tok, ".")
	forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"appid":"app-client-id","exp":9999999999}`)) + "." + parts[2]
	status, body = postEnvelope(t, c, forged)
	checkRefused(t, "$batch with a forged token", status, body, "Invalid signature")
	status, body = postEnvelope(t, c, "not-a-jwt")
	checkRefused(t, "$batch with a token that is not a JWT", status, body, "Invalid signature")

	entity := graphURL + "/v1.0" + graphtest.DeviceStatusPath("p", "d1")
	status, _, body = do(t, c, http.MethodGet, entity, map[string]string{"client-request-id": "crid-1"}, "")
	checkRefused(t, "GET entity without a token", status, body, "Access token is empty")
	checkAuthCounters(t, emu, "after four refusals", 1, 4, 0)

	if status, body := postEnvelope(t, c, tok); status != http.StatusOK {
		t.Errorf("$batch with a valid token: status %d, want 200; body %s", status, body)
	}
	status, _, body = do(t, c, http.MethodGet, entity, map[string]string{"Authorization": "Bearer " + tok}, "")
	if status == http.StatusUnauthorized {
		t.Errorf("GET entity with a valid token: status 401; body %s", body)
	}
	checkAuthCounters(t, emu, "after two accepted requests", 1, 4, 0)
	if got := emu.Counters().EnvelopeStatuses[http.StatusUnauthorized]; got != 3 {
		t.Errorf("envelopeStatuses[401] = %d, want 3", got)
	}
}

// TestAuthorityWWWAuthenticate checks the challenge header Graph sends
// with a 401.
func TestAuthorityWWWAuthenticate(t *testing.T) {
	t.Parallel()
	_, c := newAuthority(graphtest.Authority{ClientID: authClient, ClientSecret: authSecret})
	status, header, _ := do(t, c, http.MethodPost, graphURL+"/v1.0/$batch", map[string]string{"Content-Type": jsonType}, envelope(patchItems(1)...))
	if got := header.Get("WWW-Authenticate"); status != http.StatusUnauthorized || !strings.HasPrefix(got, "Bearer ") {
		t.Errorf("$batch without a token: status %d, WWW-Authenticate %q; want 401 with a Bearer challenge", status, got)
	}
}

// TestAuthorityRevokeTokens revokes tokens as a continuous access
// evaluation event would: old tokens are refused as expired, new ones work.
func TestAuthorityRevokeTokens(t *testing.T) {
	t.Parallel()
	emu, c := newAuthority(graphtest.Authority{Tenant: authTenant, ClientID: authClient, ClientSecret: authSecret})
	old := secretToken(t, c)
	if status, body := postEnvelope(t, c, old); status != http.StatusOK {
		t.Fatalf("$batch before revocation: status %d, want 200; body %s", status, body)
	}
	emu.RevokeTokens()
	status, body := postEnvelope(t, c, old)
	checkRefused(t, "$batch with a revoked token", status, body, "revoked")
	checkAuthCounters(t, emu, "after a revoked token", 1, 1, 1)
	if status, body := postEnvelope(t, c, secretToken(t, c)); status != http.StatusOK {
		t.Errorf("$batch with a token issued after revocation: status %d, want 200; body %s", status, body)
	}
	checkAuthCounters(t, emu, "after a new token", 2, 1, 1)
}

// TestAuthorityRevokeTokensAtOnce revokes on a fake clock that has not
// moved since the token was issued: "every token issued so far" must
// include it.
func TestAuthorityRevokeTokensAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		emu, c := newAuthority(graphtest.Authority{Tenant: authTenant, ClientID: authClient, ClientSecret: authSecret})
		old := secretToken(t, c)
		emu.RevokeTokens()
		status, body := postEnvelope(t, c, old)
		checkRefused(t, "$batch with a token issued before RevokeTokens at the same instant", status, body, "revoked")
		if status, body := postEnvelope(t, c, secretToken(t, c)); status != http.StatusOK {
			t.Errorf("$batch with a token issued after RevokeTokens: status %d, want 200; body %s", status, body)
		}
	})
}

// TestAuthorityRevokeAt revokes when the RevokeAt-th $batch arrives.
func TestAuthorityRevokeAt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		emu, c := newAuthority(graphtest.Authority{Tenant: authTenant, ClientID: authClient, ClientSecret: authSecret, RevokeAt: 3})
		old := secretToken(t, c)
		for i := 1; i <= 2; i++ {
			time.Sleep(time.Second)
			if status, body := postEnvelope(t, c, old); status != http.StatusOK {
				t.Fatalf("$batch %d: status %d, want 200; body %s", i, status, body)
			}
		}
		time.Sleep(time.Second)
		status, body := postEnvelope(t, c, old)
		checkRefused(t, "$batch 3 (RevokeAt)", status, body, "revoked")
		status, body = postEnvelope(t, c, old)
		checkRefused(t, "$batch 4 with the old token", status, body, "revoked")
		time.Sleep(time.Second)
		if status, body := postEnvelope(t, c, secretToken(t, c)); status != http.StatusOK {
			t.Errorf("$batch 5 with a new token: status %d, want 200; body %s", status, body)
		}
		checkAuthCounters(t, emu, "after five $batch requests", 2, 2, 2)
	})
}

// TestAuthorityTokenExpiry runs on a fake clock: a token is honoured for
// TokenLifetime, then refused as expired; ExpiresIn only changes what
// clients are told.
func TestAuthorityTokenExpiry(t *testing.T) {
	tests := []struct {
		name          string
		lifetime      time.Duration
		expiresIn     time.Duration
		wantExpiresIn int
	}{
		{"default", 0, 0, 3600},
		{"short-lived", 10 * time.Minute, 0, 600},
		{"clients told longer", 10 * time.Minute, time.Hour, 3600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				emu, c := newAuthority(graphtest.Authority{Tenant: authTenant, ClientID: authClient, ClientSecret: authSecret, TokenLifetime: tt.lifetime, ExpiresIn: tt.expiresIn})
				status, a := requestToken(t, c, authTenant, secretForm(authClient, authSecret))
				if status != http.StatusOK || a.ExpiresIn != tt.wantExpiresIn {
					t.Fatalf("token answer = %d %+v, want 200 with expires_in %d", status, a, tt.wantExpiresIn)
				}
				lifetime := tt.lifetime
				if lifetime == 0 {
					lifetime = time.Hour
				}
				time.Sleep(lifetime - time.Second)
				if status, body := postEnvelope(t, c, a.AccessToken); status != http.StatusOK {
					t.Errorf("$batch a second before expiry: status %d, want 200; body %s", status, body)
				}
				time.Sleep(time.Second)
				status, body := postEnvelope(t, c, a.AccessToken)
				checkRefused(t, "$batch at expiry", status, body, "expired")
				checkAuthCounters(t, emu, "after an expired token", 1, 1, 1)
			})
		})
	}
}

// TestAuthorityManagedIdentity checks the App Service managed identity
// endpoint: it wants X-IDENTITY-HEADER and issues tokens Graph accepts.
func TestAuthorityManagedIdentity(t *testing.T) {
	t.Parallel()
	const secret = "identity-header-value"
	const resource = "https://graph.microsoft.com"
	msi := func(clientID string) string {
		q := url.Values{"api-version": {"2019-08-01"}, "resource": {resource}}
		if clientID != "" {
			q.Set("client_id", clientID)
		}
		return loginURL + "/msi/token?" + q.Encode()
	}
	tests := []struct {
		name       string
		configured string // Authority.IdentityHeader
		header     map[string]string
		clientID   string
		wantAppID  string // "" wants a refusal
	}{
		{"system-assigned", secret, map[string]string{"X-IDENTITY-HEADER": secret}, "", "system-assigned"},
		{"user-assigned", secret, map[string]string{"X-IDENTITY-HEADER": secret}, "mi-client-id", "mi-client-id"},
		{"no header", secret, nil, "", ""},
		{"wrong header", secret, map[string]string{"X-IDENTITY-HEADER": "guess"}, "", ""},
		{"endpoint not enabled", "", map[string]string{"X-IDENTITY-HEADER": ""}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			emu, c := newAuthority(graphtest.Authority{IdentityHeader: tt.configured})
			status, _, body := do(t, c, http.MethodGet, msi(tt.clientID), tt.header, "")
			if tt.wantAppID == "" {
				if status != http.StatusUnauthorized || strings.Contains(string(body), "access_token") {
					t.Errorf("GET /msi/token = %d %s, want 401 without a token", status, body)
				}
				checkAuthCounters(t, emu, "after a refusal", 0, 0, 0)
				return
			}
			var a struct {
				AccessToken string `json:"access_token"`
				ExpiresOn   string `json:"expires_on"`
				Resource    string `json:"resource"`
				TokenType   string `json:"token_type"`
			}
			if err := json.Unmarshal(body, &a); status != http.StatusOK || err != nil {
				t.Fatalf("GET /msi/token = %d %s (%v), want 200 JSON", status, body, err)
			}
			exp, err := strconv.ParseInt(a.ExpiresOn, 10, 64)
			if until := time.Until(time.Unix(exp, 0)); err != nil || until < 59*time.Minute || until > time.Hour {
				t.Errorf("expires_on = %q, want Unix seconds an hour ahead", a.ExpiresOn)
			}
			if a.Resource != resource || a.TokenType != "Bearer" {
				t.Errorf("resource %q, token_type %q; want %q, Bearer", a.Resource, a.TokenType, resource)
			}
			if got := decodeClaims(t, a.AccessToken)["appid"]; got != tt.wantAppID {
				t.Errorf("token appid = %v, want %q", got, tt.wantAppID)
			}
			if status, body := postEnvelope(t, c, a.AccessToken); status != http.StatusOK {
				t.Errorf("$batch with the managed identity token: status %d, want 200; body %s", status, body)
			}
			checkAuthCounters(t, emu, "after a token", 1, 0, 0)
		})
	}
}

// TestNoAuthority checks that without Options.Authority there is no token
// endpoint and Graph takes requests without a token.
func TestNoAuthority(t *testing.T) {
	t.Parallel()
	emu := graphtest.New(graphtest.Options{Seed: 1})
	c := &http.Client{Transport: emu.Transport()}
	status, _, body := do(t, c, http.MethodPost, tokenEndpoint(authTenant), map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, secretForm(authClient, authSecret).Encode())
	if status != http.StatusNotFound {
		t.Errorf("token request without an authority: status %d, want 404; body %s", status, body)
	}
	if status, body := postEnvelope(t, c, ""); status != http.StatusOK {
		t.Errorf("$batch without a token or an authority: status %d, want 200; body %s", status, body)
	}
	emu.RevokeTokens() // no authority: nothing to do, and no panic
	checkAuthCounters(t, emu, "without an authority", 0, 0, 0)
}
