// Package signin gets access tokens for Microsoft Graph from Microsoft
// Entra ID, through MSAL: with a client secret, a certificate (PEM or PFX),
// a workload identity's federated token, a managed identity, or a device
// code for a person at a terminal, whose sign-in is kept in a token cache
// file. Tokens gives them to graph.Client as its graph.TokenSource,
// replacing a token before it expires or when Graph refuses it; its errors
// wrap graph.ErrAuth. Sign-in failures read as an *AuthError, with Entra
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

// The sign-in methods --auth takes.
const (
	AuthAuto             = "auto"
	AuthSecret           = "secret"
	AuthCertificate      = "certificate"
	AuthDeviceCode       = "device-code"
	AuthManagedIdentity  = "managed-identity"
	AuthWorkloadIdentity = "workload-identity"
	AuthNone             = "none"
)

// AuthMethods lists the --auth values.
var AuthMethods = []string{AuthAuto, AuthSecret, AuthCertificate, AuthDeviceCode, AuthManagedIdentity, AuthWorkloadIdentity, AuthNone}

// CheckAuthMethod checks that m is one of AuthMethods.
func CheckAuthMethod(m string) error {
	if !slices.Contains(AuthMethods, m) {
		return fmt.Errorf("unknown --auth %q (one of: %s)", m, strings.Join(AuthMethods, ", "))
	}
	return nil
}

// SignIn says how to get tokens: the command line fills it from flags and
// the Azure SDKs' environment variables. Secrets in it are never logged.
type SignIn struct {
	Method              string
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

// Resolve returns the method to use: Method, or for "auto" the first that
// the configuration allows: a client secret, a certificate, a federated
// token file, a managed identity endpoint, then device code for a person at
// a terminal with a client id.
func (s *SignIn) Resolve() (string, error) {
	if s.Method != AuthAuto && s.Method != "" {
		if err := CheckAuthMethod(s.Method); err != nil {
			return "", err
		}
		return s.Method, nil
	}
	switch {
	case s.ClientSecret != "":
		return AuthSecret, nil
	case s.CertificatePath != "":
		return AuthCertificate, nil
	case s.FederatedTokenFile != "":
		return AuthWorkloadIdentity, nil
	case s.ManagedIdentityEnv:
		return AuthManagedIdentity, nil
	case s.Interactive && s.ClientID != "":
		return AuthDeviceCode, nil
	}
	return "", errors.New("no credentials found: set AZURE_TENANT_ID and AZURE_CLIENT_ID with AZURE_CLIENT_SECRET (or --client-secret-file), AZURE_CLIENT_CERTIFICATE_PATH or AZURE_FEDERATED_TOKEN_FILE; or choose --auth managed-identity or device-code")
}

// authorityHost returns the login host: AuthorityHost, or the cloud's.
func (s *SignIn) authorityHost() string { return cmp.Or(s.AuthorityHost, s.Cloud.AuthorityHost) }

// authority returns the authority URL for tenant.
func (s *SignIn) authority(tenant string) string {
	return strings.TrimRight(s.authorityHost(), "/") + "/" + tenant
}

func (s *SignIn) httpClient() *http.Client {
	if s.HTTPClient != nil {
		return s.HTTPClient
	}
	return http.DefaultClient
}

// NewCredential returns the credential for method (from Resolve), or nil
// for AuthNone. It checks the configuration but does not sign in.
func NewCredential(s SignIn, method string) (Credential, error) {
	switch method {
	case AuthNone:
		return nil, nil
	case AuthSecret:
		if s.ClientSecret == "" {
			return nil, errors.New("--auth secret needs AZURE_CLIENT_SECRET or --client-secret-file")
		}
		cred, err := confidential.NewCredFromSecret(s.ClientSecret)
		if err != nil {
			return nil, err
		}
		return s.confidential(cred)
	case AuthCertificate:
		if s.CertificatePath == "" {
			return nil, errors.New("--auth certificate needs AZURE_CLIENT_CERTIFICATE_PATH")
		}
		certs, key, err := LoadCertificate(s.CertificatePath, s.CertificatePassword)
		if err != nil {
			return nil, err
		}
		cred, err := confidential.NewCredFromCert(certs, key)
		if err != nil {
			return nil, fmt.Errorf("certificate %s: %w", s.CertificatePath, err)
		}
		return s.confidential(cred)
	case AuthWorkloadIdentity:
		if s.FederatedTokenFile == "" {
			return nil, errors.New("--auth workload-identity needs AZURE_FEDERATED_TOKEN_FILE")
		}
		return s.confidential(confidential.NewCredFromAssertionCallback(federatedToken(s.FederatedTokenFile)))
	case AuthManagedIdentity:
		return s.managedIdentity()
	case AuthDeviceCode:
		return s.deviceCode()
	}
	return nil, fmt.Errorf("unknown --auth %q", method)
}

// confidential returns an app-only credential for a confidential client.
func (s *SignIn) confidential(cred confidential.Credential) (Credential, error) {
	if s.TenantID == "" || s.ClientID == "" {
		return nil, errors.New("app sign-in needs a tenant and a client id: AZURE_TENANT_ID and AZURE_CLIENT_ID, or --tenant-id and --client-id")
	}
	opts := []confidential.Option{
		confidential.WithHTTPClient(s.httpClient()),
		confidential.WithInstanceDiscovery(graph.IsKnownAuthorityHost(s.authorityHost())),
	}
	if s.SendX5C {
		opts = append(opts, confidential.WithX5C())
	}
	app, err := confidential.New(s.authority(s.TenantID), s.ClientID, cred, opts...)
	if err != nil {
		return nil, err
	}
	return confidentialCredential{app: app, scopes: []string{s.Cloud.Scope()}}, nil
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
func (s *SignIn) managedIdentity() (Credential, error) {
	id := managedidentity.SystemAssigned()
	if s.ClientID != "" {
		id = managedidentity.UserAssignedClientID(s.ClientID)
	}
	c, err := managedidentity.New(id, managedidentity.WithHTTPClient(s.httpClient()))
	if err != nil {
		return nil, err
	}
	return managedCredential{client: c, resource: s.Cloud.Scope()}, nil
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
func (s *SignIn) deviceCode() (Credential, error) {
	if s.ClientID == "" {
		return nil, errors.New("--auth device-code needs your app registration's client id: AZURE_CLIENT_ID or --client-id")
	}
	tenant := s.TenantID
	if tenant == "" {
		tenant = "organizations"
	}
	opts := []public.Option{
		public.WithAuthority(s.authority(tenant)),
		public.WithHTTPClient(s.httpClient()),
		public.WithInstanceDiscovery(graph.IsKnownAuthorityHost(s.authorityHost())),
	}
	if s.TokenCachePath != "" {
		opts = append(opts, public.WithCache(fileCache{path: s.TokenCachePath}))
	}
	app, err := public.New(s.ClientID, opts...)
	if err != nil {
		return nil, err
	}
	prompt := s.Prompt
	if prompt == nil {
		prompt = io.Discard
	}
	return &deviceCredential{app: app, scopes: []string{s.Cloud.Scope()}, prompt: prompt}, nil
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
	fmt.Fprintln(c.prompt, dc.Result.Message)
	r, err := dc.AuthenticationResult(ctx)
	if err != nil {
		return "", explain(err)
	}
	return r.AccessToken, nil
}
