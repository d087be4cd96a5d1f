package pluginstate

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/maphash"
	"sort"
	"strings"
	"unicode/utf8"
)

// Limits bound one namespace. A Set that would break one fails with a
// *LimitError and changes nothing.
type Limits struct {
	MaxKeySize   int   // bytes of one key
	MaxValueSize int   // bytes of one value
	MaxBytes     int64 // bytes of all the namespace's keys and values
	MaxKeys      int64 // keys of the namespace
}

// Defaults of Limits.
const (
	DefaultMaxKeySize   = 1 << 10  // 1 KiB
	DefaultMaxValueSize = 1 << 20  // 1 MiB
	DefaultMaxBytes     = 64 << 20 // 64 MiB
	DefaultMaxKeys      = 100_000
)

// DefaultLimits returns the default limits.
func DefaultLimits() Limits {
	return Limits{MaxKeySize: DefaultMaxKeySize, MaxValueSize: DefaultMaxValueSize,
		MaxBytes: DefaultMaxBytes, MaxKeys: DefaultMaxKeys}
}

// MaxPage is the most keys one Keys call returns, whatever its limit:
// page through with its startAfter until a page comes back empty.
const MaxPage = 1000

// A transaction remembers what it read, to tell at commit whether another
// commit changed it, key by key up to maxReads keys (or maxReadBytes of
// keys) and maxScans Keys queries; beyond, it remembers only the version of
// the whole namespace, and any commit to the namespace since its snapshot
// is a conflict. So a call reading without end holds bounded memory.
const (
	maxReads     = 10_000
	maxReadBytes = 1 << 20
	maxScans     = 1_000
)

// Tx is a transaction on one namespace. Its first read takes a snapshot of
// the database; reads see that snapshot and the transaction's own writes,
// which are buffered until Commit. A Tx touches the database only when
// used: one that is never used costs nothing.
//
// After a store failure (an *Error) the transaction can only be rolled
// back: Commit returns that failure.
type Tx struct {
	s   *Store
	ns  string
	lim Limits

	snap                 *sql.Tx
	getSt, oldSt, keysSt *sql.Stmt // bound to snap

	writes     map[string]write
	writeBytes int64           // of the keys and values of writes
	reads      map[string]mark // what each key read had in the snapshot
	readBytes  int             // of the keys of reads
	scans      []scan          // the Keys queries of the snapshot
	// wide: the transaction read too much to remember it key by key;
	// version is the namespace's in the snapshot (-1: none yet).
	wide    bool
	version int64

	base   *usage           // the namespace's usage in the snapshot
	upper  usage            // what the buffered writes add at most
	exact  bool             // delta and old are kept (near a limit)
	delta  usage            // what the buffered writes change, exactly
	oldLen map[string]int64 // size of a written key's entry in the snapshot, -1 for none

	err  error
	done bool
}

type write struct {
	value []byte
	del   bool
}

type usage struct{ keys, bytes int64 }

// mark is what a read saw: whether the key was there and a hash of its
// value, to tell at commit whether it changed.
type mark struct {
	present bool
	sum     uint64
}

// scan is one query of keys made against the snapshot, with a hash of the
// keys it returned.
type scan struct {
	from, to, after []byte // to and after nil: no bound
	limit           int
	sum             uint64
}

var seed = maphash.MakeSeed()

func sum(b []byte) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	h.Write(b)
	return h.Sum64() ^ uint64(len(b))
}

// Begin starts a transaction on namespace ns under lim.
func (s *Store) Begin(ns string, lim Limits) *Tx {
	return &Tx{s: s, ns: ns, lim: lim}
}

// Namespace returns the transaction's namespace.
func (tx *Tx) Namespace() string { return tx.ns }

// Writes returns the number of keys the transaction has set or deleted.
func (tx *Tx) Writes() int { return len(tx.writes) }

var errDone = errors.New("the transaction is over")

