package app

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/config"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/connect/connecttest"
)

// TestTLSConnectFlow serves HTTPS from a local CA and runs the Connect pages, the code
// exchange and an API call over it with only that CA trusted; a restart on the same folder
// keeps the CA, so a device that trusted it once keeps working.
func TestTLSConnectFlow(t *testing.T) {
	dir := t.TempDir()
	a := MustStart(t, config.Config{TLS: true, DataDir: dir})
	if !strings.HasPrefix(a.Origin, "https://127.0.0.1:") || a.CA == nil {
		t.Fatalf("Origin = %s, CA = %v", a.Origin, a.CA)
	}
	if fi, err := os.Stat(filepath.Join(dir, caKeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("CA key: %v %v", fi, err)
	}
	transport := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: a.CA.CertPool()}}

	// Without the CA the connection is refused as it would be on a phone.
	if _, err := http.Get(a.Origin + "/healthz"); err == nil {
		t.Fatal("a client without the CA connected")
	} else if !errors.As(err, new(x509.UnknownAuthorityError)) && !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("without the CA: %v", err)
	}
	if err := Probe(a.Origin, 2*time.Second, a.CA.CertPool()); err != nil {
		t.Fatalf("Probe over https: %v", err)
	}

	b := connecttest.NewBrowser(a.Origin)
	b.Client.Transport = transport
	q := url.Values{"response_type": {"code"}, "client_id": {"sandbox-demo"}, "redirect_uri": {"scsandbox-demo://exchange"},
		"scope": {"read_odometer"}, "state": {"tls"}, "approval_prompt": {"force"}, "mode": {"test"}}
	p := b.Flow(t, q, "TESLA", "demo@sandbox.test")
	if p.Status != http.StatusFound {
		t.Fatalf("flow over https: %d %s", p.Status, p.Body)
	}
	loc, _ := url.Parse(p.Header.Get("Location"))
	code := loc.Query().Get("code")
	if code == "" || loc.Query().Get("state") != "tls" {
		t.Fatalf("redirect %s", loc)
	}
	c := &http.Client{Transport: transport}
	req, _ := http.NewRequest("POST", a.Origin+"/oauth/token", strings.NewReader(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"scsandbox-demo://exchange"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("sandbox-demo", "sandbox-demo-secret")
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || tok.AccessToken == "" {
		t.Fatalf("token over https: %d", res.StatusCode)
	}
	req, _ = http.NewRequest("GET", a.Origin+"/v2.0/vehicles", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	if res, err := c.Do(req); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("API over https: %v %v", res, err)
	} else {
		res.Body.Close()
	}

	// The CA is kept: a second start on the folder serves a certificate from the same CA.
	again := MustStart(t, config.Config{TLS: true, DataDir: dir})
	if !bytes.Equal(again.CA.Cert.Raw, a.CA.Cert.Raw) {
		t.Fatal("a restart made a new CA")
	}
}

// TestTLSCertificateNamesPublicHost: the server certificate covers localhost, the loopback
// addresses and the -public-url host, so a phone on the LAN can connect by the IP it uses.
func TestTLSCertificateNamesPublicHost(t *testing.T) {
	a := MustStart(t, config.Config{TLS: true, DataDir: t.TempDir(), PublicURL: "https://192.168.1.20:8443"})
	for _, name := range []string{"localhost", "127.0.0.1", "192.168.1.20"} {
		conn, err := tls.Dial("tcp", a.Addr, &tls.Config{RootCAs: a.CA.CertPool(), ServerName: name})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		conn.Close()
	}
	if conn, err := tls.Dial("tcp", a.Addr, &tls.Config{RootCAs: a.CA.CertPool(), ServerName: "example.com"}); err == nil {
		conn.Close()
		t.Error("the certificate covers example.com")
	}
}
