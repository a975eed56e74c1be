package store

import (
	"context"
	"fmt"
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
}

// Postgres is the Backend of -store postgres://...: the records in one table, each commit one
// PostgreSQL transaction. The store keeps its working state in memory and only writes through
// a backend, so one database serves one sandbox at a time, as a data dir does: replicas that
// share one database are not built yet (see docs/admin.md).
type Postgres struct {
	pool *pgxpool.Pool
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
func (b *Postgres) Load() ([]Record, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*pgTimeout)
	defer cancel()
	rows, err := b.pool.Query(ctx, `SELECT kind, key, value FROM records ORDER BY kind, key COLLATE "C"`)
	if err != nil {
		return nil, err
	}
	var out []Record
	for rows.Next() {
		var r Record
		if err := rows.Scan(&r.Kind, &r.Key, &r.Value); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, r)
	}
	rows.Close()
	return out, rows.Err()
}

// Commit implements Backend: the changes go as one batch in one transaction.
func (b *Postgres) Commit(full bool, changes []Record) error {
	ctx, cancel := context.WithTimeout(context.Background(), pgTimeout)
	defer cancel()
	return pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
		var batch pgx.Batch
		if full {
			batch.Queue(`DELETE FROM records WHERE kind <> ALL($1)`, keptKinds)
		}
		for _, r := range changes {
			if r.Value == nil {
				batch.Queue(`DELETE FROM records WHERE kind = $1 AND key = $2`, r.Kind, r.Key)
			} else {
				batch.Queue(`INSERT INTO records (kind, key, value) VALUES ($1, $2, $3)
					ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value`, r.Kind, r.Key, r.Value)
			}
		}
		return tx.SendBatch(ctx, &batch).Close()
	})
}

// Close implements Backend.
func (b *Postgres) Close() error {
	b.pool.Close()
	return nil
}
