package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/graphbatch/graphbatch/graph/graphtest"
	"github.com/graphbatch/graphbatch/signin"
)

type emulateOptions struct {
	Listen       string
	Seed         uint64
	AppWrites    int
	TenantWrites int
	AppRequests  int
	Window       time.Duration
	LimitsSet    bool     // a limit flag was given: the limits replace every service's
	Refuse       []string // the methods --refuse-status-routes refuses
	PageSize     int
	Faults       graphtest.Faults
	Latency      time.Duration
	TLS          bool
	CertOut      string
	RequireAuth  bool
	Authority    graphtest.Authority
	SecretFile   string
	CertFile     string
	CPUProfile   string
	Discard      bool
	Log          logOptions
}

func newEmulateCmd(std streams) *cobra.Command {
	opts := &emulateOptions{}
	cmd := &cobra.Command{
		Use:   "emulate [--listen ADDR] [flags]",
		Short: "Serve a local Microsoft Graph emulator",
		Long: `Serve Microsoft Graph as graphbatch uses it, for any target of the metadata
(v1.0 built in; beta: the seed entities): POST /{v1.0|beta}/$batch; PATCH and
GET on any entity path (entity sets, singletons, navigation properties, keys
as single segments); GET of collections with $select, $filter (eq, and), $top
and server-driven paging (@odata.nextLink); GET /{v}/$metadata. Bodies are
validated as Graph does, answers are in Graph's error shape, envelopes are
answered in shuffled order, and entities live in memory. Point update at it
with --graph-endpoint http://ADDR --auth none.

Every entity exists: one never written answers GET with default values (null,
or the zero value of a property that cannot be null). Keys beginning with
"missing-" answer 404 as the service does (Intune's ResourceNotFound, the
directory's Request_ResourceNotFound).

By default each service gets its documented throttling limits, per app (the
token's appid) in sliding windows: Intune device configuration (compliance
policies and their statuses) 100 writes and 1,000 requests per 20 s, Intune
devices 200 and 2,000 per 20 s, the directory (users, groups, devices) 200
writes and 3,500 requests per 10 s, anything else 100 writes and 1,000
requests per 20 s; twice the write limit per tenant. A throttled item answers 429
TooManyRequests with a Retry-After inside a $batch that answers 200.
--write-limit, --tenant-write-limit, --request-limit and --window replace
those numbers for every service (0 is no limit; --write-limit 0
--tenant-write-limit 0 turns throttling off).

--refuse-status-routes makes PATCH and/or GET of a device's or user's status
for a compliance policy answer as Intune does when it refuses them: 400 "No
method match route template". Fault flags inject failures at random.

GET /_emulator/counters and GET /_emulator/store show what it has seen.`,
		Example: `  graphbatch emulate --listen 127.0.0.1:8080 &
  graphbatch update device-statuses --in samples/device-statuses.csv \
    --graph-endpoint http://127.0.0.1:8080 --auth none

  # A flaky, unthrottled Graph
  graphbatch emulate --write-limit 0 --tenant-write-limit 0 \
    --item-fault-rate 0.05 --envelope-fault-rate 0.05 --drop-rate 0.02

  # A tenant where Intune refuses the status routes (issue #13)
  graphbatch emulate --refuse-status-routes patch,get`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, name := range []string{"write-limit", "tenant-write-limit", "request-limit", "window"} {
				opts.LimitsSet = opts.LimitsSet || cmd.Flags().Changed(name)
			}
			if !cmd.Flags().Changed("tenant-write-limit") {
				opts.TenantWrites = 2 * opts.AppWrites
			}
			return runEmulate(cmd.Context(), opts, std)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Listen, "listen", "127.0.0.1:8080", "`ADDR` to listen on, host:port")
	f.Uint64Var(&opts.Seed, "seed", 0, "random seed for answer order and faults (0: random)")
	f.IntVar(&opts.AppWrites, "write-limit", 0, "replace every service's limits: PATCHes per app per window (0: no limit; default: each service's documented limit)")
	f.IntVar(&opts.TenantWrites, "tenant-write-limit", 0, "replace every service's limits: PATCHes per tenant, all apps, per window (0: no limit; default: twice --write-limit)")
	f.IntVar(&opts.AppRequests, "request-limit", 0, "replace every service's limits: requests of any kind, reads and writes together, per app per window (0: no limit)")
	f.DurationVar(&opts.Window, "window", 20*time.Second, "replace every service's limits: the sliding window of the limits")
	f.StringSliceVar(&opts.Refuse, "refuse-status-routes", nil, "refuse `METHODS` (patch, get) on a device's or user's status for a compliance policy, as Intune does: 400 No method match route template")
	f.IntVar(&opts.PageSize, "page-size", graphtest.DefaultPageSize, "most entities in a page of a list; clients follow @odata.nextLink")
	f.Float64Var(&opts.Faults.ItemRate, "item-fault-rate", 0, "share of items answered 500, 503 or 504, from 0 to 1")
	f.Float64Var(&opts.Faults.EnvelopeRate, "envelope-fault-rate", 0, "share of $batch requests answered 429 or 503 with a Retry-After")
	f.Float64Var(&opts.Faults.DropRate, "drop-rate", 0, "share of $batch requests whose connection is dropped without an answer")
	f.DurationVar(&opts.Latency, "latency", 0, "delay before every $batch answer")
	f.BoolVar(&opts.Discard, "discard", false, "keep no entities, for load tests of millions of rows: PATCHes are validated, counted and answered, GET answers default values, lists are empty")
	f.BoolVar(&opts.TLS, "tls", false, "serve https with a self-signed certificate for 127.0.0.1 (see --cert-out)")
	f.StringVar(&opts.CertOut, "cert-out", "", "with --tls: write the certificate to `PATH`, for update --ca-cert")
	f.BoolVar(&opts.RequireAuth, "require-auth", false, "also act as the sign-in authority, and refuse Graph requests without one of its tokens (needs --tls)")
	f.StringVar(&opts.Authority.Tenant, "auth-tenant", "graphtest", "with --require-auth: the tenant id")
	f.StringVar(&opts.Authority.ClientID, "auth-client-id", "graphbatch-test", "with --require-auth: the app allowed to sign in")
	f.StringVar(&opts.SecretFile, "auth-secret-file", "", "with --require-auth: accept the client secret in `PATH`")
	f.StringVar(&opts.CertFile, "auth-certificate", "", "with --require-auth: accept client assertions signed by the certificate in `PATH` (PEM or PFX with its RSA key, as a client would use)")
	f.DurationVar(&opts.Authority.TokenLifetime, "token-lifetime", time.Hour, "with --require-auth: how long issued tokens are honoured")
	f.StringVar(&opts.CPUProfile, "cpuprofile", "", "write a CPU profile to `PATH` when stopped (for performance work)")
	_ = f.MarkHidden("cpuprofile")
	f.StringVar(&opts.Authority.IdentityHeader, "identity-header", "", "with --require-auth: serve a managed identity endpoint at /msi/token that wants this X-IDENTITY-HEADER")
	opts.Log.addFlags(cmd)
	return cmd
}

