package store

import (
	"context"
	"hash/fnv"
	"sync"

	"github.com/jackc/pgx/v5"
)

// leader is a Shared backend that can pick one sandbox, among all that share it, to run a
// background job (the simulator), so two replicas never both move the vehicles.
type leader interface {
	// Lead reports whether this sandbox runs job now: it takes the job when nobody holds it
	// (or its holder died) and keeps it while it lives.
	Lead(job string) (bool, error)
}

// Leads reports whether this sandbox should run the background job now. A store of its own
// (memory, SQLite) always does; with a shared backend exactly one of the sandboxes sharing it
// does at a time, and another takes over when it stops or dies. If the backend cannot be
// reached, nobody leads until it is back.
func (s *Store) Leads(job string) bool {
	l, ok := s.backend.(leader)
	if s.shared == nil || !ok {
		return true
	}
	leads, err := l.Lead(job)
	if err != nil {
		s.log.Warn("could not tell whether this sandbox leads; it does not meanwhile", "job", job, "error", err)
		return false
	}
	return leads
}

// pgLeases are the jobs a Postgres backend may lead: each is a session-level advisory lock
// held on a connection of its own, so PostgreSQL itself ends the lead when the holder's
// connection closes (Close, a crash, kill -9) and the next sandbox that asks takes it. Nothing
// is written to lead.
type pgLeases struct {
	mu    sync.Mutex
	conns map[string]*pgLease
}

type pgLease struct {
	conn *pgx.Conn
	held bool
}

// Lead implements leader.
func (b *Postgres) Lead(job string) (bool, error) {
	l := &b.leases
	l.mu.Lock()
	defer l.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), pgTimeout)
	defer cancel()
	lease := l.conns[job]
	if lease == nil {
		conn, err := pgx.ConnectConfig(ctx, b.pool.Config().ConnConfig.Copy())
		if err != nil {
			return false, err
		}
		lease = &pgLease{conn: conn}
		if l.conns == nil {
			l.conns = make(map[string]*pgLease)
		}
		l.conns[job] = lease
	}
	var err error
	if lease.held {
		// The lock lasts as long as the session: a round trip proves the session lives.
		err = lease.conn.Ping(ctx)
	} else {
		err = lease.conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, jobLock(job)).Scan(&lease.held)
	}
	if err != nil {
		// The session is gone, and the lock with it: start again with a new one next time.
		lease.conn.Close(ctx)
		delete(l.conns, job)
		return false, err
	}
	return lease.held, nil
}

// jobLock is the advisory lock key of a job, apart from pgWriteLock's.
func jobLock(job string) int64 {
	h := fnv.New64a()
	h.Write([]byte("sandbox job " + job))
	return int64(h.Sum64() &^ (1 << 63))
}

// close ends every lead (and its session).
func (l *pgLeases) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for job, lease := range l.conns {
		lease.conn.Close(context.Background())
		delete(l.conns, job)
	}
}
