// Package pluginstate keeps the durable state of plugins: key-value pairs
// in one SQLite database per plugin home, one namespace per plugin, which
// change only through transactions that commit atomically or not at all.
//
// The host runs every call into a plugin as one Tx: the call's reads see a
// snapshot of the namespace plus its own writes, its writes are buffered,
// and Commit makes them durable in one SQLite transaction (WAL journal,
// synchronous=FULL: a commit that returned survives a crash of the process
// and of the machine). Commit checks that nothing the call read was changed
// by another commit meanwhile, and fails with a *ConflictError otherwise:
// committed transactions are serializable. Rollback discards everything.
//
// Several processes may use one database at once: readers never wait,
// writers take turns (waiting at most Options.BusyTimeout for another
// process's commit).
//
// A Store is safe for concurrent use; a Tx is for one goroutine at a time.
package pluginstate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/driftless-dev/driftless/internal/safefile"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// DefaultBusyTimeout is how long an operation waits for a lock another
// process holds on the database before it fails.
const DefaultBusyTimeout = 5 * time.Second

// applicationID marks a database as Driftless state ("DRFS"), and
// schemaVersion is the version of the schema below.
const (
	applicationID = 0x44524653
	schemaVersion = 1
)

// schema is every object of the database, as sqlite_schema holds it (by
// name): Open refuses a database with anything else (a trigger, a view) in
// it. The triggers keep each namespace's usage (keys, and bytes of keys and
// values) in step with its entries, in the transaction that changes them,
// and count its changes (version, which never goes back: the row stays
// when the namespace empties).
var schema = []struct{ typ, name, sql string }{
	{"table", "entries", `CREATE TABLE entries (ns TEXT NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL, PRIMARY KEY (ns, key)) WITHOUT ROWID`},
	{"trigger", "entries_delete", `CREATE TRIGGER entries_delete AFTER DELETE ON entries BEGIN ` +
		`UPDATE usage SET keys = keys - 1, bytes = bytes - length(OLD.key) - length(OLD.value), version = version + 1 WHERE ns = OLD.ns; END`},
	{"trigger", "entries_insert", `CREATE TRIGGER entries_insert AFTER INSERT ON entries BEGIN ` +
		`INSERT OR IGNORE INTO usage (ns, keys, bytes, version) VALUES (NEW.ns, 0, 0, 0); ` +
		`UPDATE usage SET keys = keys + 1, bytes = bytes + length(NEW.key) + length(NEW.value), version = version + 1 WHERE ns = NEW.ns; END`},
	{"trigger", "entries_update", `CREATE TRIGGER entries_update AFTER UPDATE ON entries BEGIN ` +
		`UPDATE usage SET bytes = bytes - length(OLD.value) + length(NEW.value), version = version + 1 WHERE ns = NEW.ns; END`},
	{"table", "usage", `CREATE TABLE usage (ns TEXT PRIMARY KEY, keys INTEGER NOT NULL, bytes INTEGER NOT NULL, version INTEGER NOT NULL) WITHOUT ROWID`},
}

// Options configure a Store.
type Options struct {
	// BusyTimeout is how long to wait for a lock another process holds;
	// 0 means DefaultBusyTimeout.
	BusyTimeout time.Duration
}

// Store is an open state database.
type Store struct {
	path string
	busy time.Duration
	db   *sql.DB

	// commitMu serialises the commits of this process: SQLite would too,
	// but by sleeping and retrying.
	commitMu sync.Mutex

	stmts statements
}

// statements are prepared once; transactions use them through tx.Stmt.
type statements struct {
	get, oldSize, put, del, usage, version, keysFrom *sql.Stmt
}

