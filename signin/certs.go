package signin

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"software.sslmate.com/src/go-pkcs12"
)

// LoadCertificate reads a client certificate and its private key from
// path: PEM (certificates with a PKCS#8 or PKCS#1 key) or PFX/PKCS#12,
// including PFX files OpenSSL 3 writes by default (AES-256, SHA-256 MAC),
// which golang.org/x/crypto/pkcs12 cannot read. The key must be RSA, as
// MSAL requires.
func LoadCertificate(path, password string) ([]*x509.Certificate, crypto.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("certificate: %w", err)
	}
	var (
		certs []*x509.Certificate
		key   crypto.PrivateKey
	)
	if bytes.Contains(data, []byte("-----BEGIN")) {
		if bytes.Contains(data, []byte("-----BEGIN EC PRIVATE KEY")) {
			return nil, nil, fmt.Errorf("certificate %s: the private key is an EC key; Microsoft Entra ID sign-in through MSAL needs an RSA key", path)
		}
		if bytes.Contains(data, []byte("ENCRYPTED PRIVATE KEY")) || bytes.Contains(data, []byte("DEK-Info:")) {
			return nil, nil, fmt.Errorf("certificate %s: encrypted PEM keys are not supported; decrypt the key (openssl pkey -in key.pem -out plain.pem) or use a PFX with AZURE_CLIENT_CERTIFICATE_PASSWORD", path)
		}
		certs, key, err = confidential.CertFromPEM(data, "")
	} else {
		certs, key, err = decodePFX(data, password)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("certificate %s: %w", path, err)
	}
	if _, ok := key.(*rsa.PrivateKey); !ok {
		return nil, nil, fmt.Errorf("certificate %s: the private key is %T; Microsoft Entra ID sign-in through MSAL needs an RSA key", path, key)
	}
	return certs, key, nil
}

func decodePFX(data []byte, password string) ([]*x509.Certificate, crypto.PrivateKey, error) {
	key, leaf, chain, err := pkcs12.DecodeChain(data, password)
	if errors.Is(err, pkcs12.ErrIncorrectPassword) {
		return nil, nil, errors.New("wrong PFX password: set AZURE_CLIENT_CERTIFICATE_PASSWORD")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("not a PEM or PFX file: %w", err)
	}
	return append([]*x509.Certificate{leaf}, chain...), key, nil
}
