// Package compare measures the two embedded databases considered for
// plugin state, SQLite (modernc.org/sqlite, the one chosen) and bbolt, on
// what the store does: a point read, and a durable commit of 1 and of 100
// writes. It is a module of its own so that the driftless module does not
// depend on bbolt; figures are in docs/PERFORMANCE.md, "plugin state".
//
//	cd pluginstate/compare && go test -bench . -benchmem
package compare

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
	_ "modernc.org/sqlite"
)

const keys = 10000

var value = make([]byte, 64)

// openSQLite opens a database set up as pluginstate's (WAL, synchronous
// FULL: a commit survives a power loss) holding keys entries.
func openSQLite(b *testing.B, sync string) (*sql.DB, *sql.Stmt, *sql.Stmt) {
	p := filepath.Join(b.TempDir(), "s.db")
	db, err := sql.Open("sqlite", "file:"+p+"?_pragma=journal_mode(WAL)&_pragma=synchronous("+sync+")&_pragma=busy_timeout(5000)&_txlock=immediate")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE kv (ns TEXT NOT NULL, k BLOB NOT NULL, v BLOB NOT NULL, PRIMARY KEY (ns, k)) WITHOUT ROWID`); err != nil {
		b.Fatal(err)
	}
	put, err := db.Prepare(`INSERT INTO kv VALUES (?1, ?2, ?3) ON CONFLICT (ns, k) DO UPDATE SET v = excluded.v`)
	if err != nil {
		b.Fatal(err)
	}
	get, err := db.Prepare(`SELECT v FROM kv WHERE ns = ?1 AND k = ?2`)
	if err != nil {
		b.Fatal(err)
	}
	tx, _ := db.Begin()
	for i := range keys {
		if _, err := tx.Stmt(put).Exec("p", []byte(fmt.Sprintf("key-%05d", i)), value); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return db, put, get
}

func openBolt(b *testing.B) *bolt.DB {
	db, err := bolt.Open(filepath.Join(b.TempDir(), "b.db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	err = db.Update(func(tx *bolt.Tx) error {
		bk, err := tx.CreateBucketIfNotExists([]byte("p"))
		if err != nil {
			return err
		}
		for i := range keys {
			if err := bk.Put([]byte(fmt.Sprintf("key-%05d", i)), value); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return db
}

func BenchmarkGet(b *testing.B) {
	k := []byte("key-04242")
	b.Run("sqlite", func(b *testing.B) {
		_, _, get := openSQLite(b, "FULL")
		for b.Loop() {
			var v []byte
			if err := get.QueryRow("p", k).Scan(&v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("bbolt", func(b *testing.B) {
		db := openBolt(b)
		for b.Loop() {
			db.View(func(tx *bolt.Tx) error {
				_ = append([]byte(nil), tx.Bucket([]byte("p")).Get(k)...)
				return nil
			})
		}
	})
}

func BenchmarkCommit(b *testing.B) {
	for _, n := range []int{1, 100} {
		b.Run(fmt.Sprintf("sqlite-full-%d", n), func(b *testing.B) { sqliteCommit(b, "FULL", n) })
		b.Run(fmt.Sprintf("sqlite-normal-%d", n), func(b *testing.B) { sqliteCommit(b, "NORMAL", n) })
		b.Run(fmt.Sprintf("bbolt-%d", n), func(b *testing.B) {
			db := openBolt(b)
			i := 0
			for b.Loop() {
				err := db.Update(func(tx *bolt.Tx) error {
					bk := tx.Bucket([]byte("p"))
					for range n {
						i++
						if err := bk.Put([]byte(fmt.Sprintf("w-%d", i%5000)), value); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func sqliteCommit(b *testing.B, sync string, n int) {
	db, put, _ := openSQLite(b, sync)
	i := 0
	for b.Loop() {
		tx, err := db.Begin()
		if err != nil {
			b.Fatal(err)
		}
		st := tx.Stmt(put)
		for range n {
			i++
			if _, err := st.Exec("p", []byte(fmt.Sprintf("w-%d", i%5000)), value); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}
