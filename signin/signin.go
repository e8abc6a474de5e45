// Package signin gets access tokens for Microsoft Graph from Microsoft
// Entra ID, through MSAL: with a client secret, a certificate (PEM or PFX),
// a workload identity's federated token, a managed identity, or a device
// code for a person at a terminal, whose sign-in is kept in a token cache
// file. Tokens gives them to graph.Client as its graph.TokenSource,
// replacing a token before it expires or when Graph refuses it; its errors
// wrap graph.ErrAuth. Sign-in failures read as an *Error, with Entra
// ID's AADSTS code and what usually fixes it.
package signin

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/managedidentity"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"

	"github.com/graphbatch/graphbatch/graph"
)

// Method is a way of signing in, as --auth names it.
type Method string

// The sign-in methods.
const (
	Auto             Method = "auto" // the first the configuration allows: see Config.Resolve
	Secret           Method = "secret"
	Certificate      Method = "certificate"
	DeviceCode       Method = "device-code"
	ManagedIdentity  Method = "managed-identity"
	WorkloadIdentity Method = "workload-identity"
	None             Method = "none" // no token: for an emulator or a proxy that adds one
)

// Methods lists the --auth values.
var Methods = []Method{Auto, Secret, Certificate, DeviceCode, ManagedIdentity, WorkloadIdentity, None}

// ParseMethod returns the Method named s, one of Methods.
func ParseMethod(s string) (Method, error) {
	if m := Method(s); slices.Contains(Methods, m) {
		return m, nil
	}
	names := make([]string, len(Methods))
	for i, m := range Methods {
		names[i] = string(m)
	}
	return "", fmt.Errorf("unknown --auth %q (one of: %s)", s, strings.Join(names, ", "))
}

// Config says how to get tokens: the command line fills it from flags and
// the Azure SDKs' environment variables. Secrets in it are never logged.
type Config struct {
	Method              Method // "" means Auto
	Cloud               graph.Cloud
	AuthorityHost       string // overrides Cloud.AuthorityHost, e.g. an emulator
	TenantID            string
	ClientID            string
	ClientSecret        string
	CertificatePath     string // PEM (certificate and PKCS#8 or PKCS#1 key) or PFX
	CertificatePassword string // for a PFX
	SendX5C             bool   // send the certificate chain, for subject-name/issuer authentication
	FederatedTokenFile  string // workload identity's token file
	ManagedIdentityEnv  bool   // a managed identity endpoint is configured (IDENTITY_ENDPOINT, MSI_ENDPOINT)
	Interactive         bool   // a person is at the terminal, so device code may be used
	TokenCachePath      string // where device code keeps its tokens between runs
	Prompt              io.Writer
	HTTPClient          *http.Client // for MSAL; nil means http.DefaultClient
}

// Resolve returns the method to use: Method, or for Auto (or "") the
// first that the configuration allows: a client secret, a certificate, a
// federated token file, a managed identity endpoint, then device code for
// a person at a terminal with a client id.
func (c *Config) Resolve() (Method, error) {
	if c.Method != Auto && c.Method != "" {
		return ParseMethod(string(c.Method))
	}
	switch {
	case c.ClientSecret != "":
		return Secret, nil
	case c.CertificatePath != "":
		return Certificate, nil
	case c.FederatedTokenFile != "":
		return WorkloadIdentity, nil
	case c.ManagedIdentityEnv:
		return ManagedIdentity, nil
	case c.Interactive && c.ClientID != "":
		return DeviceCode, nil
	}
	return "", errors.New("no credentials found: set AZURE_TENANT_ID and AZURE_CLIENT_ID with AZURE_CLIENT_SECRET (or --client-secret-file), AZURE_CLIENT_CERTIFICATE_PATH or AZURE_FEDERATED_TOKEN_FILE; or choose --auth managed-identity or device-code")
}

// authorityHost returns the login host: AuthorityHost, or the cloud's.
func (c *Config) authorityHost() string { return cmp.Or(c.AuthorityHost, c.Cloud.AuthorityHost) }

// authority returns the authority URL for tenant.
func (c *Config) authority(tenant string) string {
	return strings.TrimRight(c.authorityHost(), "/") + "/" + tenant
}

func (c *Config) httpClient() *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	return http.DefaultClient
}

// NewCredential returns the credential for m (from Resolve), or nil for
// None. It checks the configuration but does not sign in.
func NewCredential(c Config, m Method) (Credential, error) {
	switch m {
	case None:
		return nil, nil
	case Secret:
		if c.ClientSecret == "" {
			return nil, errors.New("--auth secret needs AZURE_CLIENT_SECRET or --client-secret-file")
		}
		cred, err := confidential.NewCredFromSecret(c.ClientSecret)
		if err != nil {
			return nil, err
		}
		return c.confidential(cred)
	case Certificate:
		if c.CertificatePath == "" {
			return nil, errors.New("--auth certificate needs AZURE_CLIENT_CERTIFICATE_PATH")
		}
		certs, key, err := LoadCertificate(c.CertificatePath, c.CertificatePassword)
		if err != nil {
			return nil, err
		}
		cred, err := confidential.NewCredFromCert(certs, key)
		if err != nil {
			return nil, fmt.Errorf("certificate %s: %w", c.CertificatePath, err)
		}
		return c.confidential(cred)
	case WorkloadIdentity:
		if c.FederatedTokenFile == "" {
			return nil, errors.New("--auth workload-identity needs AZURE_FEDERATED_TOKEN_FILE")
		}
		return c.confidential(confidential.NewCredFromAssertionCallback(federatedToken(c.FederatedTokenFile)))
	case ManagedIdentity:
		return c.managedIdentity()
	case DeviceCode:
		return c.deviceCode()
	}
	return nil, fmt.Errorf("unknown --auth %q", m)
}