// Open opens (creating it if needed, with its directory) the state
// database at path. Errors are *Error naming the file: a path that is not
// a regular file, a file that is not a Driftless state database or is
// corrupt, one locked by another process for longer than the busy timeout.
func Open(path string, opts Options) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, &Error{File: path, Op: "open", Err: err}
	}
	s := &Store{path: abs, busy: opts.BusyTimeout}
	if s.busy <= 0 {
		s.busy = DefaultBusyTimeout
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, s.fail("open", err)
	}
	// A FIFO or device would make SQLite block or misbehave; a directory
	// gives an obscure error. Only a regular file (or none yet) will do.
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if st, err := os.Lstat(abs + suffix); err == nil && !st.Mode().IsRegular() {
			return nil, s.fail("open", fmt.Errorf("%s is %s, not a regular file", abs+suffix, safefile.Describe(st.Mode())))
		} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, s.fail("open", err)
		}
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", s.busy.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "trusted_schema(OFF)")
	q.Add("_pragma", "foreign_keys(OFF)")
	q.Set("_txlock", "immediate")
	dsn := "file:" + (&url.URL{Path: abs}).EscapedPath() + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, s.fail("open", err)
	}
	// Each call that uses state holds a connection for its snapshot while
	// it runs: as many as calls run at once, kept for the next ones.
	db.SetMaxIdleConns(16)
	db.SetConnMaxIdleTime(time.Minute)
	s.db = db
	if err := s.init(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// init checks the database is Driftless state of a known schema version,
// or empty (then creates the schema), and prepares the statements.
func (s *Store) init() error {
	ctx := context.Background()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.fail("open", err)
	}
	defer tx.Rollback()
	var app, version int64
	if err := tx.QueryRow(`PRAGMA application_id`).Scan(&app); err != nil {
		return s.fail("open", err)
	}
	if err := tx.QueryRow(`PRAGMA user_version`).Scan(&version); err != nil {
		return s.fail("open", err)
	}
	rows, err := tx.Query(`SELECT type, name, coalesce(sql, '') FROM sqlite_schema ORDER BY name`)
	if err != nil {
		return s.fail("open", err)
	}
	var have []string
	for rows.Next() {
		var typ, name, text string
		if err := rows.Scan(&typ, &name, &text); err != nil {
			rows.Close()
			return s.fail("open", err)
		}
		have = append(have, typ+" "+name+": "+text)
	}
	if err := rows.Close(); err != nil {
		return s.fail("open", err)
	}
	switch {
	case app == 0 && version == 0 && len(have) == 0:
		// Tables before the triggers on them.
		for _, typ := range []string{"table", "trigger"} {
			for _, o := range schema {
				if o.typ != typ {
					continue
				}
				if _, err := tx.Exec(o.sql); err != nil {
					return s.fail("open", err)
				}
			}
		}
		if _, err := tx.Exec(fmt.Sprintf(`PRAGMA application_id = %d`, applicationID)); err != nil {
			return s.fail("open", err)
		}
		if _, err := tx.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, schemaVersion)); err != nil {
			return s.fail("open", err)
		}
		if err := tx.Commit(); err != nil {
			return s.fail("open", err)
		}
	case app != applicationID:
		return s.fail("open", fmt.Errorf("not a Driftless state database (application_id %#x)", app))
	case version > schemaVersion:
		return s.fail("open", fmt.Errorf("written by a newer Driftless (schema version %d; this one knows %d)", version, schemaVersion))
	default:
		var want []string
		for _, o := range schema {
			want = append(want, o.typ+" "+o.name+": "+o.sql)
		}
		// SQLite adds no automatic index to WITHOUT ROWID tables, so the
		// schema is exactly the tables and triggers.
		if strings.Join(have, "\n") != strings.Join(want, "\n") {
			return s.fail("open", fmt.Errorf("its schema is not Driftless state's: it has %s", strings.Join(have, "; ")))
		}
	}
	tx.Rollback()
	prep := func(dst **sql.Stmt, q string) error {
		st, err := s.db.Prepare(q)
		if err != nil {
			return s.fail("open", err)
		}
		*dst = st
		return nil
	}
	for _, p := range []struct {
		dst **sql.Stmt
		q   string
	}{
		// The value only when it is within the bound: a database edited by
		// hand must not make the host allocate without limit.
		{&s.stmts.get, `SELECT length(value), CASE WHEN length(value) <= ?3 THEN value END FROM entries WHERE ns = ?1 AND key = ?2`},
		{&s.stmts.oldSize, `SELECT length(key) + length(value) FROM entries WHERE ns = ?1 AND key = ?2`},
		{&s.stmts.put, `INSERT INTO entries (ns, key, value) VALUES (?1, ?2, ?3) ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value`},
		{&s.stmts.del, `DELETE FROM entries WHERE ns = ?1 AND key = ?2`},
		{&s.stmts.usage, `SELECT keys, bytes FROM usage WHERE ns = ?1`},
		{&s.stmts.version, `SELECT version FROM usage WHERE ns = ?1`},
		// Keys of ns from ?2 (inclusive) below ?3 (none: no bound) after
		// ?4 (none: from the start), in byte order.
		{&s.stmts.keysFrom, `SELECT key, length(key) FROM entries WHERE ns = ?1 AND key >= ?2 AND (?3 IS NULL OR key < ?3) AND (?4 IS NULL OR key > ?4) ORDER BY key LIMIT ?5`},
	} {
		if err := prep(p.dst, p.q); err != nil {
			return err
		}
	}
	return nil
}

