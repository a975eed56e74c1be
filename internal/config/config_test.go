package config

import (
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestParseDefaultsFlagsAndEnv(t *testing.T) {
	c, err := Parse(nil, envOf(nil), io.Discard)
	if err != nil || c.Addr != "127.0.0.1:8080" || c.LogFormat != "text" || c.EnvApplication != nil {
		t.Fatalf("defaults = %+v, %v", c, err)
	}
	c, err = Parse([]string{"-addr", "127.0.0.1:0"}, envOf(map[string]string{"SANDBOX_ADDR": "127.0.0.1:9", "SANDBOX_LOG_FORMAT": "json"}), io.Discard)
	if err != nil || c.Addr != "127.0.0.1:0" || c.LogFormat != "json" {
		t.Fatalf("flag over env = %+v, %v", c, err)
	}
}

func TestEnvApplication(t *testing.T) {
	c, err := Parse(nil, envOf(map[string]string{
		"SMARTCAR_CLIENT_ID": "my-app", "SMARTCAR_CLIENT_SECRET": "s3cret",
		"SMARTCAR_REDIRECT_URI": "scmy-app://exchange, http://localhost:8000/exchange",
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	a := c.EnvApplication
	if a == nil || a.ClientID != "my-app" || len(a.RedirectURIs) != 2 || a.RedirectURIs[1] != "http://localhost:8000/exchange" {
		t.Fatalf("env application = %+v", a)
	}
}

func TestEnvApplicationName(t *testing.T) {
	env := map[string]string{"SMARTCAR_CLIENT_ID": "my-app", "SMARTCAR_CLIENT_SECRET": "s3cret", "SMARTCAR_REDIRECT_URI": "scmy-app://exchange"}
	tests := []struct {
		name    string
		args    []string
		appName string // SMARTCAR_APP_NAME
		want    string
	}{
		{"default", nil, "", DefaultEnvAppName},
		{"env", nil, "  Fleet Tracker  ", "Fleet Tracker"},
		{"flag", []string{"-app-name", "Charge Buddy"}, "", "Charge Buddy"},
		{"flag over env", []string{"-app-name", "Charge Buddy"}, "Fleet Tracker", "Charge Buddy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := map[string]string{"SMARTCAR_APP_NAME": tt.appName}
			for k, v := range env {
				e[k] = v
			}
			c, err := Parse(tt.args, envOf(e), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if c.EnvApplication == nil || c.EnvApplication.Name != tt.want {
				t.Fatalf("env application = %+v, want name %q", c.EnvApplication, tt.want)
			}
		})
	}
}

func TestAppNameProblems(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"no application", []string{"-app-name", "Orphan"}, nil, "-app-name (SMARTCAR_APP_NAME) names the application from the environment, but there is none"},
		{"blank", nil, map[string]string{"SMARTCAR_APP_NAME": "   ", "SMARTCAR_CLIENT_ID": "a", "SMARTCAR_CLIENT_SECRET": "s", "SMARTCAR_REDIRECT_URI": "sca://x"}, "want 1 to 100 characters"},
		{"two lines", []string{"-app-name", "a\nb"}, map[string]string{"SMARTCAR_CLIENT_ID": "a", "SMARTCAR_CLIENT_SECRET": "s", "SMARTCAR_REDIRECT_URI": "sca://x"}, "want 1 to 100 characters"},
		{"too long", []string{"-app-name", strings.Repeat("é", 101)}, map[string]string{"SMARTCAR_CLIENT_ID": "a", "SMARTCAR_CLIENT_SECRET": "s", "SMARTCAR_REDIRECT_URI": "sca://x"}, "want 1 to 100 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.args, envOf(tt.env), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	// 100 characters of any script are fine.
	if _, err := Parse([]string{"-app-name", strings.Repeat("é", 100)}, envOf(map[string]string{"SMARTCAR_CLIENT_ID": "a", "SMARTCAR_CLIENT_SECRET": "s", "SMARTCAR_REDIRECT_URI": "sca://x"}), io.Discard); err != nil {
		t.Fatalf("100-character name: %v", err)
	}
}

func TestValidateListsEveryProblem(t *testing.T) {
	_, err := Parse([]string{"-addr", "nope", "-log-format", "xml", "-public-url", "ftp://x/y", "-fixtures", "/does/not/exist", "-store", "mysql://x/y", "-data-dir", "/tmp/x"},
		envOf(map[string]string{"SMARTCAR_CLIENT_ID": "a"}), io.Discard)
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{"-addr", "-log-format", "-public-url", "-fixtures", "SMARTCAR_CLIENT_SECRET", "SMARTCAR_REDIRECT_URI", "want a PostgreSQL URL", "-store (SANDBOX_STORE) and -data-dir"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
}

func TestHelp(t *testing.T) {
	var out strings.Builder
	if _, err := Parse([]string{"-h"}, envOf(nil), &out); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err = %v, want flag.ErrHelp", err)
	}
	for _, want := range []string{"-addr", "SANDBOX_FIXTURES", "-public-url", "-data-dir", "-log-format", "-app-name", "SMARTCAR_APP_NAME"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help does not explain %s", want)
		}
	}
}

func TestOrigin(t *testing.T) {
	if got := (Config{}).Origin("0.0.0.0:8080"); got != "http://127.0.0.1:8080" {
		t.Errorf("Origin = %q", got)
	}
	if got := (Config{PublicURL: "http://192.168.1.2:8080/"}).Origin("127.0.0.1:8080"); got != "http://192.168.1.2:8080" {
		t.Errorf("Origin = %q", got)
	}
}

func TestMaxFixturesMB(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    int
		wantErr bool
	}{
		{"default", nil, nil, 16, false},
		{"env", nil, map[string]string{"SANDBOX_MAX_FIXTURES_MB": "40"}, 40, false},
		{"flag over env", []string{"-max-fixtures-mb", "64"}, map[string]string{"SANDBOX_MAX_FIXTURES_MB": "40"}, 64, false},
		{"not a number", nil, map[string]string{"SANDBOX_MAX_FIXTURES_MB": "lots"}, 0, true},
		{"too big", []string{"-max-fixtures-mb", "100000"}, nil, 0, true},
	}
	for _, tt := range tests {
		c, err := Parse(tt.args, envOf(tt.env), io.Discard)
		if tt.wantErr {
			if err == nil || !strings.Contains(err.Error(), "-max-fixtures-mb") {
				t.Errorf("%s: err = %v, want one naming -max-fixtures-mb", tt.name, err)
			}
			continue
		}
		if err != nil || c.MaxFixturesMB != tt.want || c.FixtureOptions().Limit() != int64(tt.want)<<20 {
			t.Errorf("%s: MaxFixturesMB = %d (limit %d), %v; want %d MiB", tt.name, c.MaxFixturesMB, c.FixtureOptions().Limit(), err, tt.want)
		}
	}
}

func TestTLS(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
		origin  string
	}{
		{"flag", []string{"-tls"}, nil, "", "https://127.0.0.1:8080"},
		{"env", nil, map[string]string{"SANDBOX_TLS": "1"}, "", "https://127.0.0.1:8080"},
		{"https public URL", []string{"-tls", "-public-url", "https://192.168.1.20:8080"}, nil, "", "https://192.168.1.20:8080"},
		{"http public URL", []string{"-tls", "-public-url", "http://192.168.1.20:8080"}, nil, "write https://", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse(tc.args, envOf(tc.env), io.Discard)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !c.TLS || c.Origin(c.Addr) != tc.origin {
				t.Fatalf("TLS %v origin %s err %v", c.TLS, c.Origin(c.Addr), err)
			}
		})
	}
}
