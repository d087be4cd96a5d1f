package goadapter

// Unit tests of adapter.wat: the module runs in wasmtime (core) with the
// WASI 0.2 functions it imports played by Go, and each preview1 function is
// called as Go's runtime calls it. The end-to-end tests (Go components
// through the host) are in tools/witgen, host and cmd/driftless.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v44"
)

// preview1 lists every WASI preview1 function with its core signature, as
// Go's runtime and syscall package declare them: the adapter exports them
// all (wasm-tools keeps those the module imports).
var preview1 = map[string]string{
	"args_get": "i32 i32 -> i32", "args_sizes_get": "i32 i32 -> i32",
	"environ_get": "i32 i32 -> i32", "environ_sizes_get": "i32 i32 -> i32",
	"clock_res_get": "i32 i32 -> i32", "clock_time_get": "i32 i64 i32 -> i32",
	"fd_advise": "i32 i64 i64 i32 -> i32", "fd_allocate": "i32 i64 i64 -> i32",
	"fd_close": "i32 -> i32", "fd_datasync": "i32 -> i32",
	"fd_fdstat_get": "i32 i32 -> i32", "fd_fdstat_set_flags": "i32 i32 -> i32",
	"fd_fdstat_set_rights": "i32 i64 i64 -> i32", "fd_filestat_get": "i32 i32 -> i32",
	"fd_filestat_set_size": "i32 i64 -> i32", "fd_filestat_set_times": "i32 i64 i64 i32 -> i32",
	"fd_pread": "i32 i32 i32 i64 i32 -> i32", "fd_prestat_get": "i32 i32 -> i32",
	"fd_prestat_dir_name": "i32 i32 i32 -> i32", "fd_pwrite": "i32 i32 i32 i64 i32 -> i32",
	"fd_read": "i32 i32 i32 i32 -> i32", "fd_readdir": "i32 i32 i32 i64 i32 -> i32",
	"fd_renumber": "i32 i32 -> i32", "fd_seek": "i32 i64 i32 i32 -> i32",
	"fd_sync": "i32 -> i32", "fd_tell": "i32 i32 -> i32", "fd_write": "i32 i32 i32 i32 -> i32",
	"path_create_directory": "i32 i32 i32 -> i32", "path_filestat_get": "i32 i32 i32 i32 i32 -> i32",
	"path_filestat_set_times": "i32 i32 i32 i32 i64 i64 i32 -> i32",
	"path_link":               "i32 i32 i32 i32 i32 i32 i32 -> i32",
	"path_open":               "i32 i32 i32 i32 i32 i64 i64 i32 i32 -> i32",
	"path_readlink":           "i32 i32 i32 i32 i32 i32 -> i32", "path_remove_directory": "i32 i32 i32 -> i32",
	"path_rename": "i32 i32 i32 i32 i32 i32 -> i32", "path_symlink": "i32 i32 i32 i32 i32 -> i32",
	"path_unlink_file": "i32 i32 i32 -> i32", "poll_oneoff": "i32 i32 i32 i32 -> i32",
	"proc_exit": "i32 ->", "proc_raise": "i32 -> i32", "sched_yield": "-> i32",
	"random_get": "i32 i32 -> i32", "sock_accept": "i32 i32 i32 -> i32",
	"sock_recv": "i32 i32 i32 i32 i32 i32 -> i32", "sock_send": "i32 i32 i32 i32 i32 -> i32",
	"sock_shutdown": "i32 i32 -> i32",
}

// WASI preview1 errno values.
const (
	errnoBadf  = 8
	errnoInval = 28
	errnoIO    = 29
	errnoPipe  = 64
)

func sigOf(ft *wasmtime.FuncType) string {
	var ps, rs []string
	for _, p := range ft.Params() {
		ps = append(ps, p.String())
	}
	for _, r := range ft.Results() {
		rs = append(rs, r.String())
	}
	return strings.TrimSpace(strings.Join(ps, " ") + " -> " + strings.Join(rs, " "))
}

