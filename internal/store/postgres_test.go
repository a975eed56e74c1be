package store

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store/pgtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

func needPostgres(t *testing.T) string { return pgtest.URL(t) }

func TestPostgresMigratesOnceAndRefusesNewerSchema(t *testing.T) {
	url := needPostgres(t)
	for range 2 { // the second open finds the schema current
		b, err := OpenPostgres(url)
		if err != nil {
			t.Fatal(err)
		}
		b.Close()
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES (99)`); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenPostgres(url); err == nil {
		t.Fatal("a database with a newer schema opened")
	}
}