// confidential returns an app-only credential for a confidential client.
func (c *Config) confidential(cred confidential.Credential) (Credential, error) {
	if c.TenantID == "" || c.ClientID == "" {
		return nil, errors.New("app sign-in needs a tenant and a client id: AZURE_TENANT_ID and AZURE_CLIENT_ID, or --tenant-id and --client-id")
	}
	opts := []confidential.Option{
		confidential.WithHTTPClient(c.httpClient()),
		confidential.WithInstanceDiscovery(graph.IsKnownAuthorityHost(c.authorityHost())),
	}
	if c.SendX5C {
		opts = append(opts, confidential.WithX5C())
	}
	app, err := confidential.New(c.authority(c.TenantID), c.ClientID, cred, opts...)
	if err != nil {
		return nil, err
	}
	return confidentialCredential{app: app, scopes: []string{c.Cloud.Scope()}}, nil
}

type confidentialCredential struct {
	app    confidential.Client
	scopes []string
}

func (c confidentialCredential) Token(ctx context.Context, fresh bool) (string, error) {
	var opts []confidential.AcquireByCredentialOption
	if fresh {
		opts = append(opts, confidential.WithClaims(freshClaims()))
	}
	r, err := c.app.AcquireTokenByCredential(ctx, c.scopes, opts...)
	if err != nil {
		return "", explain(err)
	}
	return r.AccessToken, nil
}

// freshClaims is a claims challenge asking for a token issued from now on:
// it makes MSAL skip its cache and Entra ID issue a new token.
func freshClaims() string {
	return `{"access_token":{"nbf":{"essential":true,"value":"` + strconv.FormatInt(time.Now().Unix(), 10) + `"}}}`
}

// federatedTokenMaxAge is how long a read federated token is reused; AKS
// rotates the file well before its tokens expire.
const federatedTokenMaxAge = 5 * time.Minute

// federatedToken returns MSAL's assertion callback for workload identity:
// the contents of the token file, read again when older than
// federatedTokenMaxAge. MSAL may call it from several goroutines.
func federatedToken(path string) func(context.Context, confidential.AssertionRequestOptions) (string, error) {
	var (
		mu     sync.Mutex
		token  string
		readAt time.Time
	)
	return func(context.Context, confidential.AssertionRequestOptions) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if token != "" && time.Since(readAt) < federatedTokenMaxAge {
			return token, nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("workload identity: reading the federated token: %w", err)
		}
		token, readAt = strings.TrimSpace(string(b)), time.Now()
		return token, nil
	}
}

// managedIdentity returns a credential for the system-assigned identity,
// or the user-assigned one whose client id is set.
func (c *Config) managedIdentity() (Credential, error) {
	id := managedidentity.SystemAssigned()
	if c.ClientID != "" {
		id = managedidentity.UserAssignedClientID(c.ClientID)
	}
	client, err := managedidentity.New(id, managedidentity.WithHTTPClient(c.httpClient()))
	if err != nil {
		return nil, err
	}
	return managedCredential{client: client, resource: c.Cloud.Scope()}, nil
}

type managedCredential struct {
	client   managedidentity.Client
	resource string
}

func (c managedCredential) Token(ctx context.Context, fresh bool) (string, error) {
	var opts []managedidentity.AcquireTokenOption
	if fresh {
		opts = append(opts, managedidentity.WithClaims(freshClaims()))
	}
	r, err := c.client.AcquireToken(ctx, c.resource, opts...)
	if err != nil {
		return "", explain(err)
	}
	return r.AccessToken, nil
}

// deviceCode returns a credential that signs a person in with a device code
// printed on Prompt, and keeps tokens in a file so the next run is silent.
func (c *Config) deviceCode() (Credential, error) {
	if c.ClientID == "" {
		return nil, errors.New("--auth device-code needs your app registration's client id: AZURE_CLIENT_ID or --client-id")
	}
	tenant := c.TenantID
	if tenant == "" {
		tenant = "organizations"
	}
	opts := []public.Option{
		public.WithAuthority(c.authority(tenant)),
		public.WithHTTPClient(c.httpClient()),
		public.WithInstanceDiscovery(graph.IsKnownAuthorityHost(c.authorityHost())),
	}
	if c.TokenCachePath != "" {
		opts = append(opts, public.WithCache(fileCache{path: c.TokenCachePath}))
	}
	app, err := public.New(c.ClientID, opts...)
	if err != nil {
		return nil, err
	}
	prompt := c.Prompt
	if prompt == nil {
		prompt = io.Discard
	}
	return &deviceCredential{app: app, scopes: []string{c.Cloud.Scope()}, prompt: prompt}, nil
}

type deviceCredential struct {
	app    public.Client
	scopes []string
	prompt io.Writer
}

func (*deviceCredential) interactive() {}

func (c *deviceCredential) Token(ctx context.Context, fresh bool) (string, error) {
	if accounts, err := c.app.Accounts(ctx); err == nil && len(accounts) > 0 {
		opts := []public.AcquireSilentOption{public.WithSilentAccount(accounts[0])}
		if fresh {
			opts = append(opts, public.WithClaims(freshClaims()))
		}
		if r, err := c.app.AcquireTokenSilent(ctx, c.scopes, opts...); err == nil {
			return r.AccessToken, nil
		}
	}
	dc, err := c.app.AcquireTokenByDeviceCode(ctx, c.scopes)
	if err != nil {
		return "", explain(err)
	}
	fmt.Fprintln(c.prompt, graph.Clean(dc.Result.Message)) // the authority's text, to a terminal
	r, err := dc.AuthenticationResult(ctx)
	if err != nil {
		return "", explain(err)
	}
	return r.AccessToken, nil
}