func TestAdapterExports(t *testing.T) {
	wasm, err := wasmtime.Wat2Wasm(WAT)
	if err != nil {
		t.Fatal(err)
	}
	e := wasmtime.NewEngine()
	m, err := wasmtime.NewModule(e, wasm)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, x := range m.Exports() {
		if ft := x.Type().FuncType(); ft != nil {
			got[x.Name()] = sigOf(ft)
		}
	}
	for name, want := range preview1 {
		if got[name] != strings.TrimSpace(want) {
			t.Errorf("%s: exported as %q, want %q", name, got[name], want)
		}
	}
	for name, sig := range map[string]string{"driftless_noleave": "i32 ->", "cabi_import_realloc": "i32 i32 i32 i32 -> i32"} {
		if got[name] != sig {
			t.Errorf("%s: %q, want %q", name, got[name], sig)
		}
	}
	for _, x := range m.Exports() {
		if x.Type().MemoryType() != nil {
			t.Errorf("the adapter exports a memory %s: it must own none", x.Name())
		}
	}
}

// host plays the WASI 0.2 host of the adapter.
type host struct {
	t       *testing.T
	store   *wasmtime.Store
	mem     *wasmtime.Memory
	inst    *wasmtime.Instance
	calls   []string // imports called
	noleave bool     // the adapter is in no-leave mode: no import may be called

	mono        uint64
	wallSeconds uint64
	wallNanos   uint32
	random      uint64
	writes      map[int32]*bytes.Buffer
	writeErr    int // 0: ok; 1: last-operation-failed; 2: closed
	env         [][2]string
	slept       []uint64
	fs          *fakeFS
}

func (h *host) call(name string) {
	h.calls = append(h.calls, name)
	if h.noleave {
		h.t.Errorf("import %s called in no-leave mode", name)
	}
}

func (h *host) data() []byte { return h.mem.UnsafeData(h.store) }

