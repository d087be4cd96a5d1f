package pluginstate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func open(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(path, Options{BusyTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newStore(t testing.TB) *Store {
	return open(t, filepath.Join(t.TempDir(), "state", "state.db"))
}

func mustGet(t testing.TB, tx *Tx, key string) (string, bool) {
	t.Helper()
	v, ok, err := tx.Get(key)
	if err != nil {
		t.Fatalf("get %q: %v", key, err)
	}
	return string(v), ok
}

func mustSet(t testing.TB, tx *Tx, key, value string) {
	t.Helper()
	if err := tx.Set(key, []byte(value)); err != nil {
		t.Fatalf("set %q: %v", key, err)
	}
}

func mustCommit(t testing.TB, tx *Tx) {
	t.Helper()
	if err := tx.Commit(); err != nil {
		t.Fatalf("commit: %v", err)
	}
}

// stored returns what ns holds, read in a transaction of its own.
func stored(t testing.TB, s *Store, ns string) map[string]string {
	t.Helper()
	items, err := s.Export(context.Background(), ns, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, it := range items {
		m[it.Key] = string(it.Value)
	}
	return m
}

func TestCommitAndRollback(t *testing.T) {
	s := newStore(t)
	lim := DefaultLimits()

	tx := s.Begin("p", lim)
	if _, ok := mustGet(t, tx, "a"); ok {
		t.Fatal("a new store has a key")
	}
	mustSet(t, tx, "a", "1")
	mustSet(t, tx, "b", "2")
	mustSet(t, tx, "empty", "")
	if v, ok := mustGet(t, tx, "a"); !ok || v != "1" {
		t.Fatalf("a transaction does not read its own write: %q %v", v, ok)
	}
	if err := tx.Delete("b"); err != nil {
		t.Fatal(err)
	}
	if _, ok := mustGet(t, tx, "b"); ok {
		t.Fatal("a transaction reads a key it deleted")
	}
	// Not visible to others before the commit.
	if got := stored(t, s, "p"); len(got) != 0 {
		t.Fatalf("uncommitted writes are visible: %v", got)
	}
	mustCommit(t, tx)
	if got := stored(t, s, "p"); !maps(got, map[string]string{"a": "1", "empty": ""}) {
		t.Fatalf("after commit: %v", got)
	}
	if err := tx.Commit(); err == nil {
		t.Fatal("a transaction committed twice")
	}

	tx = s.Begin("p", lim)
	mustSet(t, tx, "a", "changed")
	mustSet(t, tx, "c", "3")
	if err := tx.Delete("empty"); err != nil {
		t.Fatal(err)
	}
	tx.Rollback()
	if got := stored(t, s, "p"); !maps(got, map[string]string{"a": "1", "empty": ""}) {
		t.Fatalf("a rolled back transaction changed the store: %v", got)
	}
	if err := tx.Set("x", nil); err == nil {
		t.Fatal("a rolled back transaction accepted a write")
	}
	u, err := s.Usage(context.Background(), "p")
	if err != nil || u.Keys != 2 || u.Bytes != int64(len("a1empty")) {
		t.Fatalf("usage %+v %v", u, err)
	}
}

func maps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// Namespaces never see each other's keys.
func TestNamespaces(t *testing.T) {
	s := newStore(t)
	lim := DefaultLimits()
	a := s.Begin("alpha", lim)
	mustSet(t, a, "k", "alpha's")
	mustCommit(t, a)
	b := s.Begin("beta", lim)
	if _, ok := mustGet(t, b, "k"); ok {
		t.Fatal("beta reads alpha's key")
	}
	if keys, err := b.Keys("", nil, 10); err != nil || len(keys) != 0 {
		t.Fatalf("beta lists %v %v", keys, err)
	}
	mustSet(t, b, "k", "beta's")
	mustCommit(t, b)
	if got := stored(t, s, "alpha"); got["k"] != "alpha's" {
		t.Fatalf("alpha: %v", got)
	}
	ns, err := s.Namespaces(context.Background())
	if err != nil || len(ns) != 2 || ns[0].Namespace != "alpha" || ns[1].Namespace != "beta" {
		t.Fatalf("namespaces %+v %v", ns, err)
	}
}

func TestKeys(t *testing.T) {
	s := newStore(t)
	lim := DefaultLimits()
	tx := s.Begin("p", lim)
	for _, k := range []string{"b/2", "a", "b/1", "b/3", "c", "b", "é", "b/10"} {
		mustSet(t, tx, k, "v")
	}
	mustCommit(t, tx)

	tx = s.Begin("p", lim)
	defer tx.Rollback()
	mustSet(t, tx, "b/15", "new")
	if err := tx.Delete("b/2"); err != nil {
		t.Fatal(err)
	}
	str := func(s string) *string { return &s }
	for _, c := range []struct {
		prefix string
		after  *string
		limit  int
		want   []string
	}{
		{"", nil, 100, []string{"a", "b", "b/1", "b/10", "b/15", "b/3", "c", "é"}},
		{"b/", nil, 100, []string{"b/1", "b/10", "b/15", "b/3"}},
		{"b/", nil, 2, []string{"b/1", "b/10"}},
		{"b/", str("b/10"), 2, []string{"b/15", "b/3"}},
		{"b/", str("b/3"), 2, []string{}},
		{"zzz", nil, 5, []string{}},
		{"", nil, 0, []string{}},
		{"\u00e9", nil, 5, []string{"é"}},
	} {
		t.Run(fmt.Sprintf("%q after %v limit %d", c.prefix, c.after, c.limit), func(t *testing.T) {
			got, err := tx.Keys(c.prefix, c.after, c.limit)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}

// Keys never returns more than MaxPage keys, and paging reaches every key.
func TestKeysPaging(t *testing.T) {
	s := newStore(t)
	tx := s.Begin("p", DefaultLimits())
	for i := range MaxPage + 500 {
		mustSet(t, tx, fmt.Sprintf("k%05d", i), "")
	}
	mustCommit(t, tx)
	tx = s.Begin("p", DefaultLimits())
	defer tx.Rollback()
	var all []string
	var after *string
	for {
		page, err := tx.Keys("k", after, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > MaxPage {
			t.Fatalf("a page of %d keys", len(page))
		}
		if len(page) == 0 {
			break
		}
		all = append(all, page...)
		after = &page[len(page)-1]
	}
	if len(all) != MaxPage+500 || !slices.IsSorted(all) {
		t.Fatalf("paged through %d keys", len(all))
	}
}

// A transaction reads a snapshot: commits made after its first read are
// not visible to it.
func TestSnapshot(t *testing.T) {
	s := newStore(t)
	lim := DefaultLimits()
	w := s.Begin("p", lim)
	mustSet(t, w, "a", "1")
	mustSet(t, w, "b", "1")
	mustCommit(t, w)

	r := s.Begin("p", lim)
	defer r.Rollback()
	if v, _ := mustGet(t, r, "a"); v != "1" {
		t.Fatal(v)
	}
	w = s.Begin("p", lim)
	mustSet(t, w, "a", "2")
	mustSet(t, w, "b", "2")
	mustSet(t, w, "c", "2")
	mustCommit(t, w)
	if v, _ := mustGet(t, r, "b"); v != "1" {
		t.Fatalf("the snapshot sees a later commit: b = %q", v)
	}
	if _, ok := mustGet(t, r, "c"); ok {
		t.Fatal("the snapshot sees a later key")
	}
	if keys, _ := r.Keys("", nil, 10); !slices.Equal(keys, []string{"a", "b"}) {
		t.Fatalf("the snapshot lists %q", keys)
	}
	// A read-only transaction commits: it changes nothing.
	if err := r.Commit(); err != nil {
		t.Fatal(err)
	}
}

// A commit fails when something the transaction read changed meanwhile,
// and then writes nothing; blind writes do not conflict.
func TestConflicts(t *testing.T) {
	lim := DefaultLimits()
	for _, c := range []struct {
		name  string
		read  func(t *testing.T, tx *Tx)
		other func(t *testing.T, tx *Tx)
		want  string // "" for no conflict
	}{
		{"changed", func(t *testing.T, tx *Tx) { mustGet(t, tx, "a") }, func(t *testing.T, tx *Tx) { mustSet(t, tx, "a", "other") },
			`state conflict: key "a", which this call read, was changed by another call meanwhile`},
		{"deleted", func(t *testing.T, tx *Tx) { mustGet(t, tx, "a") }, func(t *testing.T, tx *Tx) { tx.Delete("a") },
			`state conflict: key "a", which this call read, was deleted by another call meanwhile`},
		{"created", func(t *testing.T, tx *Tx) { mustGet(t, tx, "new") }, func(t *testing.T, tx *Tx) { mustSet(t, tx, "new", "x") },
			`state conflict: key "new", which this call read as not set, was set by another call meanwhile`},
		{"listed", func(t *testing.T, tx *Tx) { tx.Keys("l/", nil, 10) }, func(t *testing.T, tx *Tx) { mustSet(t, tx, "l/2", "x") },
			`state conflict: the keys starting with "l/", which this call listed, were changed by another call meanwhile`},
		{"same value", func(t *testing.T, tx *Tx) { mustGet(t, tx, "a") }, func(t *testing.T, tx *Tx) { mustSet(t, tx, "a", "0") }, ""},
		{"other key", func(t *testing.T, tx *Tx) { mustGet(t, tx, "a") }, func(t *testing.T, tx *Tx) { mustSet(t, tx, "b", "x") }, ""},
		{"listed elsewhere", func(t *testing.T, tx *Tx) { tx.Keys("l/", nil, 10) }, func(t *testing.T, tx *Tx) { mustSet(t, tx, "m", "x") }, ""},
		{"blind write", func(t *testing.T, tx *Tx) {}, func(t *testing.T, tx *Tx) { mustSet(t, tx, "out", "other") }, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newStore(t)
			init := s.Begin("p", lim)
			mustSet(t, init, "a", "0")
			mustSet(t, init, "l/1", "0")
			mustCommit(t, init)

			tx := s.Begin("p", lim)
			c.read(t, tx)
			mustSet(t, tx, "out", "mine")
			other := s.Begin("p", lim)
			c.other(t, other)
			mustCommit(t, other)
			err := tx.Commit()
			if c.want == "" {
				if err != nil {
					t.Fatalf("commit: %v", err)
				}
				if got := stored(t, s, "p")["out"]; got != "mine" {
					t.Fatalf("out = %q", got)
				}
				return
			}
			var ce *ConflictError
			if !errors.As(err, &ce) || err.Error() != c.want {
				t.Fatalf("commit: %v\nwant %s", err, c.want)
			}
			if _, ok := stored(t, s, "p")["out"]; ok {
				t.Fatal("a conflicting commit wrote")
			}
		})
	}
}

func TestLimits(t *testing.T) {
	lim := Limits{MaxKeySize: 8, MaxValueSize: 16, MaxBytes: 40, MaxKeys: 3}
	s := newStore(t)
	ctx := context.Background()
	limitErr := func(t *testing.T, err error, limit, msg string) {
		t.Helper()
		var le *LimitError
		if !errors.As(err, &le) || le.Limit != limit || err.Error() != msg {
			t.Fatalf("got %v\nwant %s: %s", err, limit, msg)
		}
	}
	t.Run("key and value", func(t *testing.T) {
		tx := s.Begin("sizes", lim)
		defer tx.Rollback()
		limitErr(t, tx.Set("123456789", nil), "max_state_key_size", "state: a key of 9 bytes is over the limit of 8 (max_state_key_size)")
		limitErr(t, tx.Set("k", make([]byte, 17)), "max_state_value_size", `state: the value for key "k" is 17 bytes, over the limit of 16 (max_state_value_size)`)
		mustSet(t, tx, "12345678", "0123456789abcdef")
	})
	t.Run("keys", func(t *testing.T) {
		tx := s.Begin("keys", lim)
		for _, k := range []string{"a", "b", "c"} {
			mustSet(t, tx, k, "")
		}
		limitErr(t, tx.Set("d", nil), "max_state_keys", `state: setting key "d" would make 4 keys, over the limit of 3 (max_state_keys)`)
		mustSet(t, tx, "a", "replaced") // not a new key
		mustCommit(t, tx)
		tx = s.Begin("keys", lim)
		limitErr(t, tx.Set("d", nil), "max_state_keys", `state: setting key "d" would make 4 keys, over the limit of 3 (max_state_keys)`)
		if err := tx.Delete("b"); err != nil {
			t.Fatal(err)
		}
		mustSet(t, tx, "d", "") // room made by the delete
		mustCommit(t, tx)
		if got := stored(t, s, "keys"); !maps(got, map[string]string{"a": "replaced", "c": "", "d": ""}) {
			t.Fatal(got)
		}
	})
	t.Run("bytes", func(t *testing.T) {
		tx := s.Begin("bytes", lim)
		mustSet(t, tx, "a", "0123456789abcdef") // 17
		mustSet(t, tx, "b", "0123456789abcdef") // 34
		limitErr(t, tx.Set("c", []byte("0123456")), "max_state_bytes", `state: setting key "c" would make 42 bytes of keys and values, over the limit of 40 (max_state_bytes)`)
		mustSet(t, tx, "c", "01234") // 40
		mustCommit(t, tx)
		tx = s.Begin("bytes", lim)
		limitErr(t, tx.Set("c", []byte("012345")), "max_state_bytes", `state: setting key "c" would make 41 bytes of keys and values, over the limit of 40 (max_state_bytes)`)
		mustSet(t, tx, "a", "short") // shrinks: 29
		mustSet(t, tx, "c", "0123456789abcdef")
		mustCommit(t, tx)
		if u, err := s.Usage(ctx, "bytes"); err != nil || u.Bytes != 40 || u.Keys != 3 {
			t.Fatalf("usage %+v %v", u, err)
		}
	})
	t.Run("concurrent commits", func(t *testing.T) {
		// Each fits on its own; together they do not: the second commit
		// fails and writes nothing.
		lim := lim
		lim.MaxKeys = 10
		a, b := s.Begin("race", lim), s.Begin("race", lim)
		mustSet(t, a, "a", "0123456789abcdef")
		mustSet(t, a, "a2", "0123")
		mustSet(t, b, "b", "0123456789abcdef")
		mustSet(t, b, "b2", "0123")
		mustCommit(t, a)
		limitErr(t, b.Commit(), "max_state_bytes", "state: with the writes of other calls committed meanwhile, this call's writes would make 46 bytes, over the limit of 40 (max_state_bytes)")
		if got := stored(t, s, "race"); len(got) != 2 {
			t.Fatal(got)
		}
	})
	t.Run("lowered limits", func(t *testing.T) {
		// Over limits lowered since: shrinking writes still commit.
		big := DefaultLimits()
		tx := s.Begin("lowered", big)
		for i := range 5 {
			mustSet(t, tx, fmt.Sprint(i), "0123456789")
		}
		mustCommit(t, tx)
		tx = s.Begin("lowered", lim)
		if err := tx.Delete("0"); err != nil {
			t.Fatal(err)
		}
		mustSet(t, tx, "1", "")
		limitErr(t, tx.Set("new", nil), "max_state_keys", `state: setting key "new" would make 5 keys, over the limit of 3 (max_state_keys)`)
		mustCommit(t, tx)
	})
}

// fileErr checks that err is an *Error naming the file, whose message
// contains want.
func fileErr(t *testing.T, err error, file, want string) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.File != file || !strings.Contains(err.Error(), want) ||
		!strings.HasPrefix(err.Error(), "state database "+file+": ") {
		t.Fatalf("got %v\nwant an error on %s containing %q", err, file, want)
	}
	return e
}

func TestBadFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Run("not a database", func(t *testing.T) {
		p := write("garbage.db", bytes.Repeat([]byte("garbage!"), 1000))
		_, err := Open(p, Options{})
		if e := fileErr(t, err, p, "the file is not a database"); !e.Corrupt() {
			t.Fatal("not Corrupt()")
		}
	})
	t.Run("fifo", func(t *testing.T) {
		p := filepath.Join(dir, "fifo.db")
		if err := syscall.Mkfifo(p, 0o600); err != nil {
			t.Skip(err)
		}
		_, err := Open(p, Options{})
		fileErr(t, err, p, "is a named pipe (FIFO), not a regular file")
	})
	t.Run("directory", func(t *testing.T) {
		p := filepath.Join(dir, "dir.db")
		os.Mkdir(p, 0o700)
		_, err := Open(p, Options{})
		fileErr(t, err, p, "is a directory, not a regular file")
	})
	t.Run("another application", func(t *testing.T) {
		p := filepath.Join(dir, "other.db")
		s := open(t, p)
		if _, err := s.db.Exec(`PRAGMA application_id = 42`); err != nil {
			t.Fatal(err)
		}
		s.Close()
		_, err := Open(p, Options{})
		fileErr(t, err, p, "not a Driftless state database (application_id 0x2a)")
	})
	t.Run("newer schema", func(t *testing.T) {
		p := filepath.Join(dir, "newer.db")
		s := open(t, p)
		if _, err := s.db.Exec(`PRAGMA user_version = 99`); err != nil {
			t.Fatal(err)
		}
		s.Close()
		_, err := Open(p, Options{})
		fileErr(t, err, p, "written by a newer Driftless (schema version 99; this one knows 1)")
	})
	t.Run("trigger", func(t *testing.T) {
		// A trigger planted in the file would run on the host's writes.
		p := filepath.Join(dir, "trigger.db")
		s := open(t, p)
		if _, err := s.db.Exec(`CREATE TRIGGER evil AFTER INSERT ON entries BEGIN DELETE FROM usage; END`); err != nil {
			t.Fatal(err)
		}
		s.Close()
		_, err := Open(p, Options{})
		fileErr(t, err, p, "its schema is not Driftless state's: it has table entries: CREATE TABLE entries")
	})
	t.Run("corrupt pages", func(t *testing.T) {
		p := filepath.Join(dir, "corrupt.db")
		s := open(t, p)
		tx := s.Begin("p", DefaultLimits())
		for i := range 2000 {
			mustSet(t, tx, fmt.Sprintf("key-%04d", i), strings.Repeat("v", 100))
		}
		mustCommit(t, tx)
		if _, err := s.db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			t.Fatal(err)
		}
		s.Close()
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		// Overwrite the pages after the first two (the header and schema
		// stay readable) with noise.
		for i := 8192; i < len(data); i++ {
			data[i] = byte(i*7 + 13)
		}
		write("corrupt.db", data)
		s, err = Open(p, Options{})
		if err != nil {
			fileErr(t, err, p, "corrupt")
			return
		}
		defer s.Close()
		tx = s.Begin("p", DefaultLimits())
		_, _, err = tx.Get("key-1500")
		if err == nil {
			_, err = tx.Keys("", nil, 1000)
		}
		tx.Rollback()
		if e := fileErr(t, err, p, "the file is corrupt"); !e.Corrupt() {
			t.Fatal("not Corrupt()")
		}
		if err := s.Check(context.Background()); err == nil || !strings.Contains(err.Error(), "corrupt") && !strings.Contains(err.Error(), "integrity check failed") {
			t.Fatalf("check: %v", err)
		}
	})
}

// A database another process keeps locked makes a commit wait for the
// busy timeout, then fail naming the file.
func TestLocked(t *testing.T) {
	p := filepath.Join(t.TempDir(), "state.db")
	holder := open(t, p)
	s, err := Open(p, Options{BusyTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	lock, err := holder.db.Begin() // BEGIN IMMEDIATE: the write lock
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lock.Exec(`DELETE FROM usage WHERE ns = 'none'`); err != nil {
		t.Fatal(err)
	}
	tx := s.Begin("p", DefaultLimits())
	// Readers do not wait for writers.
	if _, ok := mustGet(t, tx, "a"); ok {
		t.Fatal("a")
	}
	mustSet(t, tx, "a", "1")
	start := time.Now()
	err = tx.Commit()
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("the commit waited only %s", d)
	}
	if e := fileErr(t, err, p, "locked by another process for longer than 200ms"); !e.Locked() {
		t.Fatal("not Locked()")
	}
	lock.Rollback()
	tx = s.Begin("p", DefaultLimits())
	mustSet(t, tx, "a", "1")
	mustCommit(t, tx)
}

func TestExportImport(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	lim := DefaultLimits()
	tx := s.Begin("p", lim)
	mustSet(t, tx, "a", "1")
	mustSet(t, tx, "bin", "\x00\xff")
	mustCommit(t, tx)
	items, err := s.Export(ctx, "p", lim)
	if err != nil || len(items) != 2 || items[1].Key != "bin" || string(items[1].Value) != "\x00\xff" {
		t.Fatalf("export %+v %v", items, err)
	}
	// Merge, then replace.
	if err := s.Import(ctx, "q", items, false, lim); err != nil {
		t.Fatal(err)
	}
	if err := s.Import(ctx, "q", []Item{{"c", []byte("3")}}, false, lim); err != nil {
		t.Fatal(err)
	}
	if got := stored(t, s, "q"); len(got) != 3 {
		t.Fatal(got)
	}
	if err := s.Import(ctx, "q", []Item{{"d", []byte("4")}}, true, lim); err != nil {
		t.Fatal(err)
	}
	if got := stored(t, s, "q"); !maps(got, map[string]string{"d": "4"}) {
		t.Fatal(got)
	}
	// Over a limit: nothing is written.
	small := Limits{MaxKeySize: 8, MaxValueSize: 8, MaxBytes: 1 << 20, MaxKeys: 2}
	var le *LimitError
	if err := s.Import(ctx, "q", []Item{{"x", nil}, {"y", nil}}, false, small); !errors.As(err, &le) || le.Limit != "max_state_keys" {
		t.Fatalf("import over max_state_keys: %v", err)
	}
	if err := s.Import(ctx, "q", []Item{{"x", make([]byte, 9)}}, false, small); !errors.As(err, &le) || le.Limit != "max_state_value_size" {
		t.Fatalf("import over max_state_value_size: %v", err)
	}
	if got := stored(t, s, "q"); !maps(got, map[string]string{"d": "4"}) {
		t.Fatal(got)
	}
	// Export refuses a namespace beyond the limits it is given.
	if _, err := s.Export(ctx, "p", Limits{MaxKeySize: 8, MaxValueSize: 1, MaxBytes: 100, MaxKeys: 10}); err == nil ||
		!strings.Contains(err.Error(), `the value of key "a" is 1 bytes`) && !strings.Contains(err.Error(), `the value of key "bin" is 2 bytes`) {
		t.Fatalf("export over the limits: %v", err)
	}
	list, err := s.List(ctx, "p", "b", lim)
	if err != nil || len(list) != 1 || list[0] != (Entry{Key: "bin", Size: 2}) {
		t.Fatalf("list %+v %v", list, err)
	}
	if missing, err := s.Delete(ctx, "p", "a", "nope"); err != nil || !slices.Equal(missing, []string{"nope"}) {
		t.Fatal(missing, err)
	}
	if got := stored(t, s, "p"); len(got) != 2 {
		t.Fatalf("a delete with a missing key removed keys: %v", got)
	}
	if missing, err := s.Delete(ctx, "p", "a"); err != nil || missing != nil {
		t.Fatal(missing, err)
	}
	if missing, err := s.Delete(ctx, "p", "a"); err != nil || len(missing) != 1 {
		t.Fatal(missing, err)
	}
	if n, err := s.Clear(ctx, "p"); err != nil || n != 1 {
		t.Fatal(n, err)
	}
	if u, err := s.Usage(ctx, "p"); err != nil || u.Keys != 0 || u.Bytes != 0 {
		t.Fatal(u, err)
	}
}

// Many transactions at once, on two stores of one file (as two processes
// would): every committed increment is counted once, conflicts are
// reported, and readers always see a consistent pair.
func TestConcurrentCommits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	stores := []*Store{open(t, path), open(t, path)}
	lim := DefaultLimits()
	const workers, rounds = 12, 30
	var mu sync.Mutex
	committed, conflicts := 0, 0
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := stores[w%2]
			for range rounds {
				tx := s.Begin("p", lim)
				a, _, err := tx.Get("a")
				if err != nil {
					t.Error(err)
					return
				}
				n, _ := strconv.Atoi(string(a))
				// a and b always move together.
				if b, _, _ := tx.Get("b"); string(b) != string(a) {
					t.Errorf("a = %q but b = %q in one snapshot", a, b)
				}
				next := []byte(strconv.Itoa(n + 1))
				tx.Set("a", next)
				tx.Set("b", next)
				tx.Set(fmt.Sprintf("w%d", w), next) // a blind write of its own
				err = tx.Commit()
				var ce *ConflictError
				mu.Lock()
				switch {
				case err == nil:
					committed++
				case errors.As(err, &ce):
					conflicts++
				default:
					t.Error(err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	got := stored(t, stores[0], "p")
	if got["a"] != strconv.Itoa(committed) || got["b"] != got["a"] {
		t.Fatalf("a = %q, b = %q after %d commits (%d conflicts)", got["a"], got["b"], committed, conflicts)
	}
	t.Logf("%d commits, %d conflicts", committed, conflicts)
}

// A transaction that reads more than it can remember key by key falls back
// to the namespace's version: bounded memory, and still no lost update.
func TestWideReads(t *testing.T) {
	s := newStore(t)
	lim := DefaultLimits()
	for _, c := range []struct {
		name     string
		other    bool // another commit to the namespace meanwhile
		conflict bool
	}{{"alone", false, false}, {"with another commit", true, true}} {
		t.Run(c.name, func(t *testing.T) {
			tx := s.Begin("p", lim)
			for i := range maxReads + 10 {
				if _, _, err := tx.Get(fmt.Sprintf("absent-%d", i)); err != nil {
					t.Fatal(err)
				}
			}
			if !tx.wide || tx.reads != nil {
				t.Fatalf("after %d reads: wide %v, %d reads remembered", maxReads+10, tx.wide, len(tx.reads))
			}
			mustSet(t, tx, "out", c.name)
			if c.other {
				o := s.Begin("p", lim)
				mustSet(t, o, "unrelated", "x")
				mustCommit(t, o)
			}
			err := tx.Commit()
			var ce *ConflictError
			if c.conflict != errors.As(err, &ce) || (!c.conflict && err != nil) {
				t.Fatalf("commit: %v", err)
			}
		})
	}
	// The version goes on when the namespace empties and fills again.
	tx := s.Begin("v", lim)
	mustSet(t, tx, "a", "1")
	mustCommit(t, tx)
	wide := s.Begin("v", lim)
	mustGet(t, wide, "a")
	if err := wide.widen("get"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Clear(context.Background(), "v"); err != nil {
		t.Fatal(err)
	}
	tx = s.Begin("v", lim)
	mustSet(t, tx, "a", "1")
	mustCommit(t, tx)
	mustSet(t, wide, "b", "x")
	var ce *ConflictError
	if err := wide.Commit(); !errors.As(err, &ce) {
		t.Fatalf("commit after the namespace was emptied and filled again: %v", err)
	}
}

// A transaction's buffered writes, deletes included, are bounded.
func TestWriteBound(t *testing.T) {
	s := newStore(t)
	lim := Limits{MaxKeySize: 100, MaxValueSize: 100, MaxBytes: 1000, MaxKeys: 5}
	tx := s.Begin("p", lim)
	defer tx.Rollback()
	for i := range 10 {
		if err := tx.Delete(fmt.Sprintf("k%d", i)); err != nil {
			t.Fatalf("delete %d: %v", i, err)
		}
	}
	var le *LimitError
	if err := tx.Delete("k10"); !errors.As(err, &le) || le.Limit != "max_state_keys" ||
		err.Error() != "state: one call may set or delete at most 10 keys (twice the limit of keys) (max_state_keys)" {
		t.Fatalf("the 11th delete: %v", err)
	}
	if err := tx.Delete("k3"); err != nil {
		t.Fatalf("deleting a key deleted before: %v", err)
	}
	lim.MaxKeys = 1000
	tx = s.Begin("p", lim)
	defer tx.Rollback()
	long := strings.Repeat("k", 100)
	for i := range 20 {
		if err := tx.Delete(fmt.Sprintf("%s%03d", long[:97], i)); err != nil {
			t.Fatalf("delete %d: %v", i, err)
		}
	}
	if err := tx.Delete(long[:97] + "xxx"); !errors.As(err, &le) || le.Limit != "max_state_bytes" {
		t.Fatalf("deletes over twice max_state_bytes: %v", err)
	}
}
