// Package pgtest starts a real PostgreSQL for tests.
package pgtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// A real PostgreSQL for the tests: Debian's postgresql package's binaries (make test installs
// the package when missing), a cluster made with initdb in a temp dir, listening only on a unix
// socket there. Started once per test binary, on first use; stopped by Stop (from TestMain).
var pg struct {
	once sync.Once
	dir  string // cluster and socket
	url  string // the postgres database, for making test databases
	err  error
	bin  string
	as   []string // runuser prefix when running as root (PostgreSQL refuses root)
	n    atomic.Int32
}

// Stop stops the PostgreSQL the package's tests started, if any; call it from TestMain after
// m.Run.
func Stop() {
	if pg.dir != "" {
		_ = pgRun("pg_ctl", "-D", filepath.Join(pg.dir, "data"), "-m", "immediate", "stop")
		os.RemoveAll(pg.dir)
	}
}

// pgBin is SANDBOX_PG_BIN, else the newest Debian PostgreSQL's binaries.
func pgBin() string {
	if b := os.Getenv("SANDBOX_PG_BIN"); b != "" {
		return b
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	best, bestV := "/usr/lib/postgresql/15/bin", -1
	for _, f := range found {
		v, err := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(f))))
		if err == nil && v > bestV {
			best, bestV = filepath.Dir(f), v
		}
	}
	return best
}

func pgRun(name string, args ...string) error {
	cmd := append(append([]string(nil), pg.as...), filepath.Join(pg.bin, name))
	out, err := exec.Command(cmd[0], append(cmd[1:], args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", name, err, out)
	}
	return nil
}

func startPostgres() error {
	pg.bin = pgBin()
	dir, err := os.MkdirTemp("", "sandbox-pg-")
	if err != nil {
		return err
	}
	pg.dir = dir
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return fmt.Errorf("running as root and there is no postgres user to run PostgreSQL as: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return err
		}
		pg.as = []string{"runuser", "-u", "postgres", "--"}
	}
	data := filepath.Join(dir, "data")
	if err := pgRun("initdb", "-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"); err != nil {
		return err
	}
	if err := pgRun("pg_ctl", "-D", data, "-w", "-l", filepath.Join(dir, "log"),
		"-o", fmt.Sprintf("-k %s -c listen_addresses= -c fsync=off", dir), "start"); err != nil {
		return err
	}
	pg.url = "postgres://postgres@/postgres?host=" + dir
	return nil
}

// URL returns the url of a fresh, empty database, skipping (locally) or failing (CI=true)
// when PostgreSQL is not installed.
func URL(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat(filepath.Join(pgBin(), "initdb")); err != nil {
		msg := fmt.Sprintf("PostgreSQL is not installed (%s/initdb: %v); install Debian's postgresql package (make test does) or set SANDBOX_PG_BIN", pgBin(), err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	pg.once.Do(func() { pg.err = startPostgres() })
	if pg.err != nil {
		t.Fatalf("starting PostgreSQL: %v", pg.err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, pg.url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("sandbox_test_%d", pg.n.Add(1))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	return "postgres://postgres@/" + name + "?host=" + pg.dir
}

// Down stops the test PostgreSQL (fast shutdown: connections are cut), as an outage does.
func Down(t testing.TB) {
	t.Helper()
	if err := pgRun("pg_ctl", "-D", filepath.Join(pg.dir, "data"), "-m", "fast", "-w", "stop"); err != nil {
		t.Fatal(err)
	}
}

// Up starts the test PostgreSQL again after Down.
func Up(t testing.TB) {
	t.Helper()
	if err := pgRun("pg_ctl", "-D", filepath.Join(pg.dir, "data"), "-w", "-l", filepath.Join(pg.dir, "log"),
		"-o", fmt.Sprintf("-k %s -c listen_addresses= -c fsync=off", pg.dir), "start"); err != nil {
		t.Fatal(err)
	}
}