func runEmulate(ctx context.Context, opts *emulateOptions, std streams) error {
	log, err := opts.Log.logger(std, std.Err)
	if err != nil {
		return err
	}
	stopProfile, err := startProfiles(opts.CPUProfile, "")
	if err != nil {
		return err
	}
	defer stopProfile()
	for name, r := range map[string]float64{"--item-fault-rate": opts.Faults.ItemRate, "--envelope-fault-rate": opts.Faults.EnvelopeRate, "--drop-rate": opts.Faults.DropRate} {
		if r < 0 || r > 1 {
			return usagef("%s must be between 0 and 1, not %g", name, r)
		}
	}
	authority, err := opts.authority()
	if err != nil {
		return err
	}
	refuse, err := opts.refusal()
	if err != nil {
		return err
	}
	if opts.PageSize < 1 {
		return usagef("--page-size must be at least 1, not %d", opts.PageSize)
	}
	emu, err := graphtest.Listen(opts.Listen, graphtest.Options{
		Seed:      opts.Seed,
		Limits:    opts.limits(),
		PageSize:  opts.PageSize,
		Refuse:    refuse,
		Faults:    opts.Faults,
		Latency:   opts.Latency,
		TLS:       opts.TLS,
		Authority: authority,
		Discard:   opts.Discard,
	})
	if err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	defer emu.Close()
	if opts.CertOut != "" {
		if err := writeCertificate(opts.CertOut, emu.Certificate()); err != nil {
			return err
		}
	}
	ev := log.Info().Str("url", emu.URL)
	if l := opts.limits(); l != nil {
		ev = ev.Int("writeLimit", l.AppWrites).Int("tenantWriteLimit", l.TenantWrites).Int("requestLimit", l.AppRequests).Dur("window", l.Window)
	} else {
		ev = ev.Str("limits", "each service's documented limits")
	}
	ev.Strs("refuseStatusRoutes", opts.Refuse).Msg("Graph emulator listening; stop it with Ctrl-C")
	fmt.Fprintln(std.Out, emu.URL)
	<-ctx.Done()
	c := emu.Counters()
	log.Info().Int("envelopes", c.Envelopes).Int("items", c.Items).Int("patches", c.Patches).Int("reads", c.Reads).
		Int("throttled", c.Throttled).Int("throttledReads", c.ThrottledReads).
		Int("earlyRetries", c.EarlyRetries).Int("earlyReadRetries", c.EarlyReadRetries).Msg("emulator stopped")
	return nil
}