// Path returns the database file.
func (s *Store) Path() string { return s.path }

// Close closes the database. Transactions still open fail.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return s.fail("close", err)
	}
	return nil
}

// Check runs SQLite's integrity check over the whole database and returns
// an *Error listing what it found, or nil.
func (s *Store) Check(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return s.fail("check", err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return s.fail("check", err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return s.fail("check", err)
	}
	if len(problems) > 0 {
		return s.fail("check", fmt.Errorf("integrity check failed: %s", strings.Join(problems, "; ")))
	}
	return nil
}

// Error is a failure of the database: it names the file and the operation.
type Error struct {
	File string // the database file
	Op   string // "open", "get", "commit", ...
	Err  error
}

func (e *Error) Error() string {
	return fmt.Sprintf("state database %s: %s: %v", e.File, e.Op, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Locked reports whether the operation failed because another process
// held the database locked for longer than the busy timeout.
func (e *Error) Locked() bool {
	code := sqliteCode(e.Err)
	return code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED
}

// Corrupt reports whether SQLite found the file corrupt or not a database.
func (e *Error) Corrupt() bool {
	code := sqliteCode(e.Err)
	return code == sqlite3.SQLITE_CORRUPT || code == sqlite3.SQLITE_NOTADB
}

func sqliteCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() & 0xff
	}
	return 0
}

// fail wraps err as an *Error of s, saying in words what SQLite's codes
// mean for the user.
func (s *Store) fail(op string, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	switch sqliteCode(err) {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		err = &wrapped{fmt.Sprintf("locked by another process for longer than %s (%v)", s.busy, err), err}
	case sqlite3.SQLITE_CORRUPT:
		err = &wrapped{fmt.Sprintf("the file is corrupt (%v); restore it from a backup (driftless state import) or remove it", err), err}
	case sqlite3.SQLITE_NOTADB:
		err = &wrapped{fmt.Sprintf("the file is not a database (%v)", err), err}
	case sqlite3.SQLITE_FULL:
		err = &wrapped{fmt.Sprintf("the disk is full (%v)", err), err}
	case sqlite3.SQLITE_READONLY:
		err = &wrapped{fmt.Sprintf("the file is read-only (%v)", err), err}
	}
	return &Error{File: s.path, Op: op, Err: err}
}

type wrapped struct {
	msg string
	err error
}

func (w *wrapped) Error() string { return w.msg }
func (w *wrapped) Unwrap() error { return w.err }
