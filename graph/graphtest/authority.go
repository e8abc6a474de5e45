package graphtest

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// DefaultRole is the roles claim of issued tokens when Authority.Roles is
// nil: the permission the Intune seed resources need.
const DefaultRole = "DeviceManagementConfiguration.ReadWrite.All"

// Authority makes the emulator a Microsoft Entra ID token endpoint for the
// client credentials grant (secret or certificate assertion) and for
// managed identity, and makes its Graph refuse requests without one of its
// unexpired tokens, answering 401 InvalidAuthenticationToken as Graph does.
// MSAL needs an https authority: serve it with Options.TLS.
type Authority struct {
	Tenant       string            // the tenant in authority URLs; default "graphtest"
	ClientID     string            // the app allowed to sign in
	ClientSecret string            // the accepted secret; empty refuses secrets
	Certificate  *x509.Certificate // verifies client assertions; nil refuses them
	// TokenLifetime is how long tokens are honoured; default one hour.
	TokenLifetime time.Duration
	// ExpiresIn is the lifetime told to clients; default TokenLifetime. A
	// longer one makes clients meet tokens Graph refuses as expired.
	ExpiresIn time.Duration
	// Roles is the roles claim; default DefaultRole.
	Roles []string
	// IdentityHeader, when set, enables the managed identity endpoint
	// GET /msi/token, which wants this value in X-IDENTITY-HEADER. Point
	// IDENTITY_ENDPOINT at {URL}/msi/token.
	IdentityHeader string
	// RevokeAt, when positive, revokes every token issued so far when the
	// RevokeAt-th $batch request arrives, as a continuous access
	// evaluation event would; that request and any later one carrying an
	// old token answer 401.
	RevokeAt int
}

// authority is the emulator's signing state.
type authority struct {
	Authority
	key     []byte // signs issued tokens
	issued  int    // tokens issued so far; each token carries its number
	revoked int    // tokens numbered up to this are refused
	batches int    // $batch requests seen, for RevokeAt
}

func newAuthority(a *Authority) *authority {
	if a == nil {
		return nil
	}
	au := &authority{Authority: *a, key: make([]byte, 32)}
	_, _ = rand.Read(au.key)
	if au.Tenant == "" {
		au.Tenant = "graphtest"
	}
	if au.TokenLifetime <= 0 {
		au.TokenLifetime = time.Hour
	}
	if au.ExpiresIn <= 0 {
		au.ExpiresIn = au.TokenLifetime
	}
	if au.Roles == nil {
		au.Roles = []string{DefaultRole}
	}
	return au
}

func (s *Server) registerAuthority() {
	s.mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", s.serveOpenIDConfig)
	s.mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", s.serveToken)
	s.mux.HandleFunc("GET /msi/token", s.serveManagedIdentity)
}

func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Server) serveOpenIDConfig(w http.ResponseWriter, r *http.Request) {
	base := baseURL(r) + "/" + r.PathValue("tenant")
	writeJSON(w, http.StatusOK, map[string]string{
		"issuer":                 base + "/v2.0",
		"token_endpoint":         base + "/oauth2/v2.0/token",
		"authorization_endpoint": base + "/oauth2/v2.0/authorize",
	})
}

// serveToken answers the client credentials grant.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	a := s.auth
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the grant_type parameter.")
		return
	}
	clientID := r.PostForm.Get("client_id")
	switch {
	case r.PathValue("tenant") != a.Tenant:
		tokenError(w, http.StatusBadRequest, "invalid_request", 90002, fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", r.PathValue("tenant")))
	case r.PostForm.Get("grant_type") != "client_credentials":
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
	case clientID != a.ClientID:
		tokenError(w, http.StatusBadRequest, "unauthorized_client", 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'.", clientID, a.Tenant))
	case r.PostForm.Has("client_secret"):
		if a.ClientSecret == "" || subtle.ConstantTimeCompare([]byte(r.PostForm.Get("client_secret")), []byte(a.ClientSecret)) != 1 {
			tokenError(w, http.StatusUnauthorized, "invalid_client", 7000215, fmt.Sprintf("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", clientID))
			return
		}
		s.issue(w, clientID)
	case r.PostForm.Has("client_assertion"):
		aud := baseURL(r) + r.URL.Path
		if err := a.verifyAssertion(r.PostForm.Get("client_assertion"), clientID, aud); err != nil {
			tokenError(w, http.StatusUnauthorized, "invalid_client", 700027, "Client assertion failed signature validation: "+err.Error())
			return
		}
		s.issue(w, clientID)
	default:
		tokenError(w, http.StatusUnauthorized, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
	}
}

// serveManagedIdentity answers as App Service's identity endpoint does.
func (s *Server) serveManagedIdentity(w http.ResponseWriter, r *http.Request) {
	a := s.auth
	if a.IdentityHeader == "" || r.Header.Get("X-IDENTITY-HEADER") != a.IdentityHeader {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized", "error_description": "missing or wrong X-IDENTITY-HEADER"})
		return
	}
	app := "system-assigned"
	if id := r.URL.Query().Get("client_id"); id != "" {
		app = id
	}
	tok, exp := s.token(app)
	writeJSON(w, http.StatusOK, map[string]string{
		"access_token": tok,
		"expires_on":   strconv.FormatInt(exp.Unix(), 10),
		"resource":     r.URL.Query().Get("resource"),
		"token_type":   "Bearer",
	})
}

func (s *Server) issue(w http.ResponseWriter, app string) {
	tok, _ := s.token(app)
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type":   "Bearer",
		"access_token": tok,
		"expires_in":   int(s.auth.ExpiresIn / time.Second),
	})
}