// limits returns the limits the limit flags set for every service, or nil
// when none was given: each service then gets its documented limits.
func (o *emulateOptions) limits() *graphtest.Limits {
	if !o.LimitsSet {
		return nil
	}
	return &graphtest.Limits{AppWrites: o.AppWrites, TenantWrites: o.TenantWrites, AppRequests: o.AppRequests, Window: o.Window}
}

// refusal returns the routes --refuse-status-routes refuses.
func (o *emulateOptions) refusal() (graphtest.Refusal, error) {
	var r graphtest.Refusal
	for _, m := range o.Refuse {
		switch strings.ToLower(strings.TrimSpace(m)) {
		case "patch":
			r.StatusPatch = true
		case "get":
			r.StatusGet = true
		default:
			return r, usagef("--refuse-status-routes takes patch and get, not %q", m)
		}
	}
	return r, nil
}

// authority returns the sign-in authority --require-auth asks for, or nil.
func (o *emulateOptions) authority() (*graphtest.Authority, error) {
	switch {
	case !o.RequireAuth:
		return nil, nil
	case !o.TLS:
		return nil, usagef("--require-auth needs --tls: sign-in libraries only talk to https authorities")
	case o.SecretFile == "" && o.CertFile == "" && o.Authority.IdentityHeader == "":
		return nil, usagef("--require-auth needs --auth-secret-file, --auth-certificate or --identity-header")
	}
	a := o.Authority
	if o.SecretFile != "" {
		var err error
		if a.ClientSecret, err = readSecretFile("--auth-secret-file", o.SecretFile); err != nil {
			return nil, err
		}
	}
	if o.CertFile != "" {
		certs, _, err := signin.LoadCertificate(o.CertFile, os.Getenv("AZURE_CLIENT_CERTIFICATE_PASSWORD"))
		if err != nil {
			return nil, usagef("--auth-certificate: %v", err)
		}
		a.Certificate = certs[0]
	}
	return &a, nil
}

func writeCertificate(path string, cert *x509.Certificate) error {
	if cert == nil {
		return usagef("--cert-out needs --tls")
	}
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("--cert-out: %w", err)
	}
	return nil
}
