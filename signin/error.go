package signin

import (
	"context"
	"errors"
	"regexp"
	"strings"

	"github.com/graphbatch/graphbatch/graph"
)

// Error is a sign-in failure, told in one line: Microsoft Entra ID's
// AADSTS code and description, and what usually fixes it. It never holds
// the request, so it cannot carry a secret.
type Error struct {
	Code        string // e.g. "AADSTS7000215"; empty when there is none
	Description string // Entra ID's first sentence, or the library's error
	Hint        string
	cause       error // context.Canceled or DeadlineExceeded, never MSAL's error, which holds the request
}

// Unwrap returns the context error that ended the sign-in, if one did.
func (e *Error) Unwrap() error { return e.cause }

func (e *Error) Error() string {
	msg := e.Description
	if e.Code != "" && !strings.HasPrefix(msg, e.Code) {
		msg = e.Code + ": " + msg
	}
	if e.Hint != "" {
		msg += " (hint: " + e.Hint + ")"
	}
	return msg
}

// aadstsHints are the fixes for the sign-in errors admins meet most.
var aadstsHints = map[string]string{
	"AADSTS7000215": "wrong client secret: use the secret's value, not its ID, in AZURE_CLIENT_SECRET or --client-secret-file",
	"AADSTS7000222": "the client secret has expired: create a new one under the app registration's Certificates & secrets",
	"AADSTS700016":  "no app with this client id in this tenant: check AZURE_CLIENT_ID and AZURE_TENANT_ID",
	"AADSTS90002":   "no such tenant: check AZURE_TENANT_ID and --cloud",
	"AADSTS900023":  "the tenant id is not a valid GUID or domain: check AZURE_TENANT_ID",
	"AADSTS65001":   "admin consent is missing: grant DeviceManagementConfiguration.ReadWrite.All in the app registration's API permissions",
	"AADSTS700027":  "the certificate is not one the app registration knows: upload its public part under Certificates & secrets",
	"AADSTS700024":  "the client assertion has expired or is not valid yet: check the host clock, or that the federated token file is being rotated",
	"AADSTS70021":   "no federated credential on the app matches this token's issuer and subject",
	"AADSTS50049":   "unknown authority host: check --cloud and --authority-host",
	"AADSTS50059":   "no tenant given: set AZURE_TENANT_ID",
	"AADSTS7000218": "the app needs a credential: set a secret or certificate, or allow public client flows for device code",
	"AADSTS50020":   "the signed-in user is not in this tenant",
	"AADSTS70043":   "the saved sign-in has expired: run again at a terminal to sign in anew",
	"AADSTS700082":  "the saved sign-in has expired after 90 days without use: run again at a terminal to sign in anew",
}

var aadsts = regexp.MustCompile(`(AADSTS\d+): ?([^\\"\r\n]*)`)

// explain turns an MSAL error into an *Error.
func explain(err error) error {
	if err == nil {
		return nil
	}
	var ae *Error
	if errors.As(err, &ae) {
		return err
	}
	var cause error
	for _, c := range []error{context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, c) {
			cause = c
		}
	}
	text := err.Error()
	if m := aadsts.FindStringSubmatch(text); m != nil {
		return &Error{Code: m[1], Description: graph.Clean(m[2]), Hint: aadstsHints[m[1]], cause: cause}
	}
	// MSAL puts the cause (connection refused, a TLS or DNS failure) on the
	// lines after the first: keep them, on one line.
	return &Error{Description: graph.Clean(text), cause: cause}
}
