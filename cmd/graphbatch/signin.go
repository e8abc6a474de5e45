package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/graphbatch/graphbatch/graph"
	"github.com/graphbatch/graphbatch/signin"
)

// signInOptions are the flags that say where Graph is and how to sign in.
// Each falls back to the environment variable the Azure SDKs use.
type signInOptions struct {
	Auth             string
	Cloud            string
	GraphEndpoint    string
	AuthorityHost    string
	TenantID         string
	ClientID         string
	ClientSecretFile string
	SendX5C          bool
	CACert           string
}

func (o *signInOptions) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	methods := make([]string, len(signin.Methods))
	for i, m := range signin.Methods {
		methods[i] = string(m)
	}
	f.StringVar(&o.Auth, "auth", string(signin.Auto), "how to sign in: "+strings.Join(methods, ", "))
	o.addEndpointFlags(cmd)
	f.StringVar(&o.AuthorityHost, "authority-host", os.Getenv("AZURE_AUTHORITY_HOST"), "login host `URL` instead of the cloud's (env AZURE_AUTHORITY_HOST)")
	f.StringVar(&o.TenantID, "tenant-id", os.Getenv("AZURE_TENANT_ID"), "Microsoft Entra tenant `ID` (env AZURE_TENANT_ID)")
	f.StringVar(&o.ClientID, "client-id", os.Getenv("AZURE_CLIENT_ID"), "app registration's client `ID` (env AZURE_CLIENT_ID)")
	f.StringVar(&o.ClientSecretFile, "client-secret-file", "", "read the client secret from `PATH` (or set AZURE_CLIENT_SECRET; no flag takes the secret itself)")
	f.BoolVar(&o.SendX5C, "send-x5c", envBool("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN"), "send the certificate chain, for subject name/issuer authentication (env AZURE_CLIENT_SEND_CERTIFICATE_CHAIN)")
}

// addEndpointFlags adds the flags that say where Graph is, for commands
// that need no sign-in.
func (o *signInOptions) addEndpointFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.Cloud, "cloud", "global", "national cloud: global, usgov (GCC High), usgovdod (DoD) or china; sets Graph root, login host and token scope")
	f.StringVar(&o.GraphEndpoint, "graph-endpoint", "", "Graph root `URL` (scheme://host[:port], no version) instead of the cloud's, e.g. an emulator or a proxy")
	f.StringVar(&o.CACert, "ca-cert", "", "also trust the CA certificates in `PATH` (PEM), e.g. a TLS-inspecting proxy's or an emulator's")
}

func envBool(name string) bool {
	v := strings.ToLower(os.Getenv(name))
	return v == "1" || v == "true"
}

// cloud returns the chosen cloud with the endpoint overrides applied.
func (o *signInOptions) cloud() (graph.Cloud, error) {
	c, err := graph.LookupCloud(o.Cloud)
	if err != nil {
		return c, &usageError{err}
	}
	if o.GraphEndpoint != "" {
		if c.GraphRoot, err = graph.CheckRoot(o.GraphEndpoint); err != nil {
			return c, usagef("--graph-endpoint: %v", err)
		}
	}
	if o.AuthorityHost != "" {
		if c.AuthorityHost, err = graph.CheckRoot(o.AuthorityHost); err != nil {
			return c, usagef("--authority-host: %v", err)
		}
	}
	return c, nil
}

// httpClient returns the HTTP client for Graph and for signing in, which
// trusts --ca-cert besides the system's roots.
func (o *signInOptions) httpClient(workers int) (*http.Client, error) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = workers + 1 // a connection per worker stays open between envelopes
	// An envelope of 20 PATCHes is about 7 KB each way: with buffers larger
	// than the default 4 KB, a request goes out in one write and its answer
	// comes in with fewer reads.
	t.WriteBufferSize, t.ReadBufferSize = 32<<10, 32<<10
	if o.CACert != "" {
		pem, err := os.ReadFile(o.CACert)
		if err != nil {
			return nil, usagef("--ca-cert: %v", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, usagef("--ca-cert: no PEM certificate in %s", o.CACert)
		}
		t.TLSClientConfig = &tls.Config{RootCAs: pool}
	}
	return &http.Client{Timeout: 2 * time.Minute, Transport: t}, nil
}

