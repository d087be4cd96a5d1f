package host

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/pluginstate"
)

// A component may import driftless:plugin/state, with the contract's
// types only.
func TestStateImport(t *testing.T) {
	h, _ := testHost(t, "", false)
	p := load(t, h, fixture{name: "stateful"}.withState(""))
	echo(t, p, "1")
	_, err := h.LoadBytes(context.Background(), "mistyped", fixture{name: "mistyped"}.withState(mistypedState).wasm(t))
	wantError(t, err, KindLoad, "plugin mistyped: load: function driftless:plugin/state@0.1.0#get has type (string)->option<string>, "+
		"but the bindings expect (string)->option<list<u8>>")
}

// storedCounter returns the counter of counterFixture in plugin's state
// (0 when unset), read through the store.
func storedCounter(t testing.TB, h *Host, plugin string) uint32 {
	t.Helper()
	s, err := h.State()
	if err != nil {
		t.Fatal(err)
	}
	v, ok, err := s.Get(context.Background(), plugin, "n", pluginstate.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		return 0
	}
	if len(v) != 4 {
		t.Fatalf("counter of %s: %q", plugin, v)
	}
	return binary.LittleEndian.Uint32(v)
}

// Each call is one transaction: its writes are committed when it succeeds,
// and discarded on every kind of failure and in check mode, whose reads
// see the stored state plus the call's own writes.
func TestStateTransactions(t *testing.T) {
	h, _ := testHost(t, `
[plugins.counter]
fuel_limit = 50000000
[plugins.slow]
fuel_limit = 9000000000000000000
execution_timeout_secs = 0.3
max_memory = 2097152
`, false)
	after := bystander(t, h)
	counter := load(t, h, counterFixture("counter"))
	slow := load(t, h, counterFixture("slow"))
	ctx := context.Background()
	for _, c := range []struct {
		name   string
		p      *Plugin
		config string
		check  bool
		cancel bool
		kind   ErrorKind // "" for success
		commit bool
	}{
		{name: "success", p: counter, config: "{}", commit: true},
		{name: "success again", p: counter, config: "{}", commit: true},
		{name: "check mode", p: counter, config: "{}", check: true},
		{name: "plugin error", p: counter, config: `{"err":1}`, kind: KindFailed},
		{name: "trap", p: counter, config: `{"trap":1}`, kind: KindTrap},
		{name: "fuel", p: counter, config: `{"loop":1}`, kind: KindFuel},
		{name: "bad output", p: counter, config: `{"out":1}`, kind: KindBadOutput},
		{name: "timeout", p: slow, config: `{"loop":1}`, kind: KindTimeout},
		{name: "memory", p: slow, config: `{"mem":1}`, kind: KindTrap},
		{name: "cancelled", p: slow, config: `{"loop":1}`, cancel: true, kind: KindCancelled},
		{name: "check mode with a failure", p: counter, config: `{"err":1}`, check: true, kind: KindFailed},
		{name: "success after the failures", p: counter, config: "{}", commit: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := storedCounter(t, h, c.p.Name())
			cctx := ctx
			if c.cancel {
				var cancel context.CancelFunc
				cctx, cancel = context.WithCancel(ctx)
				time.AfterFunc(50*time.Millisecond, cancel)
				defer cancel()
			}
			res, err := c.p.ExecuteTask(cctx, "evil", c.config, c.check)
			if c.kind == "" {
				if err != nil {
					t.Fatal(err)
				}
				// The call read the stored counter and its own write.
				if res.Output != fmt.Sprint(before+1) {
					t.Fatalf("the call read back %s, the store had %d", res.Output, before)
				}
			} else if KindOf(err) != c.kind {
				t.Fatalf("error %v, want kind %s", err, c.kind)
			}
			want := before
			if c.commit {
				want++
			}
			if got := storedCounter(t, h, c.p.Name()); got != want {
				t.Fatalf("stored counter %d after the call, want %d", got, want)
			}
		})
	}
	if got := storedCounter(t, h, "counter"); got != 3 {
		t.Fatalf("counter = %d after three successful calls", got)
	}
	after()
}