func newAdapter(t *testing.T) *host {
	t.Helper()
	wasm, err := wasmtime.Wat2Wasm(WAT)
	if err != nil {
		t.Fatal(err)
	}
	e := wasmtime.NewEngine()
	store := wasmtime.NewStore(e)
	m, err := wasmtime.NewModule(e, wasm)
	if err != nil {
		t.Fatal(err)
	}
	mt, err := wasmtime.NewMemoryType(1, true, 16, false)
	if err != nil {
		t.Fatal(err)
	}
	mem, err := wasmtime.NewMemory(store, mt)
	if err != nil {
		t.Fatal(err)
	}
	h := &host{t: t, store: store, mem: mem, writes: map[int32]*bytes.Buffer{}, mono: 1000, wallSeconds: 1_700_000_000, wallNanos: 5, random: 0x0102030405060708}
	l := wasmtime.NewLinker(e)
	le := binary.LittleEndian
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(l.Define(store, "env", "memory", mem))
	must(l.FuncWrap("wasi:clocks/monotonic-clock@0.2.0", "now", func() int64 { h.call("mono.now"); return int64(h.mono) }))
	must(l.FuncWrap("wasi:clocks/monotonic-clock@0.2.0", "subscribe-duration", func(d int64) int32 {
		h.call(fmt.Sprintf("subscribe-duration(%d)", d))
		h.slept = append(h.slept, uint64(d))
		return 77
	}))
	must(l.FuncWrap("wasi:clocks/wall-clock@0.2.0", "now", func(ret int32) {
		h.call("wall.now")
		le.PutUint64(h.data()[ret:], h.wallSeconds)
		le.PutUint32(h.data()[ret+8:], h.wallNanos)
	}))
	must(l.FuncWrap("wasi:random/random@0.2.0", "get-random-u64", func() int64 { h.call("random"); h.random++; return int64(h.random) }))
	must(l.FuncWrap("wasi:cli/stdout@0.2.0", "get-stdout", func() int32 { h.call("get-stdout"); return 11 }))
	must(l.FuncWrap("wasi:cli/stderr@0.2.0", "get-stderr", func() int32 { h.call("get-stderr"); return 12 }))
	must(l.FuncWrap("wasi:io/streams@0.2.0", "[method]output-stream.blocking-write-and-flush", func(s, ptr, n, ret int32) {
		h.call(fmt.Sprintf("write(%d, %d bytes)", s, n))
		if n > 4096 {
			t.Errorf("blocking-write-and-flush of %d bytes: at most 4096", n)
		}
		d := h.data()
		if h.writes[s] == nil {
			h.writes[s] = &bytes.Buffer{}
		}
		switch h.writeErr {
		case 0:
			h.writes[s].Write(d[ptr : ptr+n])
			d[ret] = 0
		case 1:
			d[ret], d[ret+4] = 1, 0
			le.PutUint32(d[ret+8:], 99)
		case 2:
			d[ret], d[ret+4] = 1, 1
		}
	}))
	must(l.FuncWrap("wasi:io/error@0.2.0", "[resource-drop]error", func(h2 int32) { h.call(fmt.Sprintf("drop-error(%d)", h2)) }))
	must(l.FuncWrap("wasi:io/poll@0.2.0", "[method]pollable.block", func(p int32) { h.call(fmt.Sprintf("block(%d)", p)) }))
	must(l.FuncWrap("wasi:io/poll@0.2.0", "[resource-drop]pollable", func(p int32) { h.call(fmt.Sprintf("drop-pollable(%d)", p)) }))
	must(l.FuncWrap("wasi:cli/environment@0.2.0", "get-environment", func(c *wasmtime.Caller, ret int32) *wasmtime.Trap {
		h.call("get-environment")
		// Lowered as the canonical ABI does: memory from cabi_import_realloc.
		realloc := c.GetExport("cabi_import_realloc").Func()
		alloc := func(size, align int32) (int32, error) {
			p, err := realloc.Call(c, int32(0), int32(0), align, size)
			if err != nil {
				return 0, err
			}
			return p.(int32), nil
		}
		list, err := alloc(int32(16*len(h.env)), 4)
		if err != nil {
			return wasmtime.NewTrap(err.Error())
		}
		for i, kv := range h.env {
			for j, s := range kv {
				p, err := alloc(int32(len(s)), 1)
				if err != nil {
					return wasmtime.NewTrap(err.Error())
				}
				copy(h.data()[p:], s)
				le.PutUint32(h.data()[list+int32(16*i+8*j):], uint32(p))
				le.PutUint32(h.data()[list+int32(16*i+8*j+4):], uint32(len(s)))
			}
		}
		le.PutUint32(h.data()[ret:], uint32(list))
		le.PutUint32(h.data()[ret+4:], uint32(len(h.env)))
		return nil
	}))
	h.fs = &fakeFS{h: h, handles: map[int32]*fsHandle{}, next: 100}
	h.fs.define(t, l)
	inst, err := l.Instantiate(store, m)
	if err != nil {
		t.Fatal(err)
	}
	h.inst = inst
	return h
}

// fn calls adapter function name with args and returns its errno.
func (h *host) fn(name string, args ...any) int32 {
	h.t.Helper()
	f := h.inst.GetFunc(h.store, name)
	if f == nil {
		h.t.Fatalf("no export %s", name)
	}
	v, err := f.Call(h.store, args...)
	if err != nil {
		h.t.Fatalf("%s: %v", name, err)
	}
	if v == nil {
		return 0
	}
	return v.(int32)
}

func (h *host) setNoLeave(on bool) {
	h.noleave = on
	var v int32
	if on {
		v = 1
	}
	h.fn("driftless_noleave", v)
}

func (h *host) u32(a int) uint32 { return binary.LittleEndian.Uint32(h.data()[a:]) }
func (h *host) u64(a int) uint64 { return binary.LittleEndian.Uint64(h.data()[a:]) }

// Addresses of the test's buffers, above the adapter's scratch area.
const (
	buf  = 20000
	buf2 = 30000
	out  = 40000
)