func (tx *Tx) usable(op string) error {
	if tx.done {
		return tx.s.fail(op, errDone)
	}
	return tx.err
}

// poison records a store failure: the transaction cannot commit.
func (tx *Tx) poison(op string, err error) error {
	err = tx.s.fail(op, err)
	if tx.err == nil {
		tx.err = err
	}
	return err
}

// snapshot begins the read transaction on first use.
func (tx *Tx) snapshot(op string) error {
	if tx.snap != nil {
		return nil
	}
	// Not the caller's context: database/sql would roll the transaction
	// back when it ends, under a call that is still running.
	snap, err := tx.s.db.BeginTx(context.Background(), &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return tx.poison(op, err)
	}
	tx.snap = snap
	tx.getSt = snap.Stmt(tx.s.stmts.get)
	return nil
}

// Get returns the value of key and whether it is set.
func (tx *Tx) Get(key string) ([]byte, bool, error) {
	if err := tx.usable("get"); err != nil {
		return nil, false, err
	}
	if w, ok := tx.writes[key]; ok {
		return w.value, !w.del, nil
	}
	v, ok, err := tx.read("get", key)
	if err != nil {
		return nil, false, err
	}
	if _, seen := tx.reads[key]; !seen && !tx.wide {
		if len(tx.reads) >= maxReads || tx.readBytes+len(key) > maxReadBytes {
			if err := tx.widen("get"); err != nil {
				return nil, false, err
			}
			return v, ok, nil
		}
		if tx.reads == nil {
			tx.reads = map[string]mark{}
		}
		m := mark{present: ok}
		if ok {
			m.sum = sum(v)
		}
		tx.reads[key] = m
		tx.readBytes += len(key)
	}
	return v, ok, nil
}

// widen makes the transaction remember the namespace's version instead of
// what it read key by key.
func (tx *Tx) widen(op string) error {
	tx.version = -1
	err := tx.snap.Stmt(tx.s.stmts.version).QueryRow(tx.ns).Scan(&tx.version)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return tx.poison(op, err)
	}
	tx.wide, tx.reads, tx.scans, tx.readBytes = true, nil, nil, 0
	return nil
}

// read reads key in the snapshot.
func (tx *Tx) read(op, key string) ([]byte, bool, error) {
	if err := tx.snapshot(op); err != nil {
		return nil, false, err
	}
	var n int64
	var v []byte
	err := tx.getSt.QueryRow(tx.ns, []byte(key), tx.lim.MaxValueSize).Scan(&n, &v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, tx.poison(op, err)
	}
	if v == nil && n > 0 {
		return nil, false, tx.poison(op, fmt.Errorf("the value of key %q is %d bytes, over the limit of %d (max_state_value_size): the database was not written by this host under these limits", key, n, tx.lim.MaxValueSize))
	}
	if v == nil {
		v = []byte{}
	}
	return v, true, nil
}

// Set stores value under key. It fails with a *LimitError, leaving the
// transaction as it was, when the key or value is too large or the
// namespace would hold too many bytes or keys.
func (tx *Tx) Set(key string, value []byte) error {
	if err := tx.usable("set"); err != nil {
		return err
	}
	if err := tx.checkKey(key); err != nil {
		return err
	}
	if len(value) > tx.lim.MaxValueSize {
		return &LimitError{Limit: "max_state_value_size", Max: int64(tx.lim.MaxValueSize), Got: int64(len(value)),
			Msg: fmt.Sprintf("the value for key %q is %d bytes, over the limit of %d", key, len(value), tx.lim.MaxValueSize)}
	}
	if err := tx.bound(key, int64(len(key)+len(value))); err != nil {
		return err
	}
	if err := tx.quota(key, int64(len(key)+len(value))); err != nil {
		return err
	}
	tx.put(key, write{value: value})
	return nil
}

