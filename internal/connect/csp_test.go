package connect

import "testing"

func TestFormActionSource(t *testing.T) {
	tests := []struct{ redirectURI, want string }{
		{"scsandbox-demo://exchange", " scsandbox-demo:"},
		{"SCMyApp://exchange?x=1", " scmyapp:"},
		{"https://app.example.com/callback?tenant=a", " https://app.example.com"},
		{"https://App.Example.com:8443/cb", " https://app.example.com:8443"},
		{"http://localhost:8000/exchange", " http://localhost:8000"},
		{"http://127.0.0.1:3000/cb", " http://127.0.0.1:3000"},
		{"http://[::1]:8000/cb", " http:"}, // no IPv6 host-source in CSP: the scheme
		{"com.example.app:/oauth2redirect", " com.example.app:"},
		{"/relative", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := formActionSource(tt.redirectURI); got != tt.want {
			t.Errorf("formActionSource(%q) = %q, want %q", tt.redirectURI, got, tt.want)
		}
	}
}
