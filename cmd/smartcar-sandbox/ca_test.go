package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCACommandCreatesOnceAndExplains(t *testing.T) {
	dir := t.TempDir()
	env := func(string) string { return "" }
	var first, second strings.Builder
	if err := runCA([]string{"-data-dir", dir}, env, &first); err != nil {
		t.Fatal(err)
	}
	cert := filepath.Join(dir, "smartcar-sandbox-ca.pem")
	before, err := os.ReadFile(cert)
	if err != nil {
		t.Fatal(err)
	}
	if err := runCA([]string{"-data-dir", dir}, env, &second); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(cert)
	if string(before) != string(after) {
		t.Fatal("the second run replaced the CA")
	}
	if !strings.Contains(first.String(), "created in "+dir) || !strings.Contains(second.String(), "kept in "+dir) {
		t.Fatalf("outputs:\n%s\n%s", first.String(), second.String())
	}
	for _, want := range []string{"NODE_EXTRA_CA_CERTS=" + cert, "curl --cacert " + cert, "xcrun simctl keychain booted add-root-cert " + cert, "Certificate Trust Settings", "adb push " + cert, "SSL_CERT_FILE=" + cert} {
		if !strings.Contains(second.String(), want) {
			t.Errorf("ca output lacks %q", want)
		}
	}
	if err := runCA([]string{"extra"}, env, &second); err == nil {
		t.Error("an extra argument was accepted")
	}
}
