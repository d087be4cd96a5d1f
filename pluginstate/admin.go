package pluginstate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"unicode/utf8"
)

// These are the operations of `driftless state`: they act on a namespace
// as a whole, outside any plugin call, each in one transaction of its own
// (commits of plugin calls that read what they change then fail with a
// conflict, as they would for another call's commit).

// Usage is what a namespace holds.
type Usage struct {
	Namespace string
	Keys      int64
	Bytes     int64 // of keys and values
}

// Entry is a key and the size of its value.
type Entry struct {
	Key  string
	Size int64
}

// Item is a key and its value.
type Item struct {
	Key   string
	Value []byte
}

// Namespaces returns the usage of every namespace that holds keys, by name.
func (s *Store) Namespaces(ctx context.Context) ([]Usage, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT ns, keys, bytes FROM usage WHERE keys > 0 ORDER BY ns`)
	if err != nil {
		return nil, s.fail("list", err)
	}
	defer rows.Close()
	var out []Usage
	for rows.Next() {
		var u Usage
		if err := rows.Scan(&u.Namespace, &u.Keys, &u.Bytes); err != nil {
			return nil, s.fail("list", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("list", err)
	}
	return out, nil
}

// Usage returns what namespace ns holds.
func (s *Store) Usage(ctx context.Context, ns string) (Usage, error) {
	u := Usage{Namespace: ns}
	err := s.stmts.usage.QueryRowContext(ctx, ns).Scan(&u.Keys, &u.Bytes)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return u, s.fail("usage", err)
	}
	return u, nil
}

// List returns the keys of ns that start with prefix, in byte order, with
// the sizes of their values. It reads at most lim.MaxKeys keys; a
// namespace holding more (written under other limits) is an error.
func (s *Store) List(ctx context.Context, ns, prefix string, lim Limits) ([]Entry, error) {
	to := successor([]byte(prefix))
	rows, err := s.db.QueryContext(ctx,
		`SELECT key, length(key), length(value) FROM entries WHERE ns = ?1 AND key >= ?2 AND (?3 IS NULL OR key < ?3) ORDER BY key LIMIT ?4`,
		ns, []byte(prefix), nullable(to), lim.MaxKeys+1)
	if err != nil {
		return nil, s.fail("list", err)
	}
	defer rows.Close()
	out := []Entry{}
	for rows.Next() {
		var k []byte
		var klen int64
		var e Entry
		if err := rows.Scan(&k, &klen, &e.Size); err != nil {
			return nil, s.fail("list", err)
		}
		if klen > int64(lim.MaxKeySize) || !utf8.Valid(k) {
			return nil, s.fail("list", fmt.Errorf("a key of %d bytes is over the limit of %d (max_state_key_size) or not UTF-8", klen, lim.MaxKeySize))
		}
		e.Key = string(k)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("list", err)
	}
	if int64(len(out)) > lim.MaxKeys {
		return nil, s.fail("list", fmt.Errorf("the plugin has more than %d keys (max_state_keys)", lim.MaxKeys))
	}
	return out, nil
}

// Get returns the value of key in ns, and whether it is set.
func (s *Store) Get(ctx context.Context, ns, key string, lim Limits) ([]byte, bool, error) {
	tx := s.Begin(ns, lim)
	defer tx.Rollback()
	return tx.Get(key)
}

// Delete removes keys from ns, all of them or, when one is not set, none:
// it then returns the keys that are not set and removes nothing.
func (s *Store) Delete(ctx context.Context, ns string, keys ...string) (missing []string, err error) {
	err = s.write(ctx, "remove", ns, func(w *sql.Tx) error {
		get := w.Stmt(s.stmts.oldSize)
		for _, k := range keys {
			var n int64
			if err := get.QueryRowContext(ctx, ns, []byte(k)).Scan(&n); errors.Is(err, sql.ErrNoRows) {
				missing = append(missing, k)
			} else if err != nil {
				return err
			}
		}
		if len(missing) > 0 {
			return errMissing
		}
		del := w.Stmt(s.stmts.del)
		for _, k := range keys {
			if _, err := del.ExecContext(ctx, ns, []byte(k)); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, errMissing) {
		return missing, nil
	}
	return nil, err
}

var errMissing = errors.New("keys not set")

// Clear removes every key of ns and returns how many there were.
func (s *Store) Clear(ctx context.Context, ns string) (n int64, err error) {
	err = s.write(ctx, "remove", ns, func(w *sql.Tx) error {
		res, err := w.ExecContext(ctx, `DELETE FROM entries WHERE ns = ?1`, ns)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// write runs f in a write transaction of its own, and commits unless it
// fails.
func (s *Store) write(ctx context.Context, op, ns string, f func(w *sql.Tx) error) error {
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	w, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.fail(op, err)
	}
	defer w.Rollback()
	if err := f(w); err != nil {
		if errors.Is(err, errMissing) {
			return err
		}
		return s.fail(op, err)
	}
	if err := w.Commit(); err != nil {
		return s.fail(op, err)
	}
	return nil
}

// Export returns every key of ns with its value, in byte order, read in
// one snapshot. A namespace beyond lim (written under other limits) is an
// error rather than an unbounded read.
func (s *Store) Export(ctx context.Context, ns string, lim Limits) ([]Item, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, s.fail("export", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx,
		`SELECT key, length(key), length(value), CASE WHEN length(key) <= ?2 AND length(value) <= ?3 THEN value END
		 FROM entries WHERE ns = ?1 ORDER BY key LIMIT ?4`,
		ns, lim.MaxKeySize, lim.MaxValueSize, lim.MaxKeys+1)
	if err != nil {
		return nil, s.fail("export", err)
	}
	defer rows.Close()
	out := []Item{}
	var total int64
	for rows.Next() {
		var k, v []byte
		var klen, vlen int64
		if err := rows.Scan(&k, &klen, &vlen, &v); err != nil {
			return nil, s.fail("export", err)
		}
		switch {
		case klen > int64(lim.MaxKeySize) || !utf8.Valid(k):
			return nil, s.fail("export", fmt.Errorf("a key of %d bytes is over the limit of %d (max_state_key_size) or not UTF-8", klen, lim.MaxKeySize))
		case vlen > int64(lim.MaxValueSize):
			return nil, s.fail("export", fmt.Errorf("the value of key %q is %d bytes, over the limit of %d (max_state_value_size)", k, vlen, lim.MaxValueSize))
		}
		total += klen + vlen
		if total > lim.MaxBytes {
			return nil, s.fail("export", fmt.Errorf("the plugin's keys and values are over %d bytes (max_state_bytes)", lim.MaxBytes))
		}
		if v == nil {
			v = []byte{}
		}
		out = append(out, Item{Key: string(k), Value: v})
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("export", err)
	}
	if int64(len(out)) > lim.MaxKeys {
		return nil, s.fail("export", fmt.Errorf("the plugin has more than %d keys (max_state_keys)", lim.MaxKeys))
	}
	return out, nil
}

// Import writes items into ns in one transaction: after removing every key
// of ns first when replace is true, else over the keys it has. Items must
// fit lim (each key and value, and the namespace as a whole); otherwise
// nothing is written and the error is a *LimitError.
func (s *Store) Import(ctx context.Context, ns string, items []Item, replace bool, lim Limits) error {
	check := Tx{lim: lim}
	for _, it := range items {
		if err := check.checkKey(it.Key); err != nil {
			return err
		}
		if len(it.Value) > lim.MaxValueSize {
			return &LimitError{Limit: "max_state_value_size", Max: int64(lim.MaxValueSize), Got: int64(len(it.Value)),
				Msg: fmt.Sprintf("the value for key %q is %d bytes, over the limit of %d", it.Key, len(it.Value), lim.MaxValueSize)}
		}
	}
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	w, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.fail("import", err)
	}
	defer w.Rollback()
	if replace {
		if _, err := w.ExecContext(ctx, `DELETE FROM entries WHERE ns = ?1`, ns); err != nil {
			return s.fail("import", err)
		}
	}
	put := w.Stmt(s.stmts.put)
	for _, it := range items {
		v := it.Value
		if v == nil {
			v = []byte{}
		}
		if _, err := put.ExecContext(ctx, ns, []byte(it.Key), v); err != nil {
			return s.fail("import", err)
		}
	}
	var u usage
	if err := w.Stmt(s.stmts.usage).QueryRowContext(ctx, ns).Scan(&u.keys, &u.bytes); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return s.fail("import", err)
	}
	switch {
	case u.keys > lim.MaxKeys:
		return &LimitError{Limit: "max_state_keys", Max: lim.MaxKeys, Got: u.keys,
			Msg: fmt.Sprintf("the import would make %d keys, over the limit of %d", u.keys, lim.MaxKeys)}
	case u.bytes > lim.MaxBytes:
		return &LimitError{Limit: "max_state_bytes", Max: lim.MaxBytes, Got: u.bytes,
			Msg: fmt.Sprintf("the import would make %d bytes of keys and values, over the limit of %d", u.bytes, lim.MaxBytes)}
	}
	if err := w.Commit(); err != nil {
		return s.fail("import", err)
	}
	return nil
}
