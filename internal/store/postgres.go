package store

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// postgresMigrations are the PostgreSQL schema's versions, like sqliteMigrations.
var postgresMigrations = []string{
	`CREATE TABLE records (
		kind  TEXT NOT NULL,
		key   TEXT NOT NULL,
		value BYTEA NOT NULL,
		PRIMARY KEY (kind, key)
	)`,
	// Several sandboxes on one database: every write gets the next version, a delete leaves
	// a tombstone (a NULL value), so each sandbox can catch up with the others' writes.
	`CREATE SEQUENCE records_version;
	ALTER TABLE records ADD COLUMN version BIGINT NOT NULL DEFAULT nextval('records_version');
	ALTER TABLE records ALTER COLUMN value DROP NOT NULL;
	CREATE INDEX records_by_version ON records (version)`,
	// Issued tokens keyed by their number and refresh tokens by their expiry first
	// (see sqliteMigrations[1]). Tombstones under the old keys go: every sandbox on the
	// database starts again from a snapshot with the new schema.
	`UPDATE records SET key = lpad(convert_from(value, 'UTF8')::jsonb->>'seq', 20, '0')
		WHERE kind = 'issued' AND value IS NOT NULL;
	UPDATE records SET key = (convert_from(value, 'UTF8')::jsonb->>'expiresAt') || '/' || key
		WHERE kind = 'refresh' AND value IS NOT NULL;
	DELETE FROM records WHERE kind IN ('issued', 'refresh') AND value IS NULL`,
}

// pgWriteLock is the advisory lock every writing transaction holds: writes commit one at a
// time across all sandboxes, so versions commit in order and catching up never skips one.
const pgWriteLock = 0x73616e64626f78 // "sandbox"

// Postgres is the Backend of -store postgres://...: the records in one table, each commit one
// PostgreSQL transaction. Several sandboxes may share the database (see Shared): each keeps
// its working state in memory, catches up with the others' writes before each of its own
// transactions and each read, and writes under one advisory lock.
type Postgres struct {
	pool   *pgxpool.Pool
	leases pgLeases // see leader.go
}

// pgTimeout bounds each statement round, so a database that is down answers with an error
// (a 500 to the client) instead of hanging the request.
const pgTimeout = 10 * time.Second

// OpenPostgres connects to url and brings the database's schema to the current version.
func OpenPostgres(url string) (*Postgres, error) {
	ctx, cancel := context.WithTimeout(context.Background(), pgTimeout)
	defer cancel()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	cfg.MaxConns = 4
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	b := &Postgres{pool: pool}
	if err := b.open(ctx); err != nil {
		b.Close()
		return nil, fmt.Errorf("store: postgres: %w", err)
	}
	return b, nil
}

func (b *Postgres) open(ctx context.Context) error {
	// Two sandboxes starting at once on a new database must not both migrate it.
	return pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(0x73746f7265)); err != nil {
			return err
		}
		return migrate(ctx, tx)
	})
}

func migrate(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)`); err != nil {
		return err
	}
	var have int
	if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return err
	}
	if have > len(postgresMigrations) {
		return fmt.Errorf("the database has schema version %d, this sandbox knows up to %d: use a newer sandbox", have, len(postgresMigrations))
	}
	for v := have + 1; v <= len(postgresMigrations); v++ {
		if _, err := tx.Exec(ctx, postgresMigrations[v-1]); err != nil {
			return fmt.Errorf("migration %d: %w", v, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, v); err != nil {
			return fmt.Errorf("migration %d: %w", v, err)
		}
	}
	return nil
}

// Load implements Backend.
func (b *Postgres) Load(fn func(Record) error) error {
	recs, _, err := b.Snapshot()
	if err != nil {
		return err
	}
	return each(recs)(fn)
}

// Snapshot implements Shared: every live record and the version they are as of, read in one
// snapshot.
func (b *Postgres) Snapshot() ([]Record, int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*pgTimeout)
	defer cancel()
	var out []Record
	var version int64
	err := pgx.BeginTxFunc(ctx, b.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var err error
		if out, version, err = changedSince(ctx, tx, 0); err != nil {
			return err
		}
		out = slices.DeleteFunc(out, func(r Record) bool { return r.Value == nil })
		// Within each kind in key order, so every sandbox lays them over its state in one order.
		slices.SortStableFunc(out, func(a, b Record) int {
			if c := strings.Compare(a.Kind, b.Kind); c != 0 {
				return c
			}
			return strings.Compare(a.Key, b.Key)
		})
		return nil
	})
	return out, version, err
}

// changedSince reads the records written after version since (tombstones included), in
// version order, and the version reached.
func changedSince(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, since int64) ([]Record, int64, error) {
	rows, err := q.Query(ctx, `SELECT kind, key, value, version FROM records WHERE version > $1 ORDER BY version`, since)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []Record
	version := since
	for rows.Next() {
		var r Record
		var v int64
		if err := rows.Scan(&r.Kind, &r.Key, &r.Value, &v); err != nil {
			return nil, 0, err
		}
		out = append(out, r)
		version = max(version, v)
	}
	return out, version, rows.Err()
}

// Changed implements Shared.
func (b *Postgres) Changed(since int64) ([]Record, int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), pgTimeout)
	defer cancel()
	return changedSince(ctx, b.pool, since)
}

// Commit implements Backend: the changes go as one batch in one transaction.
func (b *Postgres) Commit(full bool, changes []Record) error {
	// Nothing to catch up with: the caller writes the state whole or its own records.
	_, err := b.Sync(math.MaxInt64, func([]Record) (bool, []Record, error) { return full, changes, nil })
	return err
}

// Sync implements Shared.
func (b *Postgres) Sync(since int64, fn func(changed []Record) (bool, []Record, error)) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), pgTimeout)
	defer cancel()
	var version int64
	err := pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(pgWriteLock)); err != nil {
			return err
		}
		changed, v, err := changedSince(ctx, tx, since)
		if err != nil {
			return err
		}
		full, changes, err := fn(changed)
		if err != nil {
			return err
		}
		var batch pgx.Batch
		if full {
			batch.Queue(`UPDATE records SET value = NULL, version = nextval('records_version')
				WHERE kind <> ALL($1) AND value IS NOT NULL`, keptKinds)
		}
		for _, r := range changes {
			if r.Value == nil {
				batch.Queue(`UPDATE records SET value = NULL, version = nextval('records_version')
					WHERE kind = $1 AND key = $2 AND value IS NOT NULL`, r.Kind, r.Key)
			} else {
				batch.Queue(`INSERT INTO records (kind, key, value, version) VALUES ($1, $2, $3, nextval('records_version'))
					ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value, version = excluded.version`, r.Kind, r.Key, r.Value)
			}
		}
		batch.Queue(`SELECT COALESCE(MAX(version), 0) FROM records`)
		br := tx.SendBatch(ctx, &batch)
		for range batch.Len() - 1 {
			if _, err := br.Exec(); err != nil {
				br.Close()
				return err
			}
		}
		if err := br.QueryRow().Scan(&version); err != nil {
			br.Close()
			return err
		}
		version = max(version, v)
		return br.Close()
	})
	if err != nil {
		return 0, err
	}
	return version, nil
}

// Close implements Backend.
func (b *Postgres) Close() error {
	b.leases.close()
	b.pool.Close()
	return nil
}