// Plugins never see each other's state, and state survives the host.
func TestStateIsolationAndDurability(t *testing.T) {
	home := t.TempDir()
	newHost := func() *Host {
		h, err := New(Options{StatePath: filepath.Join(home, "state", StateFile)})
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	h := newHost()
	alpha := load(t, h, counterFixture("alpha"))
	beta := load(t, h, counterFixture("beta"))
	for range 3 {
		if _, err := alpha.ExecuteTask(context.Background(), "evil", "{}", false); err != nil {
			t.Fatal(err)
		}
	}
	res, err := beta.ExecuteTask(context.Background(), "evil", "{}", false)
	if err != nil || res.Output != "1" {
		t.Fatalf("beta's first call read its counter as %q (%v): it sees alpha's", res.Output, err)
	}
	h.Close()
	if _, err := os.Stat(home + "/state/state.db"); err != nil {
		t.Fatal(err)
	}
	h = newHost()
	defer h.Close()
	alpha = load(t, h, counterFixture("alpha"))
	res, err = alpha.ExecuteTask(context.Background(), "evil", "{}", false)
	if err != nil || res.Output != "4" {
		t.Fatalf("alpha after a restart: %q %v", res.Output, err)
	}
}

// keys pages through the plugin's keys, own writes included.
func TestStateKeys(t *testing.T) {
	h, _ := testHost(t, "", false)
	p := load(t, h, counterFixture("lister"))
	s, err := h.State()
	if err != nil {
		t.Fatal(err)
	}
	var items []pluginstate.Item
	for i := range 7 {
		items = append(items, pluginstate.Item{Key: fmt.Sprintf("k%d", i), Value: []byte("v")})
	}
	if err := s.Import(context.Background(), "lister", items, false, pluginstate.DefaultLimits()); err != nil {
		t.Fatal(err)
	}
	// 7 keys, and "n" which the call sets first.
	res, err := p.ExecuteTask(context.Background(), "evil", `{"keys":1}`, false)
	if err != nil || res.Output != "8" {
		t.Fatalf("keys: %q %v", res.Output, err)
	}
}

// A set over a limit is a plugin error the plugin handles (here: returns),
// never a host failure; the call's writes are discarded with it.
func TestStateLimitsFromConfig(t *testing.T) {
	h, _ := testHost(t, `
[plugins.tiny]
max_state_value_size = 3
[plugins.few]
max_state_keys = 0
[plugins.small]
max_state_bytes = 4
`, false)
	for _, c := range []struct{ name, want string }{
		{"tiny", `plugin tiny: tasks.execute: state: the value for key "n" is 4 bytes, over the limit of 3 (max_state_value_size)`},
		{"few", `plugin few: tasks.execute: state: setting key "n" would make 1 keys, over the limit of 0 (max_state_keys)`},
		{"small", `plugin small: tasks.execute: state: setting key "n" would make 5 bytes of keys and values, over the limit of 4 (max_state_bytes)`},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := load(t, h, counterFixture(c.name))
			_, err := p.ExecuteTask(context.Background(), "evil", "{}", false)
			wantError(t, err, KindFailed, c.want)
			if got := storedCounter(t, h, c.name); got != 0 {
				t.Fatal(got)
			}
			echo(t, p, "after") // the instance is sound
		})
	}
}