// token signs a new access token for app and returns it with the expiry
// the client is told.
func (s *Server) token(app string) (string, time.Time) {
	a := s.auth
	now := time.Now()
	s.mu.Lock()
	s.counters.TokensIssued++
	a.issued++
	seq := a.issued
	s.mu.Unlock()
	claims, _ := json.Marshal(map[string]any{
		"aud":   "https://graph.microsoft.com",
		"iss":   "https://sts.graphtest/" + a.Tenant + "/",
		"appid": app,
		"tid":   a.Tenant,
		"roles": a.Roles,
		"iat":   now.Unix(),
		"nbf":   now.Unix(),
		"exp":   now.Add(a.TokenLifetime).Unix(),
		"seq":   seq,
		"jti":   uuid.NewString(),
	})
	head := b64(`{"alg":"HS256","typ":"JWT"}`)
	body := head + "." + b64(string(claims))
	return body + "." + a.sign(body), now.Add(a.ExpiresIn)
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func (a *authority) sign(s string) string {
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte(s))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkToken returns Graph's message for a request whose token the
// authority did not issue, has expired or was revoked; "" for a good one.
// The caller holds the server's lock.
func (a *authority) checkToken(r *http.Request, now time.Time) (msg string, expired bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return "Access token is empty.", false
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || !hmac.Equal([]byte(parts[2]), []byte(a.sign(parts[0]+"."+parts[1]))) {
		return "Access token validation failure. Invalid signature.", false
	}
	var c struct {
		Exp int64 `json:"exp"`
		Seq int   `json:"seq"`
	}
	_ = decodePart(parts[1], &c) // signed by the authority: it decodes
	if !now.Before(time.Unix(c.Exp, 0)) {
		return "Lifetime validation failed, the token is expired.", true
	}
	if c.Seq <= a.revoked {
		return "Continuous access evaluation resulted in challenge: the token was revoked.", true
	}
	return "", false
}

// authorized applies the authority's token check to a Graph request and
// answers 401 itself when the token is refused.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	if s.auth == nil {
		return true
	}
	s.mu.Lock()
	if s.auth.RevokeAt > 0 && strings.HasSuffix(r.URL.Path, "/$batch") {
		if s.auth.batches++; s.auth.batches == s.auth.RevokeAt {
			s.auth.revoked = s.auth.issued
		}
	}
	msg, expired := s.auth.checkToken(r, time.Now())
	if msg != "" {
		s.counters.Unauthorized++
		if expired {
			s.counters.ExpiredTokens++
		}
	}
	s.mu.Unlock()
	if msg == "" {
		return true
	}
	ids := newRequestIDs(r)
	w.Header().Set("WWW-Authenticate", `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`)
	writeError(w, http.StatusUnauthorized, ids, "InvalidAuthenticationToken", msg)
	return false
}

// RevokeTokens makes Graph refuse every token issued so far, as a
// continuous access evaluation event would; clients must get new ones.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.auth != nil {
		s.auth.revoked = s.auth.issued
	}
}

// verifyAssertion checks a client assertion JWT as Entra ID does: signed
// with the certificate's key (PS256 or RS256), for this client, addressed
// to this token endpoint, and within its validity.
func (a *authority) verifyAssertion(assertion, clientID, aud string) error {
	if a.Certificate == nil {
		return errors.New("no certificate is registered for the app")
	}
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return errors.New("not a JWT")
	}
	var head struct {
		Alg string `json:"alg"`
	}
	var claims struct {
		Aud, Iss, Sub string
		Exp, Nbf      int64
	}
	if err := decodePart(parts[0], &head); err != nil {
		return err
	}
	if err := decodePart(parts[1], &claims); err != nil {
		return err
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return err
	}
	pub, ok := a.Certificate.PublicKey.(*rsa.PublicKey)
	if !ok {
		return errors.New("the registered certificate has no RSA key")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	switch head.Alg {
	case "PS256":
		err = rsa.VerifyPSS(pub, crypto.SHA256, digest[:], sig, nil)
	case "RS256":
		err = rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig)
	default:
		err = fmt.Errorf("unsupported alg %q", head.Alg)
	}
	if err != nil {
		return err
	}
	now := time.Now().Unix()
	switch {
	case claims.Iss != clientID || claims.Sub != clientID:
		return errors.New("iss and sub must be the client id")
	case !slices.Contains([]string{aud, strings.TrimSuffix(aud, "/")}, claims.Aud):
		return fmt.Errorf("aud %q is not the token endpoint", claims.Aud)
	case now >= claims.Exp || now+300 < claims.Nbf:
		return errors.New("the assertion is expired or not valid yet")
	}
	return nil
}

func decodePart(part string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// tokenError answers as Entra ID's token endpoint does.
func tokenError(w http.ResponseWriter, status int, code string, aadsts int, description string) {
	writeJSON(w, status, map[string]any{
		"error":             code,
		"error_description": fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s", aadsts, description, uuid.NewString(), uuid.NewString(), time.Now().UTC().Format("2006-01-02 15:04:05Z")),
		"error_codes":       []int{aadsts},
		"timestamp":         time.Now().UTC().Format("2006-01-02 15:04:05Z"),
	})
}
