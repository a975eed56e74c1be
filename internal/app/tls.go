package app

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/config"
)

// The local CA's files. The key never leaves the folder (0600); the certificate is what a
// phone, a simulator or NODE_EXTRA_CA_CERTS trusts.
const (
	CACertFile = "smartcar-sandbox-ca.pem"
	caKeyFile  = "smartcar-sandbox-ca-key.pem"
)

// CA is the sandbox's local certificate authority. It is made once and kept, so a device that
// trusts it once keeps trusting every later start, whatever host names the server certificate
// of that start names.
type CA struct {
	Dir     string // where CertPath and the key are
	Cert    *x509.Certificate
	CertPEM []byte
	key     *ecdsa.PrivateKey
}

// CertPath is the CA certificate's file.
func (ca *CA) CertPath() string { return filepath.Join(ca.Dir, CACertFile) }

// CADir is where cfg keeps the CA: -data-dir, else <user config dir>/smartcar-sandbox.
func CADir(cfg config.Config) (string, error) {
	if cfg.DataDir != "" {
		return cfg.DataDir, nil
	}
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no folder for the local CA (set -data-dir): %w", err)
	}
	return filepath.Join(base, "smartcar-sandbox"), nil
}

// LoadOrCreateCA reads the CA in dir, or creates it there. created says which.
func LoadOrCreateCA(dir string) (ca *CA, created bool, err error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, CACertFile))
	if err == nil {
		keyPEM, err := os.ReadFile(filepath.Join(dir, caKeyFile))
		if err != nil {
			return nil, false, fmt.Errorf("local CA: %s is there but its key is not: %w", CACertFile, err)
		}
		ca, err := parseCA(dir, certPEM, keyPEM)
		return ca, false, err
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, fmt.Errorf("local CA: %w", err)
	}
	ca, err = createCA(dir)
	return ca, err == nil, err
}

func parseCA(dir string, certPEM, keyPEM []byte) (*CA, error) {
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return nil, fmt.Errorf("local CA in %s: not PEM; delete %s and %s to make a new one", dir, CACertFile, caKeyFile)
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("local CA certificate: %w", err)
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("local CA key: %w", err)
	}
	return &CA{Dir: dir, Cert: cert, CertPEM: certPEM, key: key}, nil
}

func createCA(dir string) (*CA, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("local CA: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	now := time.Now()
	tpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               pkix.Name{CommonName: "smartcar-sandbox local CA (" + host + ")", Organization: []string{"smartcar-sandbox"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	// The key first: a certificate without its key would make the next start fail.
	if err := os.WriteFile(filepath.Join(dir, caKeyFile), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		return nil, fmt.Errorf("local CA: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, CACertFile), certPEM, 0o644); err != nil {
		return nil, fmt.Errorf("local CA: %w", err)
	}
	return parseCA(dir, certPEM, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}))
}

func randomSerial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}

// ServerCertificate issues a certificate for hosts (names or IPs), valid 397 days: iOS refuses
// server certificates valid for longer. It is made at each start and never written down.
func (ca *CA) ServerCertificate(hosts []string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	tpl := &x509.Certificate{
		SerialNumber: randomSerial(),
		Subject:      pkix.Name{CommonName: hosts[0], Organization: []string{"smartcar-sandbox"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(0, 0, 397),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tpl.IPAddresses = append(tpl.IPAddresses, ip)
		} else {
			tpl.DNSNames = append(tpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, ca.Cert, &key.PublicKey, ca.key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der, ca.Cert.Raw}, PrivateKey: key}, nil
}

// serverHosts are the names the server certificate covers: localhost, the loopback addresses,
// the listen address's host when it is a specific one, and the -public-url host.
func serverHosts(cfg config.Config, listenAddr string) []string {
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	add := func(h string) {
		if h == "" || h == "0.0.0.0" || h == "::" {
			return
		}
		for _, x := range hosts {
			if x == h {
				return
			}
		}
		hosts = append(hosts, h)
	}
	if h, _, err := net.SplitHostPort(listenAddr); err == nil {
		add(h)
	}
	if u, err := url.Parse(cfg.PublicURL); err == nil && cfg.PublicURL != "" {
		add(u.Hostname())
	}
	return hosts
}

// tlsListener wraps ln in TLS with a fresh server certificate from the kept CA.
func tlsListener(ln net.Listener, cfg config.Config) (net.Listener, *CA, error) {
	dir, err := CADir(cfg)
	if err != nil {
		return nil, nil, err
	}
	ca, _, err := LoadOrCreateCA(dir)
	if err != nil {
		return nil, nil, err
	}
	cert, err := ca.ServerCertificate(serverHosts(cfg, ln.Addr().String()))
	if err != nil {
		return nil, nil, err
	}
	return tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}), ca, nil
}

// CertPool is a pool holding only the CA, for clients (tests, -healthcheck) that trust it.
func (ca *CA) CertPool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}