// Pooled instances of one plugin run calls at once: every call that
// succeeds has committed, atomically, and a call whose read was changed
// meanwhile fails with a conflict instead of losing an update.
func TestStateConcurrent(t *testing.T) {
	h, _ := testHost(t, "[plugins.counter]\nmax_instances = 8\n", false)
	p := load(t, h, counterFixture("counter"))
	const workers, calls = 16, 25
	var ok, conflicts atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers*calls)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range calls {
				_, err := p.ExecuteTask(context.Background(), "evil", "{}", false)
				switch {
				case err == nil:
					ok.Add(1)
				case KindOf(err) == KindStateConflict:
					conflicts.Add(1)
					if !strings.Contains(err.Error(), `state conflict: key "n", which this call read`) {
						errs <- err
					}
				default:
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := storedCounter(t, h, "counter"); int64(got) != ok.Load() {
		t.Fatalf("counter %d, but %d calls succeeded (%d conflicts): an update was lost", got, ok.Load(), conflicts.Load())
	}
	if ok.Load() == 0 {
		t.Fatal("no call succeeded")
	}
	t.Logf("%d calls committed, %d conflicted", ok.Load(), conflicts.Load())
}

// A state database that cannot be used fails the calls that use state with
// an error naming the file; plugins that do not use state are unaffected.
func TestStateBadDatabase(t *testing.T) {
	h, _ := testHost(t, "", false)
	after := bystander(t, h)
	if err := os.MkdirAll(filepath.Dir(h.StatePath()), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(h.StatePath(), []byte(strings.Repeat("not a database ", 400)), 0o600); err != nil {
		t.Fatal(err)
	}
	p := load(t, h, counterFixture("counter"))
	for range 2 {
		_, err := p.ExecuteTask(context.Background(), "evil", "{}", false)
		wantErrorPrefix(t, err, KindState, "plugin counter: tasks.execute: state database "+h.StatePath()+": open: the file is not a database")
	}
	after()
}

// A database another process keeps locked makes the commit wait the busy
// timeout, then fail naming the file; the call's writes are discarded.
func TestStateLockedDatabase(t *testing.T) {
	home := t.TempDir()
	h, err := New(Options{StatePath: filepath.Join(home, "state", StateFile), StateBusyTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	p := load(t, h, counterFixture("counter"))
	if _, err := p.ExecuteTask(context.Background(), "evil", "{}", false); err != nil {
		t.Fatal(err)
	}
	release := holdWriteLock(t, h.StatePath())
	_, err = p.ExecuteTask(context.Background(), "evil", "{}", false)
	wantErrorPrefix(t, err, KindState, "plugin counter: tasks.execute: state database "+h.StatePath()+": commit: locked by another process for longer than 200ms")
	release()
	if got := storedCounter(t, h, "counter"); got != 1 {
		t.Fatalf("counter %d", got)
	}
	echo(t, p, "after")
}

// holdWriteLock takes the write lock of the database at path, as another
// process in the middle of a commit would, until the returned function is
// called.
func holdWriteLock(t *testing.T, path string) func() {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := db.Begin()
	if err == nil {
		_, err = tx.Exec(`DELETE FROM usage WHERE ns = ''`) // a write takes the lock
	}
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	return func() {
		tx.Rollback()
		db.Close()
	}
}

// stateCrashHome makes TestStateCrashChild a host that TestStateCrash
// kills: its value is the plugin home.
const stateCrashHome = "DRIFTLESS_TEST_STATE_CRASH_HOME"

// TestStateCrashChild is not a test of its own: run by TestStateCrash, it
// calls counterFixture's task until it is killed, printing the counter of
// each call that returned.
func TestStateCrashChild(t *testing.T) {
	home := os.Getenv(stateCrashHome)
	if home == "" {
		t.Skip("run by TestStateCrash")
	}
	h, err := New(Options{StatePath: filepath.Join(home, "state", StateFile)})
	if err != nil {
		t.Fatal(err)
	}
	p := load(t, h, counterFixture("counter"))
	for {
		res, err := p.ExecuteTask(context.Background(), "evil", "{}", false)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Println(res.Output)
	}
}

// kill -9 of a host at random points of its calls loses no call that
// returned and corrupts nothing.
func TestStateCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills processes")
	}
	home := t.TempDir()
	reported := 0
	for round := range 5 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestStateCrashChild$")
		cmd.Env = append(os.Environ(), stateCrashHome+"="+home)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan int, 1024)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				if n, err := strconv.Atoi(sc.Text()); err == nil {
					lines <- n
				}
			}
		}()
		first, ok := <-lines
		if !ok {
			cmd.Wait()
			t.Fatalf("round %d: the child made no call", round)
		}
		reported = max(reported, first)
		time.Sleep(time.Duration(rand.IntN(150)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		for n := range lines {
			reported = max(reported, n)
		}
		cmd.Wait()

		s, err := pluginstate.Open(filepath.Join(home, "state", StateFile), pluginstate.Options{})
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if err := s.Check(context.Background()); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		v, _, err := s.Get(context.Background(), "counter", "n", pluginstate.DefaultLimits())
		s.Close()
		if err != nil || len(v) != 4 {
			t.Fatalf("round %d: counter %q %v", round, v, err)
		}
		n := int(binary.LittleEndian.Uint32(v))
		if n < reported || n > reported+1 {
			t.Fatalf("round %d: the store holds %d calls, the child reported %d", round, n, reported)
		}
		t.Logf("round %d: killed after call %d (reported %d)", round, n, reported)
		reported = n
	}
}

