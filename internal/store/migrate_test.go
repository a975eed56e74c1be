package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
)

// A database written before issued tokens were keyed by number and refresh tokens by their
// expiry first (SQLite schema 1, PostgreSQL schema 2) opens with every record, under
// the new keys: a later change of such a record replaces it instead of adding a second.
func TestMigrationRekeysTokenRecords(t *testing.T) {
	now := t0
	issued := IssuedToken{ID: "jti-1", Kind: "vehicle", ClientID: "app", IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	chain := sandbox.RefreshToken{Token: "old-refresh", ClientID: "app", UserID: "u1", VehicleIDs: []string{testDataset().Vehicles[0].ID},
		ExpiresAt: now.Add(time.Hour), Authorization: 7}
	grant := sandbox.Grant{ClientID: "app", UserID: "u1", VehicleID: chain.VehicleIDs[0], Permissions: []string{"read_odometer"}, Generation: 1}
	old := []Record{
		{Kind: kindGrant, Key: grantKey{grant.ClientID, grant.UserID, grant.VehicleID}.String(), Value: mustJSON(grant)},
		{Kind: kindIssued, Key: issued.ID, Value: mustJSON(issuedRec{Seq: 3, Token: issued})},
		{Kind: kindRefresh, Key: chain.Token, Value: mustJSON(chain)},
		{Kind: kindMeta, Key: metaAuthSeq, Value: mustJSON(7)},
	}
	tests := []struct {
		name string
		// write makes a database at the old schema holding recs, and returns how to open a
		// store on it and the keys its records table holds.
		write func(t *testing.T, recs []Record) (open func() Backend, keys func() []string)
	}{
		{"sqlite", func(t *testing.T, recs []Record) (func() Backend, func() []string) {
			dir := t.TempDir()
			db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, dbFile))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			for _, q := range []string{`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY)`, sqliteMigrations[0],
				`INSERT INTO schema_migrations (version) VALUES (1)`} {
				if _, err := db.Exec(q); err != nil {
					t.Fatal(err)
				}
			}
			for _, r := range recs {
				if _, err := db.Exec(`INSERT INTO records (kind, key, value) VALUES (?, ?, ?)`, r.Kind, r.Key, r.Value); err != nil {
					t.Fatal(err)
				}
			}
			return func() Backend {
					b, err := OpenSQLite(dir)
					if err != nil {
						t.Fatal(err)
					}
					return b
				}, func() []string {
					return queryKeys(t, func(q string) ([]string, error) {
						rows, err := db.Query(q)
						if err != nil {
							return nil, err
						}
						defer rows.Close()
						var out []string
						for rows.Next() {
							var k string
							if err := rows.Scan(&k); err != nil {
								return nil, err
							}
							out = append(out, k)
						}
						return out, rows.Err()
					})
				}
		}},
		{"postgres", func(t *testing.T, recs []Record) (func() Backend, func() []string) {
			url := needPostgres(t)
			ctx := context.Background()
			conn, err := pgx.Connect(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { conn.Close(ctx) })
			for _, q := range []string{`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY)`, postgresMigrations[0], postgresMigrations[1],
				`INSERT INTO schema_migrations (version) VALUES (1), (2)`} {
				if _, err := conn.Exec(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			for _, r := range recs {
				if _, err := conn.Exec(ctx, `INSERT INTO records (kind, key, value) VALUES ($1, $2, $3)`, r.Kind, r.Key, r.Value); err != nil {
					t.Fatal(err)
				}
			}
			// A tombstone under an old key, as another sandbox's delete leaves.
			if _, err := conn.Exec(ctx, `INSERT INTO records (kind, key, value) VALUES ('refresh', 'deleted', NULL)`); err != nil {
				t.Fatal(err)
			}
			return func() Backend {
					b, err := OpenPostgres(url)
					if err != nil {
						t.Fatal(err)
					}
					return b
				}, func() []string {
					return queryKeys(t, func(q string) ([]string, error) {
						rows, err := conn.Query(ctx, q)
						if err != nil {
							return nil, err
						}
						return pgx.CollectRows(rows, pgx.RowTo[string])
					})
				}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			open, keys := tc.write(t, old)
			s := openOn(t, open(), "", &now)
			want := []string{"issued 00000000000000000003", "refresh 2026-03-01T13:00:00Z/old-refresh"}
			if got := keys(); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("keys after the migration: %q, want %q", got, want)
			}
			if got := s.IssuedTokens(); len(got) != 1 || got[0].ID != issued.ID {
				t.Errorf("issued tokens: %+v, want %s", got, issued.ID)
			}
			next, err := s.RotateRefreshToken(chain.Token, "app", nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.RecordIssuedToken(IssuedToken{ID: "jti-2"}); err != nil {
				t.Fatal(err)
			}
			want = []string{"issued 00000000000000000003", "issued 00000000000000000004",
				"refresh 2026-04-30T12:00:00Z/" + next.Token, // made now, for DefaultRefreshTTL (60 days)
				"refresh 2026-03-01T13:00:00Z/old-refresh"}
			slices.Sort(want)
			if got := keys(); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("keys after a rotation: %q, want %q", got, want)
			}
			s2 := openOn(t, open(), "", &now)
			if got, want := stateJSON(t, s2), stateJSON(t, s); got != want {
				t.Errorf("after restart the state differs:\nwant %s\ngot  %s", want, got)
			}
		})
	}
}

// queryKeys lists the live token records' kinds and keys, in order.
func queryKeys(t *testing.T, query func(string) ([]string, error)) []string {
	t.Helper()
	keys, err := query(`SELECT kind || ' ' || key FROM records WHERE kind IN ('issued', 'refresh') AND value IS NOT NULL ORDER BY kind, key`)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}
