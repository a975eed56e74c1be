package config

import (
	"io"
	"strings"
	"testing"
)

func TestControlFlags(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	c, err := Parse(nil, env(map[string]string{"SANDBOX_ADMIN_TOKEN": "0123456789abcdef", "SANDBOX_FAULT_HEADER": "true", "SANDBOX_REQUEST_LOG_SIZE": "7"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.AdminToken != "0123456789abcdef" || !c.FaultHeader || c.RequestLogSize != 7 || c.NoAdmin {
		t.Errorf("from env: %+v", c)
	}
	c, err = Parse([]string{"-no-admin"}, env(nil), io.Discard)
	if err != nil || !c.NoAdmin || c.RequestLogSize != 200 {
		t.Errorf("-no-admin: %+v, %v; want NoAdmin and the default log size 200", c, err)
	}
	_, err = Parse([]string{"-no-admin", "-admin-token", "short", "-request-log-size", "-1"}, env(nil), io.Discard)
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{"-no-admin and -admin-token", "at least 16 characters", "-request-log-size -1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if _, err := Parse(nil, env(map[string]string{"SANDBOX_REQUEST_LOG_SIZE": "many"}), io.Discard); err == nil || !strings.Contains(err.Error(), "-request-log-size") {
		t.Errorf("non-numeric env size: %v", err)
	}
}