// Hostile uses of the state functions: each is bounded, and ends in a
// clear error or a normal answer, never in a host failure.
func TestStateHostile(t *testing.T) {
	h, _ := testHost(t, "[plugins.flood]\nmax_state_keys = 50\n", false)
	after := bystander(t, h)
	ctx := context.Background()
	for _, c := range []struct {
		name, evil string
		kind       ErrorKind
		want       string
	}{
		{name: "long key", evil: `
      (call $state_set (i32.const 4096) (i32.const 2000) (i32.const 0) (i32.const 0) (i32.const 640))
      (if (i32.load8_u (i32.const 640))
        (then (return (call $fail (i32.const 4) (i32.load (i32.const 648)) (i32.load (i32.const 652))))))
      (call $ok (local.get $cfg) (local.get $cfg-len))`, kind: KindFailed,
			want: "plugin long-key: tasks.execute: state: a key of 2000 bytes is over the limit of 1024 (max_state_key_size)"},
		{name: "big value", evil: `
      (call $state_set (i32.const 2048) (i32.const 1) (i32.const 0) (i32.const 1572864) (i32.const 640))
      (if (i32.load8_u (i32.const 640))
        (then (return (call $fail (i32.const 4) (i32.load (i32.const 648)) (i32.load (i32.const 652))))))
      (call $ok (local.get $cfg) (local.get $cfg-len))`, kind: KindFailed,
			want: `plugin big-value: tasks.execute: state: the value for key "\x00" is 1572864 bytes, over the limit of 1048576 (max_state_value_size)`},
		{name: "flood", evil: `
      (local $i i32)
      (loop $l
        (call $state_delete (i32.const 800) (call $itoa (local.get $i) (i32.const 800)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l))
      unreachable`, kind: KindState,
			want: "plugin flood: tasks.execute: state: one call may set or delete at most 100 keys (twice the limit of keys) (max_state_keys)"},
		{name: "wide reads", evil: `
      (local $i i32)
      (loop $l
        (call $state_get (i32.const 800) (call $itoa (local.get $i) (i32.const 800)) (i32.const 600))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (i32.const 30000))))
      (call $ok (local.get $cfg) (local.get $cfg-len))`},
		{name: "huge page", evil: `
      (call $state_keys (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const -1) (i32.const 680))
      (call $ok (i32.const 700) (call $itoa (i32.load (i32.const 684)) (i32.const 700)))`},
	} {
		t.Run(c.name, func(t *testing.T) {
			name := strings.ReplaceAll(c.name, " ", "-")
			p := load(t, h, fixture{name: name, pages: 30, evil: c.evil}.withState(""))
			res, err := p.ExecuteTask(ctx, "evil", "{}", false)
			if c.kind == "" {
				if err != nil {
					t.Fatal(err)
				}
				if c.name == "huge page" && res.Output != "0" {
					t.Fatalf("output %q", res.Output)
				}
			} else {
				wantError(t, err, c.kind, c.want)
			}
			echo(t, p, "after")
		})
	}
	// A page is at most pluginstate.MaxPage keys, whatever the limit asked.
	s, _ := h.State()
	items := make([]pluginstate.Item, pluginstate.MaxPage+5)
	for i := range items {
		items[i] = pluginstate.Item{Key: fmt.Sprintf("k%05d", i)}
	}
	if err := s.Import(ctx, "huge-page", items, false, pluginstate.DefaultLimits()); err != nil {
		t.Fatal(err)
	}
	p, _ := h.Plugin("huge-page")
	res, err := p.ExecuteTask(ctx, "evil", "{}", false)
	if err != nil || res.Output != fmt.Sprint(pluginstate.MaxPage) {
		t.Fatalf("a page with limit 2^32-1: %q keys, %v", res.Output, err)
	}
	after()
}