// bound keeps the buffered writes, deletes included, within twice the
// namespace's limits (what replacing all of it takes), so that a call
// cannot make the host hold more: beyond, a Set or Delete fails with a
// *LimitError.
func (tx *Tx) bound(key string, size int64) error {
	if _, ok := tx.writes[key]; ok {
		return nil // replaces a write: counted once, as an upper bound
	}
	switch {
	case int64(len(tx.writes)) >= 2*max(tx.lim.MaxKeys, 1):
		return &LimitError{Limit: "max_state_keys", Max: tx.lim.MaxKeys, Got: int64(len(tx.writes)) + 1,
			Msg: fmt.Sprintf("one call may set or delete at most %d keys (twice the limit of keys)", 2*max(tx.lim.MaxKeys, 1))}
	case tx.writeBytes+size > 2*max(tx.lim.MaxBytes, 1<<10):
		return &LimitError{Limit: "max_state_bytes", Max: tx.lim.MaxBytes, Got: tx.writeBytes + size,
			Msg: fmt.Sprintf("one call may set or delete at most %d bytes of keys and values (twice the limit of bytes)", 2*max(tx.lim.MaxBytes, 1<<10))}
	}
	return nil
}

// Delete removes key; removing a key that is not set is not an error. It
// fails with a *LimitError when the call has set or deleted too many keys
// (see Set).
func (tx *Tx) Delete(key string) error {
	if err := tx.usable("delete"); err != nil {
		return err
	}
	if err := tx.bound(key, int64(len(key))); err != nil {
		return err
	}
	if tx.exact {
		if err := tx.account(key, -1); err != nil {
			return err
		}
	}
	tx.put(key, write{del: true})
	return nil
}

func (tx *Tx) put(key string, w write) {
	if tx.writes == nil {
		tx.writes = map[string]write{}
	}
	if _, ok := tx.writes[key]; !ok {
		tx.writeBytes += int64(len(key) + len(w.value))
	}
	if !w.del {
		if old, ok := tx.writes[key]; !ok || old.del {
			tx.upper.keys++
		}
		tx.upper.bytes += int64(len(key) + len(w.value))
	}
	tx.writes[key] = w
}

func (tx *Tx) checkKey(key string) error {
	if len(key) > tx.lim.MaxKeySize {
		return &LimitError{Limit: "max_state_key_size", Max: int64(tx.lim.MaxKeySize), Got: int64(len(key)),
			Msg: fmt.Sprintf("a key of %d bytes is over the limit of %d", len(key), tx.lim.MaxKeySize)}
	}
	if !utf8.ValidString(key) {
		return &LimitError{Limit: "key", Msg: "a key must be UTF-8 text"}
	}
	return nil
}

// quota checks that setting key to an entry of size bytes keeps the
// namespace within its limits. While the buffered writes, counted as new
// keys, stay within them, nothing is read; near a limit the exact sizes of
// the entries they replace are looked up.
func (tx *Tx) quota(key string, size int64) error {
	if tx.base == nil {
		if err := tx.snapshot("set"); err != nil {
			return err
		}
		var u usage
		err := tx.snap.Stmt(tx.s.stmts.usage).QueryRow(tx.ns).Scan(&u.keys, &u.bytes)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return tx.poison("set", err)
		}
		tx.base = &u
	}
	if !tx.exact {
		if tx.base.keys+tx.upper.keys+1 <= tx.lim.MaxKeys && tx.base.bytes+tx.upper.bytes+size <= tx.lim.MaxBytes {
			return nil
		}
		// Near a limit: from now on, every write is accounted exactly.
		tx.exact = true
		tx.oldLen = map[string]int64{}
		for k, w := range tx.writes {
			old, err := tx.oldSize(k)
			if err != nil {
				return err
			}
			tx.delta.add(w.size(k), old)
		}
	}
	before := tx.delta
	if err := tx.account(key, size); err != nil {
		return err
	}
	after := tx.delta
	keys, bytes := tx.base.keys+after.keys, tx.base.bytes+after.bytes
	switch {
	case after.keys > before.keys && keys > tx.lim.MaxKeys:
		tx.delta = before
		return &LimitError{Limit: "max_state_keys", Max: tx.lim.MaxKeys, Got: keys,
			Msg: fmt.Sprintf("setting key %q would make %d keys, over the limit of %d", key, keys, tx.lim.MaxKeys)}
	case after.bytes > before.bytes && bytes > tx.lim.MaxBytes:
		tx.delta = before
		return &LimitError{Limit: "max_state_bytes", Max: tx.lim.MaxBytes, Got: bytes,
			Msg: fmt.Sprintf("setting key %q would make %d bytes of keys and values, over the limit of %d", key, bytes, tx.lim.MaxBytes)}
	}
	return nil
}

