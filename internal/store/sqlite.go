package store

import (
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver: the binary stays static with CGO_ENABLED=0
)

// dbFile is the database a data dir holds.
const dbFile = "sandbox.db"

// sqliteMigrations are the schema's versions, applied in order at open; version n is
// sqliteMigrations[n-1]. Never change one that has shipped: add the next.
var sqliteMigrations = []string{
	`CREATE TABLE records (
		kind  TEXT NOT NULL,
		key   TEXT NOT NULL,
		value BLOB NOT NULL,
		PRIMARY KEY (kind, key)
	) WITHOUT ROWID`,
	// Issued tokens keyed by their number and refresh tokens by their expiry first, so a
	// commit's records are neighbours (see issuedRec and refreshKey); and the records in a
	// rowid table, keyed by a unique index: a WITHOUT ROWID table keeps at most ~1 KB of a
	// row in its B-tree page and puts the rest in an overflow page of its own, so every
	// vehicle (1.1 KB of JSON) took two pages, one nearly empty (a 10,000-user database: 62
	// MB for 21 MB of records, all read at start). Values are JSON text held as BLOBs, which
	// SQLite's JSON functions would read as JSONB: hence the casts.
	`CREATE TABLE records_by_id (
		id    INTEGER PRIMARY KEY,
		kind  TEXT NOT NULL,
		key   TEXT NOT NULL,
		value BLOB NOT NULL,
		UNIQUE (kind, key)
	);
	INSERT INTO records_by_id (kind, key, value)
		SELECT kind, CASE kind
			WHEN 'issued' THEN printf('%020d', json_extract(CAST(value AS TEXT), '$.seq'))
			WHEN 'refresh' THEN json_extract(CAST(value AS TEXT), '$.expiresAt') || '/' || key
			ELSE key END, value
		FROM records ORDER BY kind, key;
	DROP TABLE records;
	ALTER TABLE records_by_id RENAME TO records`,
}

// SQLite is the Backend of a data dir: DIR/sandbox.db in WAL mode with synchronous=FULL, so
// a commit is on disk (the WAL fsynced) before Commit returns and a crash at any point
// leaves every committed transaction and nothing of an uncommitted one.
type SQLite struct {
	mu     sync.Mutex // one writer: the store commits one transaction at a time anyway
	db     *sql.DB
	upsert *sql.Stmt
	del    *sql.Stmt
	closed bool
}

// OpenSQLite opens (or makes) dir/sandbox.db and brings its schema to the current version.
func OpenSQLite(dir string) (*SQLite, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	path := filepath.Join(dir, dbFile)
	q := url.Values{}
	// mmap: reads (all of the database at start, pages a commit changes) come from the page
	// cache without a system call per page; writes still go through the WAL, fsynced.
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(10000)", "foreign_keys(ON)", "mmap_size(1073741824)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	// One connection: every pragma above applies to it, and writes are serial anyway.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	b := &SQLite{db: db}
	if err := b.migrate(); err != nil {
		db.Close()
		return nil, fmt.Errorf("data dir: %s: %w", path, err)
	}
	if b.upsert, err = db.Prepare(`INSERT INTO records (kind, key, value) VALUES (?, ?, ?)
		ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value`); err == nil {
		b.del, err = db.Prepare(`DELETE FROM records WHERE kind = ? AND key = ?`)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("data dir: %s: %w", path, err)
	}
	return b, nil
}

// migrate applies the migrations the database has not seen, each in its own transaction
// with the version it brings.
func (b *SQLite) migrate() error {
	if _, err := b.db.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)`); err != nil {
		return err
	}
	var have int
	if err := b.db.QueryRow(`SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return err
	}
	if have > len(sqliteMigrations) {
		return fmt.Errorf("the database has schema version %d, this sandbox knows up to %d: use a newer sandbox", have, len(sqliteMigrations))
	}
	for v := have + 1; v <= len(sqliteMigrations); v++ {
		tx, err := b.db.Begin()
		if err != nil {
			return err
		}
		if _, err := tx.Exec(sqliteMigrations[v-1]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", v, err)
		}
		if _, err := tx.Exec(`INSERT INTO schema_migrations (version) VALUES (?)`, v); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", v, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %d: %w", v, err)
		}
	}
	return nil
}

// Load implements Backend. The values of the records handed to fn share buffers of about
// 1 MB (one allocation per buffer rather than per record: a big database holds tens of
// thousands), so a caller that keeps a small part of one for long should copy it.
func (b *SQLite) Load(fn func(Record) error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errClosed
	}
	// In the table's order: following the (kind, key) index to each row costs more.
	rows, err := b.db.Query(`SELECT kind, key, value FROM records`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var value sql.RawBytes // the driver's, valid until the next row
	var buf []byte
	for rows.Next() {
		var r Record
		if err := rows.Scan(&r.Kind, &r.Key, &value); err != nil {
			return err
		}
		if len(value) > cap(buf)-len(buf) {
			buf = make([]byte, 0, max(len(value), 1<<20))
		}
		start := len(buf)
		buf = append(buf, value...)
		r.Value = buf[start:len(buf):len(buf)]
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Commit implements Backend.
func (b *SQLite) Commit(full bool, changes []Record) (err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errClosed
	}
	tx, err := b.db.Begin()
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	if full {
		if _, err := tx.Exec(`DELETE FROM records WHERE kind NOT IN (?, ?)`, keptKinds[0], keptKinds[1]); err != nil {
			return err
		}
	}
	upsert, del := tx.Stmt(b.upsert), tx.Stmt(b.del)
	for _, r := range changes {
		if r.Value == nil {
			_, err = del.Exec(r.Kind, r.Key)
		} else {
			_, err = upsert.Exec(r.Kind, r.Key, r.Value)
		}
		if err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Close implements Backend.
func (b *SQLite) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	return errors.Join(b.upsert.Close(), b.del.Close(), b.db.Close())
}
