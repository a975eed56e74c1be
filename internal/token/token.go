// Package token issues and verifies the sandbox's access tokens: HS256 JWTs that name the
// application, the user, the granted vehicles and permissions. Connect's token endpoint and
// the vehicle APIs share one Issuer, so a token minted in a test is the same thing an app gets.
package token

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/keys"
)

// Lifetimes Smartcar documents.
const (
	AccessTTL      = 2 * time.Hour // expires_in is always 7200
	ApplicationTTL = time.Hour     // client-credentials (v3 application) tokens
)

// Kinds of access token.
const (
	KindVehicle     = "vehicle"     // from Connect: one user, some vehicles, some permissions
	KindApplication = "application" // client credentials: the app itself, scoped per request by sc-user-id
)

const issuer = "smartcar-sandbox"

// Claims is what an access token says.
type Claims struct {
	jwt.RegisteredClaims
	Kind        string   `json:"knd"`
	ClientID    string   `json:"cid"`
	VehicleIDs  []string `json:"vid,omitempty"`
	Permissions []string `json:"scp,omitempty"`
	Mode        string   `json:"mod,omitempty"`
	// Authorization is the number of the Connect approval a vehicle token comes from (see
	// store.Authorize): it decides which grants the token reaches and lets every token of
	// one approval be revoked at once.
	Authorization uint64 `json:"aut,omitempty"`
	// Recorded says the store already recorded this token, in the same transaction as the
	// change it was minted for (a code's exchange, a refresh token's rotation: see
	// store.Mint), so an OnIssue hook that records tokens leaves it alone. Never signed.
	Recorded bool `json:"-"`
}

// UserID is the subject for vehicle tokens ("" for application tokens).
func (c *Claims) UserID() string { return c.Subject }

// HasVehicle reports whether the token names the vehicle.
func (c *Claims) HasVehicle(id string) bool {
	for _, v := range c.VehicleIDs {
		if v == id {
			return true
		}
	}
	return false
}

// HasPermission reports whether the token carries the permission.
func (c *Claims) HasPermission(p string) bool {
	for _, q := range c.Permissions {
		if q == p {
			return true
		}
	}
	return false
}

// Issuer signs and verifies tokens with one symmetric key.
type Issuer struct {
	key    []byte
	Now    func() time.Time
	parser *jwt.Parser
	// OnIssue, when set, is told about every token minted (the app records them so the admin
	// API can list, expire and revoke them). It must not block.
	OnIssue func(*Claims)
}

// NewIssuer builds an issuer for key (at least 32 bytes).
func NewIssuer(key []byte, now func() time.Time) (*Issuer, error) {
	if len(key) < 32 {
		return nil, fmt.Errorf("token: signing key must be at least 32 bytes, got %d", len(key))
	}
	if now == nil {
		now = time.Now
	}
	i := &Issuer{key: key, Now: now}
	// Pinning the method stops alg=none and algorithm-confusion tokens before the key is used.
	i.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(issuer),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(func() time.Time { return i.Now() }),
	)
	return i, nil
}

// NewKey returns a fresh random signing key.
func NewKey() []byte { return keys.New() }

// LoadOrCreateKey reads the signing key from dir/signing.key, creating it on first use, so
// tokens stay valid across restarts with a data dir (see internal/keys, which keeps every key).
func LoadOrCreateKey(dir string) ([]byte, error) { return keys.LoadOrCreate(dir, keys.Signing) }

// VehicleGrant is what a vehicle access token is issued for.
type VehicleGrant struct {
	ClientID      string
	UserID        string
	VehicleIDs    []string
	Permissions   []string
	Mode          string
	Authorization uint64 // the Connect approval it comes from
}

// IssueVehicle mints a 2-hour access token for a user's vehicles.
func (i *Issuer) IssueVehicle(g VehicleGrant) (string, *Claims, error) {
	return i.sign(i.VehicleClaims(g))
}

// VehicleClaims are the claims of a 2-hour access token for a user's vehicles, made now and
// not signed yet: the token endpoint makes them inside the store transaction that records
// the token (see store.Mint), and signs them with Sign once that transaction is committed.
func (i *Issuer) VehicleClaims(g VehicleGrant) *Claims {
	c := i.claims(KindVehicle, g.ClientID, AccessTTL)
	c.Subject = g.UserID
	c.VehicleIDs = append([]string{}, g.VehicleIDs...)
	c.Permissions = sandbox.SortedPermissionNames(g.Permissions)
	c.Mode = g.Mode
	c.Authorization = g.Authorization
	return c
}

// Sign signs claims made by VehicleClaims, and tells OnIssue.
func (i *Issuer) Sign(c *Claims) (string, error) {
	s, _, err := i.sign(c)
	return s, err
}

// IssueApplication mints a 1-hour application token (client-credentials grant).
func (i *Issuer) IssueApplication(clientID string) (string, *Claims, error) {
	return i.sign(i.claims(KindApplication, clientID, ApplicationTTL))
}

func (i *Issuer) claims(kind, clientID string, ttl time.Duration) *Claims {
	now := i.Now()
	return &Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    issuer,
			Audience:  jwt.ClaimStrings{clientID},
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
			ID:        sandbox.NewUUID(),
		},
		Kind:     kind,
		ClientID: clientID,
	}
}

func (i *Issuer) sign(c *Claims) (string, *Claims, error) {
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(i.key)
	if err != nil {
		return "", nil, err
	}
	if i.OnIssue != nil {
		i.OnIssue(c)
	}
	return s, c, nil
}

// Errors from Verify; callers turn them into AUTHENTICATION errors with these words.
var (
	ErrExpired   = errors.New("the access token has expired")
	ErrMalformed = errors.New("the access token is not a valid sandbox token")
)

// Verify checks signature, issuer and expiry and returns the claims.
func (i *Issuer) Verify(raw string) (*Claims, error) {
	var c Claims
	_, err := i.parser.ParseWithClaims(raw, &c, func(*jwt.Token) (any, error) { return i.key, nil })
	switch {
	case err == nil:
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, ErrExpired
	default:
		return nil, ErrMalformed
	}
	if c.Kind != KindVehicle && c.Kind != KindApplication || c.ClientID == "" {
		return nil, ErrMalformed
	}
	return &c, nil
}