// size is the bytes the write makes key's entry take; -1 for none.
func (w write) size(key string) int64 {
	if w.del {
		return -1
	}
	return int64(len(key) + len(w.value))
}

// add counts an entry going from size old to size now (-1: none).
func (u *usage) add(now, old int64) {
	u.keys += present(now) - present(old)
	u.bytes += max(now, 0) - max(old, 0)
}

// account makes size (-1: none) the size of key's entry that the exact
// delta counts.
func (tx *Tx) account(key string, size int64) error {
	cur, err := tx.oldSize(key)
	if err != nil {
		return err
	}
	if w, ok := tx.writes[key]; ok {
		cur = w.size(key)
	}
	tx.delta.add(size, cur)
	return nil
}

// oldSize returns the size of key's entry in the snapshot (-1: none),
// looked up once.
func (tx *Tx) oldSize(key string) (int64, error) {
	if old, ok := tx.oldLen[key]; ok {
		return old, nil
	}
	if err := tx.snapshot("set"); err != nil {
		return 0, err
	}
	if tx.oldSt == nil {
		tx.oldSt = tx.snap.Stmt(tx.s.stmts.oldSize)
	}
	old := int64(-1)
	if err := tx.oldSt.QueryRow(tx.ns, []byte(key)).Scan(&old); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, tx.poison("set", err)
	}
	tx.oldLen[key] = old
	return old, nil
}

func present(size int64) int64 {
	if size >= 0 {
		return 1
	}
	return 0
}

