package webhooks

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// Sign is hex(HMAC-SHA256(key = the application management token, msg)). It is both the
// verify challenge answer (msg = the challenge) and the SC-Signature of a delivery (msg =
// the exact body bytes), as the Node SDK's hashChallenge computes them.
func Sign(managementToken string, msg []byte) string {
	m := hmac.New(sha256.New, []byte(managementToken))
	m.Write(msg)
	return hex.EncodeToString(m.Sum(nil))
}

// Encode renders a payload as the Node SDK's verifyPayload re-renders it: it signs
// JSON.stringify(JSON.parse(body)), so the body must already be what JSON.stringify writes —
// compact, keys in the order sent, and no HTML escaping of <, > and & (which json.Marshal
// does). The encoder's trailing newline is dropped, and the signature is computed over
// exactly these bytes.
func Encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