// signIn builds the credential the flags and environment ask for and gets
// a first token, so that a wrong secret stops the run before any row is
// read. It returns nil for --auth none.
// permission is the Graph permission the run needs ("" when unknown), to
// warn about a token that lacks it.
func (o *signInOptions) signIn(ctx context.Context, cloud graph.Cloud, hc *http.Client, std streams, log zerolog.Logger, permission string) (graph.TokenSource, error) {
	s, err := o.config(cloud, hc, std)
	if err != nil {
		return nil, err
	}
	method, err := s.Resolve()
	if err != nil {
		return nil, &usageError{err}
	}
	log.Debug().Str("auth", string(method)).Str("requested", o.Auth).Str("cloud", cloud.Name).Str("graph", cloud.GraphRoot).Str("authority", cloud.AuthorityHost).Msg("sign-in method")
	cred, err := signin.NewCredential(s, method)
	if err != nil {
		return nil, &usageError{err}
	}
	if cred == nil {
		return nil, nil
	}
	tokens := signin.NewTokens(cred)
	tok, _, err := tokens.Token(ctx)
	if err != nil {
		return nil, err
	}
	checkPermission(tok, permission, log)
	return tokens, nil
}

// config gathers the sign-in settings from flags and environment.
func (o *signInOptions) config(cloud graph.Cloud, hc *http.Client, std streams) (signin.Config, error) {
	s := signin.Config{
		Method:              signin.Method(o.Auth),
		Cloud:               cloud,
		TenantID:            o.TenantID,
		ClientID:            o.ClientID,
		ClientSecret:        os.Getenv("AZURE_CLIENT_SECRET"),
		CertificatePath:     os.Getenv("AZURE_CLIENT_CERTIFICATE_PATH"),
		CertificatePassword: os.Getenv("AZURE_CLIENT_CERTIFICATE_PASSWORD"),
		SendX5C:             o.SendX5C,
		FederatedTokenFile:  os.Getenv("AZURE_FEDERATED_TOKEN_FILE"),
		ManagedIdentityEnv:  os.Getenv("IDENTITY_ENDPOINT") != "" || os.Getenv("MSI_ENDPOINT") != "",
		Interactive:         std.ErrIsTerminal,
		Prompt:              std.Err,
		HTTPClient:          hc,
	}
	if o.ClientSecretFile != "" {
		var err error
		if s.ClientSecret, err = readSecretFile("--client-secret-file", o.ClientSecretFile); err != nil {
			return s, err
		}
		if s.ClientSecret == "" {
			return s, usagef("--client-secret-file: %s is empty", o.ClientSecretFile)
		}
	}
	if path, err := signin.DefaultTokenCachePath(); err == nil {
		s.TokenCachePath = path
	}
	return s, nil
}

// checkPermission warns when the token does not carry the permission the
// target needs; Graph would answer every row 403.
func checkPermission(tok, permission string, log zerolog.Logger) {
	info, ok := signin.ParseTokenInfo(tok)
	if !ok {
		return
	}
	log.Debug().Str("appId", info.AppID).Str("tenantId", info.TenantID).Strs("roles", info.Roles).Strs("scopes", info.Scopes).Time("expires", info.Expires).Msg("signed in")
	if permission != "" && !info.HasPermission(permission) {
		log.Warn().Strs("roles", info.Roles).Strs("scopes", info.Scopes).
			Msgf("the token does not grant %s: expect 403 Forbidden for every row; add the permission to the app registration and grant admin consent", permission)
	}
}

// readSecretFile reads the secret in path, named by flag, without the line
// end an editor leaves.
func readSecretFile(flag, path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", usagef("%s: %v", flag, err)
	}
	return strings.TrimSpace(string(b)), nil
}