func TestAdapterClocks(t *testing.T) {
	h := newAdapter(t)
	if e := h.fn("clock_time_get", int32(0), int64(0), int32(buf)); e != 0 || h.u64(buf) != 1_700_000_000_000_000_005 {
		t.Fatalf("realtime: errno %d, %d", e, h.u64(buf))
	}
	h.fn("clock_time_get", int32(1), int64(0), int32(buf))
	if h.u64(buf) != 1000 {
		t.Fatalf("monotonic: %d", h.u64(buf))
	}
	// A host clock that goes back is not followed.
	h.mono = 500
	h.fn("clock_time_get", int32(1), int64(0), int32(buf))
	if h.u64(buf) != 1000 {
		t.Errorf("monotonic went back to %d", h.u64(buf))
	}
	if e := h.fn("clock_time_get", int32(2), int64(0), int32(buf)); e != errnoInval {
		t.Errorf("CPU-time clock: errno %d", e)
	}
	// No-leave: no import; the monotonic clock still advances; the wall
	// clock follows it from the last reading.
	h.mono = 2000
	h.fn("clock_time_get", int32(1), int64(0), int32(buf))
	h.setNoLeave(true)
	h.fn("clock_time_get", int32(1), int64(0), int32(buf))
	h.fn("clock_time_get", int32(1), int64(0), int32(buf2))
	if a, b := h.u64(buf), h.u64(buf2); a != 2001 || b != 2002 {
		t.Errorf("no-leave monotonic: %d then %d", a, b)
	}
	h.fn("clock_time_get", int32(0), int64(0), int32(buf))
	if got := h.u64(buf); got < 1_700_000_000_000_000_005 {
		t.Errorf("no-leave realtime went back: %d", got)
	}
	h.setNoLeave(false)
	h.mono = 10_000
	h.fn("clock_time_get", int32(1), int64(0), int32(buf))
	if h.u64(buf) != 10_000 {
		t.Errorf("after no-leave: %d", h.u64(buf))
	}
}

func TestAdapterRandom(t *testing.T) {
	h := newAdapter(t)
	for _, n := range []int{0, 1, 7, 8, 13, 64} {
		d := h.data()
		for i := range 80 {
			d[buf+i] = 0xEE
		}
		if e := h.fn("random_get", int32(buf), int32(n)); e != 0 {
			t.Fatal(e)
		}
		for i := n; i < 80; i++ {
			if d[buf+i] != 0xEE {
				t.Fatalf("random_get(%d) wrote byte %d", n, i)
			}
		}
	}
	h.setNoLeave(true)
	h.fn("random_get", int32(buf), int32(16))
	h.fn("random_get", int32(buf2), int32(16))
	if bytes.Equal(h.data()[buf:buf+16], h.data()[buf2:buf2+16]) {
		t.Error("no-leave random repeats itself")
	}
}

// iovecs writes iovecs for parts at buf and returns their number.
func (h *host) iovecs(parts ...string) int32 {
	d := h.data()
	p := buf2
	for i, s := range parts {
		copy(d[p:], s)
		binary.LittleEndian.PutUint32(d[buf+8*i:], uint32(p))
		binary.LittleEndian.PutUint32(d[buf+8*i+4:], uint32(len(s)))
		p += len(s)
	}
	return int32(len(parts))
}

func TestAdapterWrite(t *testing.T) {
	h := newAdapter(t)
	big := strings.Repeat("x", 10000)
	n := h.iovecs("hello ", big, "!")
	if e := h.fn("fd_write", int32(2), int32(buf), n, int32(out)); e != 0 || h.u32(out) != uint32(len(big)+7) {
		t.Fatalf("fd_write: errno %d, wrote %d", e, h.u32(out))
	}
	if got := h.writes[12].String(); got != "hello "+big+"!" {
		t.Errorf("stderr got %d bytes", len(got))
	}
	h.fn("fd_write", int32(1), int32(buf), h.iovecs("out"), int32(out))
	if h.writes[11].String() != "out" {
		t.Errorf("stdout: %q", h.writes[11])
	}
	if strings.Count(strings.Join(h.calls, ","), "get-stderr") != 1 {
		t.Errorf("the stream is fetched once: %v", h.calls)
	}
	if e := h.fn("fd_write", int32(5), int32(buf), h.iovecs("x"), int32(out)); e != errnoBadf {
		t.Errorf("fd 5: errno %d", e)
	}
	h.writeErr = 1
	if e := h.fn("fd_write", int32(2), int32(buf), h.iovecs("x"), int32(out)); e != errnoIO || !strings.Contains(strings.Join(h.calls, ","), "drop-error(99)") {
		t.Errorf("a failed write: errno %d, calls %v", e, h.calls)
	}
	h.writeErr = 2
	if e := h.fn("fd_write", int32(2), int32(buf), h.iovecs("x"), int32(out)); e != errnoPipe {
		t.Errorf("a closed stream: errno %d", e)
	}
	h.writeErr = 0
	h.setNoLeave(true)
	before := h.writes[12].Len()
	if e := h.fn("fd_write", int32(2), int32(buf), h.iovecs("dropped"), int32(out)); e != 0 || h.u32(out) != 7 || h.writes[12].Len() != before {
		t.Errorf("no-leave write: errno %d, %d", e, h.u32(out))
	}
}