// Keys returns at most min(limit, MaxPage) keys that start with prefix, in
// byte order, after startAfter when it is not nil.
func (tx *Tx) Keys(prefix string, startAfter *string, limit int) ([]string, error) {
	if err := tx.usable("keys"); err != nil {
		return nil, err
	}
	limit = min(limit, MaxPage)
	if limit <= 0 {
		return []string{}, nil
	}
	from := []byte(prefix)
	to := successor(from)
	var after []byte
	if startAfter != nil {
		after = []byte(*startAfter)
	}
	inRange := func(k string) bool {
		return len(k) >= len(prefix) && k[:len(prefix)] == prefix && (after == nil || k > string(after))
	}
	// Deleted keys of the snapshot are skipped: ask for enough to fill the
	// page anyway.
	dels := 0
	for k, w := range tx.writes {
		if w.del && inRange(k) {
			dels++
		}
	}
	qlimit := limit + dels
	if err := tx.snapshot("keys"); err != nil {
		return nil, err
	}
	if tx.keysSt == nil {
		tx.keysSt = tx.snap.Stmt(tx.s.stmts.keysFrom)
	}
	stored, h, err := tx.queryKeys(tx.keysSt, from, to, after, qlimit)
	if err != nil {
		return nil, tx.poison("keys", err)
	}
	if !tx.wide {
		if len(tx.scans) >= maxScans {
			if err := tx.widen("keys"); err != nil {
				return nil, err
			}
		} else {
			tx.scans = append(tx.scans, scan{from: from, to: to, after: after, limit: qlimit, sum: h})
		}
	}
	seen := make(map[string]bool, len(stored))
	var out []string
	for _, k := range stored {
		seen[k] = true
		if w, ok := tx.writes[k]; ok && w.del {
			continue
		}
		out = append(out, k)
	}
	for k, w := range tx.writes {
		if !w.del && !seen[k] && inRange(k) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	if len(out) > limit {
		out = out[:limit]
	}
	if out == nil {
		out = []string{}
	}
	return out, nil
}

// queryKeys runs the keys query and returns the keys with a hash of them.
func (tx *Tx) queryKeys(st *sql.Stmt, from, to, after []byte, limit int) ([]string, uint64, error) {
	rows, err := st.Query(tx.ns, from, nullable(to), nullable(after), limit)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var keys []string
	var h maphash.Hash
	h.SetSeed(seed)
	for rows.Next() {
		var k []byte
		var n int64
		if err := rows.Scan(&k, &n); err != nil {
			return nil, 0, err
		}
		if n > int64(tx.lim.MaxKeySize) || !utf8.Valid(k) {
			return nil, 0, fmt.Errorf("a stored key of %d bytes is over the limit of %d (max_state_key_size) or not UTF-8: the database was not written by this host under these limits", n, tx.lim.MaxKeySize)
		}
		keys = append(keys, string(k))
		h.Write(k)
		h.WriteByte(0xff) // not in UTF-8: keys cannot run into each other
	}
	return keys, h.Sum64(), rows.Err()
}

// nullable makes a nil byte slice SQL NULL (database/sql would bind it as
// an empty blob).
func nullable(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

// successor returns the smallest byte string greater than every string
// that starts with p, or nil when there is none.
func successor(p []byte) []byte {
	s := bytes.Clone(p)
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] < 0xff {
			s[i]++
			return s[:i+1]
		}
	}
	return nil
}

// Rollback ends the transaction and discards its writes. It may be called
// after Commit, and more than once.
func (tx *Tx) Rollback() {
	tx.done = true
	tx.endSnapshot()
	tx.writes = nil
}

func (tx *Tx) endSnapshot() {
	if tx.snap != nil {
		tx.snap.Rollback()
		tx.snap = nil
	}
}

// Commit makes the transaction's writes durable, atomically. It fails,
// writing nothing, with a *ConflictError when a key the transaction read
// (or a page of keys it listed) was changed by another commit since its
// snapshot, a *LimitError when commits since its snapshot leave no room
// for its writes, or an *Error of the database. A transaction that wrote
// nothing commits at once.
func (tx *Tx) Commit() error {
	if tx.done {
		return tx.s.fail("commit", errDone)
	}
	tx.done = true
	tx.endSnapshot()
	if tx.err != nil {
		return tx.err
	}
	if len(tx.writes) == 0 {
		return nil
	}
	s := tx.s
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	w, err := s.db.BeginTx(context.Background(), nil) // BEGIN IMMEDIATE: the write lock
	if err != nil {
		return s.fail("commit", err)
	}
	defer w.Rollback()
	if err := tx.validate(w); err != nil {
		return err
	}
	usageSt := w.Stmt(s.stmts.usage)
	var before, u usage
	if err := usageSt.QueryRow(tx.ns).Scan(&before.keys, &before.bytes); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return s.fail("commit", err)
	}
	keys := make([]string, 0, len(tx.writes))
	for k := range tx.writes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	putSt, delSt := w.Stmt(s.stmts.put), w.Stmt(s.stmts.del)
	for _, k := range keys {
		wr := tx.writes[k]
		var err error
		if wr.del {
			_, err = delSt.Exec(tx.ns, []byte(k))
		} else {
			value := wr.value
			if value == nil {
				value = []byte{} // NOT NULL: an empty value is a value
			}
			_, err = putSt.Exec(tx.ns, []byte(k), value)
		}
		if err != nil {
			return s.fail("commit", err)
		}
	}
	if err := usageSt.QueryRow(tx.ns).Scan(&u.keys, &u.bytes); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return s.fail("commit", err)
	}
	// Set checked the limits against the snapshot; commits since may have
	// used the room. A commit that does not grow the namespace always
	// goes through (limits may have been lowered).
	switch {
	case u.keys > before.keys && u.keys > tx.lim.MaxKeys:
		return &LimitError{Limit: "max_state_keys", Max: tx.lim.MaxKeys, Got: u.keys,
			Msg: fmt.Sprintf("with the writes of other calls committed meanwhile, this call's writes would make %d keys, over the limit of %d", u.keys, tx.lim.MaxKeys)}
	case u.bytes > before.bytes && u.bytes > tx.lim.MaxBytes:
		return &LimitError{Limit: "max_state_bytes", Max: tx.lim.MaxBytes, Got: u.bytes,
			Msg: fmt.Sprintf("with the writes of other calls committed meanwhile, this call's writes would make %d bytes, over the limit of %d", u.bytes, tx.lim.MaxBytes)}
	}
	if err := w.Commit(); err != nil {
		return s.fail("commit", err)
	}
	return nil
}

