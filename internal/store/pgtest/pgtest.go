// Package pgtest starts a real, throwaway PostgreSQL: for the tests (URL, Down, Up, Stop) and
// for sandbox-bench's PostgreSQL phase (Start).
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

// Cluster is a throwaway PostgreSQL: Debian's postgresql package's binaries (make test
// installs the package when missing), a cluster made with initdb in a temp dir, listening only
// on a unix socket there.
type Cluster struct {
	dir   string   // cluster and socket
	url   string   // the postgres database, for making databases
	bin   string   // the binaries
	as    []string // runuser prefix when running as root (PostgreSQL refuses root)
	fsync bool
	n     atomic.Int32
}

// Bin is SANDBOX_PG_BIN, else the newest Debian PostgreSQL's binaries.
func Bin() string {
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

// Installed reports whether the PostgreSQL binaries are there (nil), or why not.
func Installed() error {
	if _, err := os.Stat(filepath.Join(Bin(), "initdb")); err != nil {
		return fmt.Errorf("PostgreSQL is not installed (%s/initdb: %v); install Debian's postgresql package (make test does) or set SANDBOX_PG_BIN", Bin(), err)
	}
	return nil
}

// Start makes and starts a cluster. With fsync it keeps PostgreSQL's default durability (a
// benchmark measures that); without, it skips every fsync (tests, which only need the
// behaviour).
func Start(fsync bool) (*Cluster, error) {
	c := &Cluster{bin: Bin(), fsync: fsync}
	dir, err := os.MkdirTemp("", "sandbox-pg-")
	if err != nil {
		return nil, err
	}
	c.dir = dir
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root and there is no postgres user to run PostgreSQL as: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		c.as = []string{"runuser", "-u", "postgres", "--"}
	}
	if err := c.run("initdb", "-D", c.data(), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := c.up(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	c.url = "postgres://postgres@/postgres?host=" + dir
	return c, nil
}

func (c *Cluster) data() string { return filepath.Join(c.dir, "data") }

func (c *Cluster) run(name string, args ...string) error {
	cmd := append(append([]string(nil), c.as...), filepath.Join(c.bin, name))
	out, err := exec.Command(cmd[0], append(cmd[1:], args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", name, err, out)
	}
	return nil
}

func (c *Cluster) up() error {
	opts := fmt.Sprintf("-k %s -c listen_addresses=", c.dir)
	if !c.fsync {
		opts += " -c fsync=off"
	}
	return c.run("pg_ctl", "-D", c.data(), "-w", "-l", filepath.Join(c.dir, "log"), "-o", opts, "start")
}

// NewDatabase makes an empty database and returns its url.
func (c *Cluster) NewDatabase() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.url)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("sandbox_test_%d", c.n.Add(1))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", err
	}
	return "postgres://postgres@/" + name + "?host=" + c.dir, nil
}

// Stop stops the cluster at once and removes it.
func (c *Cluster) Stop() {
	_ = c.run("pg_ctl", "-D", c.data(), "-m", "immediate", "stop")
	os.RemoveAll(c.dir)
}

// The tests' cluster: started once per test binary, on first use; stopped by Stop (from
// TestMain).
var pg struct {
	once sync.Once
	c    *Cluster
	err  error
}

// Stop stops the PostgreSQL the package's tests started, if any; call it from TestMain after
// m.Run.
func Stop() {
	if pg.c != nil {
		pg.c.Stop()
	}
}

// URL returns the url of a fresh, empty database, skipping (locally) or failing (CI=true)
// when PostgreSQL is not installed.
func URL(t testing.TB) string {
	t.Helper()
	if err := Installed(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	pg.once.Do(func() { pg.c, pg.err = Start(false) })
	if pg.err != nil {
		t.Fatalf("starting PostgreSQL: %v", pg.err)
	}
	url, err := pg.c.NewDatabase()
	if err != nil {
		t.Fatal(err)
	}
	return url
}

// Down stops the test PostgreSQL (fast shutdown: connections are cut), as an outage does.
func Down(t testing.TB) {
	t.Helper()
	if err := pg.c.run("pg_ctl", "-D", pg.c.data(), "-m", "fast", "-w", "stop"); err != nil {
		t.Fatal(err)
	}
}

// Up starts the test PostgreSQL again after Down.
func Up(t testing.TB) {
	t.Helper()
	if err := pg.c.up(); err != nil {
		t.Fatal(err)
	}
}