// sub writes subscription i at buf: a clock (id, timeout, flags) or, with
// fd >= 0, an fd_read.
func (h *host) sub(i int, userdata uint64, fd int, id uint32, timeout uint64, flags uint16) {
	d := h.data()[buf+48*i:]
	clear(d[:48])
	le := binary.LittleEndian
	le.PutUint64(d, userdata)
	if fd >= 0 {
		d[8] = 1
		le.PutUint32(d[16:], uint32(fd))
		return
	}
	le.PutUint32(d[16:], id)
	le.PutUint64(d[24:], timeout)
	le.PutUint16(d[40:], flags)
}

func TestAdapterPoll(t *testing.T) {
	h := newAdapter(t)
	h.sub(0, 1, -1, 1, 10_000_000, 0)
	h.sub(1, 2, -1, 1, 3_000_000, 0)
	if e := h.fn("poll_oneoff", int32(buf), int32(out), int32(2), int32(buf2)); e != 0 {
		t.Fatal(e)
	}
	if fmt.Sprint(h.slept) != "[3000000]" || h.u32(buf2) != 1 || h.u64(out) != 2 || h.data()[out+10] != 0 {
		t.Errorf("slept %v, %d events, first for %d", h.slept, h.u32(buf2), h.u64(out))
	}
	if !strings.Contains(strings.Join(h.calls, ","), "block(77),drop-pollable(77)") {
		t.Errorf("calls %v", h.calls)
	}
	// An absolute deadline already passed: no sleep at all... beyond 0.
	h.slept = nil
	h.sub(0, 3, -1, 1, 5, 1)
	h.fn("poll_oneoff", int32(buf), int32(out), int32(1), int32(buf2))
	if h.u32(buf2) != 1 || h.u64(out) != 3 {
		t.Errorf("absolute: %d events", h.u32(buf2))
	}
	// An fd subscription answers EBADF at once.
	h.slept = nil
	h.sub(0, 4, -1, 1, 1_000_000_000, 0)
	h.sub(1, 5, 0, 0, 0, 0)
	h.fn("poll_oneoff", int32(buf), int32(out), int32(2), int32(buf2))
	if h.slept != nil || h.u32(buf2) != 1 || h.u64(out) != 5 || binary.LittleEndian.Uint16(h.data()[out+8:]) != errnoBadf {
		t.Errorf("fd: slept %v, %d events", h.slept, h.u32(buf2))
	}
	if e := h.fn("poll_oneoff", int32(buf), int32(out), int32(0), int32(buf2)); e != errnoInval {
		t.Errorf("no subscriptions: errno %d", e)
	}
	// No-leave: the sleep is time passing on the monotonic clock.
	h.setNoLeave(true)
	h.fn("clock_time_get", int32(1), int64(0), int32(buf2+100))
	h.sub(0, 6, -1, 1, 1_000_000, 0)
	h.fn("poll_oneoff", int32(buf), int32(out), int32(1), int32(buf2))
	h.fn("clock_time_get", int32(1), int64(0), int32(buf2+108))
	if h.u32(buf2) != 1 || h.u64(buf2+108)-h.u64(buf2+100) < 1_000_000 {
		t.Errorf("no-leave sleep: %d events, clock %d -> %d", h.u32(buf2), h.u64(buf2+100), h.u64(buf2+108))
	}
}

