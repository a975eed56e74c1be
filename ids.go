package sandbox

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"strings"
)

// NewUUID returns a random (version 4) UUID, the form Smartcar uses for ids and request ids.
func NewUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return formatUUID(b, 4)
}

// NameUUID returns a name-based (version 5 style) UUID: the same name always gives the same
// id, which is how one username always maps to the same user id and generated garage.
func NameUUID(namespace, name string) string {
	sum := sha1.Sum([]byte(namespace + "\x00" + name))
	var b [16]byte
	copy(b[:], sum[:16])
	return formatUUID(b, 5)
}

func formatUUID(b [16]byte, version byte) string {
	return FormatUUID(StampUUID(b, version))
}

// StampUUID sets the version and the RFC 4122 variant bits of b.
func StampUUID(b [16]byte, version byte) [16]byte {
	b[6] = (b[6] & 0x0f) | version<<4
	b[8] = (b[8] & 0x3f) | 0x80
	return b
}

// FormatUUID writes b in the canonical 8-4-4-4-12 lower-case hex form, by hand: request ids
// and refresh tokens are formatted on hot paths, where fmt's reflection showed in profiles.
func FormatUUID(b [16]byte) string {
	const hexDigits = "0123456789abcdef"
	var s [36]byte
	j := 0
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			s[j] = '-'
			j++
		}
		s[j], s[j+1] = hexDigits[c>>4], hexDigits[c&0x0f]
		j += 2
	}
	return string(s[:])
}

// IsUUID reports whether s has the 8-4-4-4-12 hex form.
func IsUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
	}
	return true
}

// RandomToken returns n random bytes, URL-safe base64 encoded: for codes and refresh tokens.
func RandomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