// validate checks, in the write transaction w, that everything tx read is
// still what its snapshot had.
func (tx *Tx) validate(w *sql.Tx) error {
	s := tx.s
	if tx.wide {
		v := int64(-1)
		if err := w.Stmt(s.stmts.version).QueryRow(tx.ns).Scan(&v); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return s.fail("commit", err)
		}
		if v != tx.version {
			return &ConflictError{Msg: fmt.Sprintf("this call read more than %d keys, and another call changed the plugin's state meanwhile", maxReads)}
		}
		return nil
	}
	if len(tx.reads) > 0 {
		get := w.Stmt(s.stmts.get)
		// In key order, so that the conflict reported does not depend on
		// the map's order.
		keys := make([]string, 0, len(tx.reads))
		for k := range tx.reads {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			m := tx.reads[k]
			var n int64
			var v []byte
			err := get.QueryRow(tx.ns, []byte(k), tx.lim.MaxValueSize).Scan(&n, &v)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				if m.present {
					return &ConflictError{Key: k, Msg: fmt.Sprintf("key %q, which this call read, was deleted by another call meanwhile", k)}
				}
			case err != nil:
				return s.fail("commit", err)
			case !m.present:
				return &ConflictError{Key: k, Msg: fmt.Sprintf("key %q, which this call read as not set, was set by another call meanwhile", k)}
			case v == nil && n > 0, sum(v) != m.sum:
				return &ConflictError{Key: k, Msg: fmt.Sprintf("key %q, which this call read, was changed by another call meanwhile", k)}
			}
		}
	}
	if len(tx.scans) > 0 {
		st := w.Stmt(s.stmts.keysFrom)
		for _, sc := range tx.scans {
			_, h, err := tx.queryKeys(st, sc.from, sc.to, sc.after, sc.limit)
			if err != nil {
				return s.fail("commit", err)
			}
			if h != sc.sum {
				return &ConflictError{Prefix: string(sc.from), Msg: fmt.Sprintf("the keys starting with %q, which this call listed, were changed by another call meanwhile", sc.from)}
			}
		}
	}
	return nil
}

// LimitError is a write refused by a limit. Limit is the plugins.toml key
// of the limit ("max_state_value_size", ...).
type LimitError struct {
	Limit    string
	Max, Got int64
	Msg      string
}

func (e *LimitError) Error() string {
	if strings.HasPrefix(e.Limit, "max_") {
		return fmt.Sprintf("state: %s (%s)", e.Msg, e.Limit)
	}
	return "state: " + e.Msg
}

// ConflictError is a commit refused because another commit changed what
// the transaction read: its writes were discarded, and running the call
// again will see the new state.
type ConflictError struct {
	Key    string // the key read, or
	Prefix string // the prefix of the keys listed
	Msg    string
}

func (e *ConflictError) Error() string { return "state conflict: " + e.Msg }