func TestAdapterEnvironment(t *testing.T) {
	h := newAdapter(t)
	h.env = [][2]string{{"GOGC", "1"}, {"LONG", strings.Repeat("v", 300)}}
	if e := h.fn("environ_sizes_get", int32(buf), int32(buf+4)); e != 0 || h.u32(buf) != 2 || h.u32(buf+4) != 7+305+1 {
		t.Fatalf("environ_sizes_get: errno %d, %d, %d", e, h.u32(buf), h.u32(buf+4))
	}
	if e := h.fn("environ_get", int32(buf2), int32(out)); e != 0 {
		t.Fatal(e)
	}
	d := h.data()
	first := h.u32(buf2)
	second := h.u32(buf2 + 4)
	if first != out || string(d[first:first+7]) != "GOGC=1\x00" || string(d[second:second+6]) != "LONG=v" {
		t.Errorf("environ_get: %q", d[out:out+20])
	}
	if strings.Count(strings.Join(h.calls, ","), "get-environment") != 1 {
		t.Errorf("the environment is read once: %v", h.calls)
	}
	for _, name := range []string{"args_sizes_get"} {
		h.fn(name, int32(buf), int32(buf+4))
		if h.u32(buf) != 0 || h.u32(buf+4) != 0 {
			t.Errorf("%s: %d %d", name, h.u32(buf), h.u32(buf+4))
		}
	}

	// An environment beyond the scratch arena traps instead of writing
	// over Go's data.
	h2 := newAdapter(t)
	h2.env = [][2]string{{"BIG", strings.Repeat("x", 9000)}}
	f := h2.inst.GetFunc(h2.store, "environ_sizes_get")
	if _, err := f.Call(h2.store, int32(buf), int32(buf+4)); err == nil {
		t.Error("a 9000-byte environment was accepted")
	}
}

func TestAdapterFiles(t *testing.T) {
	h := newAdapter(t)
	if e := h.fn("fd_prestat_get", int32(3), int32(buf)); e != errnoBadf {
		t.Errorf("fd_prestat_get: %d (no preopened directories)", e)
	}
	if e := h.fn("fd_fdstat_get", int32(1), int32(buf)); e != 0 || h.data()[buf] != 2 {
		t.Errorf("fd_fdstat_get(1): errno %d, filetype %d", e, h.data()[buf])
	}
	if e := h.fn("fd_fdstat_get", int32(3), int32(buf)); e != errnoBadf {
		t.Errorf("fd_fdstat_get(3): %d", e)
	}
	binary.LittleEndian.PutUint32(h.data()[out:], 99)
	if e := h.fn("fd_read", int32(0), int32(buf), int32(1), int32(out)); e != 0 || h.u32(out) != 0 {
		t.Errorf("stdin: errno %d, read %d", e, h.u32(out))
	}
	if e := h.fn("path_open", int32(3), int32(0), int32(buf), int32(1), int32(0), int64(0), int64(0), int32(0), int32(out)); e != errnoBadf {
		t.Errorf("path_open: %d", e)
	}
	f := h.inst.GetFunc(h.store, "proc_exit")
	if _, err := f.Call(h.store, int32(0)); err == nil {
		t.Error("proc_exit returned")
	}
}

// TestAdapterScratch: whatever it is asked, the adapter writes only to the
// caller's buffers and its scratch area (4096-12287).
func TestAdapterScratch(t *testing.T) {
	h := newAdapter(t)
	d := h.data()
	for i := range d {
		d[i] = 0xA5
	}
	h.env = [][2]string{{"A", "b"}}
	h.fn("clock_time_get", int32(0), int64(0), int32(buf))
	h.fn("fd_write", int32(2), int32(buf), h.iovecs("x"), int32(out))
	h.fn("environ_sizes_get", int32(buf), int32(buf+4))
	h.sub(0, 1, -1, 1, 1000, 0)
	h.fn("poll_oneoff", int32(buf), int32(out), int32(1), int32(out+64))
	for i, b := range d {
		inScratch := i >= 4096 && i < 12288
		inBuffers := i >= buf && i < out+128
		if b != 0xA5 && !inScratch && !inBuffers {
			t.Fatalf("byte %d was written", i)
		}
	}
}
