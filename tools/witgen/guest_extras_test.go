package main

// World guest-extras (testdata/guest) covers what the corpus does not: wide
// flags and enums, variants whose payloads share core values, lists of every
// element layout, 1- and 17-tuples, more than 16 parameters both ways,
// exported resources passed back in, held in records and borrowed in lists,
// world-level resources, errors from plain Go errors. Its Go guest is
// internal/guestextras/extrasguest; its Go host bindings are checked in
// under internal/guestextrasgen.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/driftless-dev/driftless/bindings"
	"github.com/driftless-dev/driftless/tools/witgen/internal/guestextrasgen/witgen/guest/extras"
	"github.com/driftless-dev/driftless/tools/witgen/internal/guestextrasgen/witgen/guest/guestextras"
	"github.com/driftless-dev/driftless/tools/witgen/internal/guestextrasgen/witgen/guest/shapes"
)

// TestGuestExtrasHostGolden checks the checked-in host bindings of world
// guest-extras.
func TestGuestExtrasHostGolden(t *testing.T) {
	const out = "internal/guestextrasgen"
	files, err := Generate(loadWIT(t, "testdata/guest"), Options{Worlds: []string{"guest-extras"}, PackagePrefix: prefixOf(t, out)})
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := writeFiles(out, files); err != nil {
			t.Fatal(err)
		}
		return
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is not what witgen generates now (run go test ./tools/witgen -run Golden -update): %v", name, err)
		}
	}
}

type extrasHost struct {
	mu      sync.Mutex
	dropped []uint32 // numbers of dropped host tickets
}

func (h *extrasHost) ManyParams(ctx context.Context, p0 uint8, p1 int16, p2 uint32, p3 int64, p4 float32, p5 float64, p6 rune, p7 bool, p8 string, p9 uint8, p10 int16, p11 uint32, p12 int64, p13 float32, p14 float64, p15 rune, p16 bool, p17 string) string {
	return strings.TrimSuffix(fmt.Sprintln(p0, p1, p2, p3, p4, p5, string(p6), p7, p8, p9, p10, p11, p12, p13, p14, string(p15), p16, p17), "\n")
}

func (h *extrasHost) BigResult(ctx context.Context, n, size uint32) []string {
	var out []string
	for i := range n {
		out = append(out, strings.Repeat(string(rune('a'+i%26)), int(size)))
	}
	return out
}

func (h *extrasHost) EchoMixed(ctx context.Context, m []shapes.Mixed) []shapes.Mixed { return m }
func (h *extrasHost) EchoWide(ctx context.Context, w shapes.Wide) shapes.Wide        { return w }

type extrasTicket struct {
	h *extrasHost
	n uint32
}

func (t *extrasTicket) Number(ctx context.Context) uint32 { return t.n }
func (t *extrasTicket) Drop(ctx context.Context) {
	t.h.mu.Lock()
	defer t.h.mu.Unlock()
	t.h.dropped = append(t.h.dropped, t.n)
}

func (h *extrasHost) Issue(ctx context.Context, n uint32) *guestextras.Ticket {
	return guestextras.NewHostTicket(&extrasTicket{h, n})
}

func (h *extrasHost) NewTicket(ctx context.Context, n uint32) *guestextras.Ticket {
	return guestextras.NewHostTicket(&extrasTicket{h, n})
}

func newExtras(t *testing.T) (*guestextras.Instance, *extrasHost) {
	t.Helper()
	return newExtrasWith(t, nil)
}

// newExtrasWith instantiates the extras guest with its stderr going to w.
func newExtrasWith(t *testing.T, stderr *lockedBuffer) (*guestextras.Instance, *extrasHost) {
	t.Helper()
	e, err := bindings.NewEngine(bindings.EngineConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	c := extrasGuest.compile(t, e)
	h := &extrasHost{}
	l := e.NewLinker()
	if err := guestextras.AddToLinker(l, guestextras.Imports{HostSide: h, Functions: h}); err != nil {
		t.Fatal(err)
	}
	if err := l.AddWASIP2(); err != nil {
		t.Fatal(err)
	}
	opts := bindings.StoreOptions{}
	if stderr != nil {
		opts.WASI = &bindings.WASIConfig{Stderr: stderr}
	}
	s, err := e.NewStore(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	inst, err := guestextras.Instantiate(l, s, c)
	if err != nil {
		t.Fatal(err)
	}
	return inst, h
}

func TestGuestExtrasValues(t *testing.T) {
	inst, _ := newExtras(t)
	x := inst.Extras
	ctx := context.Background()

	for _, w := range []shapes.Wide{0, shapes.WideBit0, shapes.WideBit31 | shapes.WideBit30, shapes.WideBit31 | shapes.WideBit7 | shapes.WideBit15} {
		if got, err := x.EchoWide(ctx, w); err != nil || got != w {
			t.Errorf("echo-wide %v: %v %v", w, got, err)
		}
	}
	medium := []shapes.Medium{shapes.MediumM0, shapes.MediumM11 | shapes.MediumM8, 0}
	if got, err := x.EchoMedium(ctx, medium); err != nil || !reflect.DeepEqual(got, medium) {
		t.Errorf("echo-medium: %v %v", got, err)
	}
	for _, m := range []shapes.Many{0, 255, 256, 299} {
		if got, err := x.EchoMany(ctx, m); err != nil || got != m {
			t.Errorf("echo-many %v: %v %v", m, got, err)
		}
	}

	mixed := []shapes.Mixed{
		shapes.MixedSmall{Value: -0.5}, shapes.MixedSigned{Value: math.MinInt64}, shapes.MixedDouble{Value: math.Pi},
		shapes.MixedByte{Value: 255}, shapes.MixedText{Value: "hé"},
		shapes.MixedPair{Value: struct {
			F0 float32
			F1 uint32
		}{F0: 1.5, F1: math.MaxUint32}},
		shapes.MixedNothing{},
	}
	for _, m := range mixed {
		if got, err := x.EchoMixed(ctx, m); err != nil || !reflect.DeepEqual(got, m) {
			t.Errorf("echo-mixed %#v: %#v %v", m, got, err)
		}
	}
	if got, err := x.EchoMixedList(ctx, mixed); err != nil || !reflect.DeepEqual(got, mixed) {
		t.Errorf("echo-mixed-list: %#v %v", got, err)
	}
	// The guest calls the host's echo-mixed and echo-wide: the same values
	// lowered and lifted by the guest's import side.
	relayed, err := x.Relay(ctx, mixed, shapes.WideBit29|shapes.WideBit1)
	if err != nil || !reflect.DeepEqual(relayed.F0, mixed) || relayed.F1 != shapes.WideBit29|shapes.WideBit1 {
		t.Errorf("relay: %#v %v", relayed, err)
	}

	a, b, c, d, e, f := []bool{true, false, true}, []rune{'a', '𝄞', 0}, []float32{1.5, float32(math.Inf(-1))},
		[]uint64{math.MaxUint64, 0}, []int8{-128, 127}, [][]uint16{{1, 2}, nil, {65535}}
	lists, err := x.Lists(ctx, a, b, c, d, e, f)
	if err != nil || !reflect.DeepEqual(lists.F0, a) || !reflect.DeepEqual(lists.F1, b) || !reflect.DeepEqual(lists.F2, c) ||
		!reflect.DeepEqual(lists.F3, d) || !reflect.DeepEqual(lists.F4, e) || !reflect.DeepEqual(lists.F5, f) {
		t.Errorf("lists: %+v %v", lists, err)
	}
	if one, err := x.One(ctx, struct{ F0 string }{"x"}); err != nil || one.F0 != "x" {
		t.Errorf("one: %+v %v", one, err)
	}
	long := shapes.Seventeen{F0: 1, F7: 7, F15: 255, F16: "seventeen"}
	if got, err := x.LongTuple(ctx, long); err != nil || got != long {
		t.Errorf("long-tuple: %+v %v", got, err)
	}
	five := uint32(5)
	p1 := &five
	p2 := &p1
	var none **uint32
	for _, o := range []***uint32{nil, &none, &p2} {
		got, err := x.NestedOptions(ctx, o)
		if err != nil || !reflect.DeepEqual(got, o) {
			t.Errorf("nested-options %v: %v %v", o, got, err)
		}
	}
	rs := []struct {
		OK    string
		Err   uint32
		IsErr bool
	}{{OK: "a"}, {Err: 5, IsErr: true}}
	if got, err := x.Results(ctx, rs); err != nil || !reflect.DeepEqual(got, rs) {
		t.Errorf("results: %+v %v", got, err)
	}
	if got, err := x.Chars(ctx, '𝄞'); err != nil || got != '𝄞' {
		t.Errorf("chars: %q %v", got, err)
	}

	got, err := x.ManyParams(ctx, 1, -2, 3, -4, 5.5, 6.25, 'λ', true, "nine", 10, -11, 12, -13, 14.5, 15.25, '∑', false, "eighteen")
	if want := "guest:1 -2 3 -4 5.5 6.25 λ true nine 10 -11 12 -13 14.5 15.25 ∑ false eighteen"; err != nil || got != want {
		t.Errorf("many-params: %q %v, want %q", got, err, want)
	}
	big, err := x.BigResult(ctx, 1000, 1000)
	if err != nil || len(big) != 1000 || big[999] != strings.Repeat("l", 1000) {
		t.Errorf("big-result: %d strings, %v", len(big), err)
	}
	if empty, err := x.BigResult(ctx, 0, 0); err != nil || empty != nil {
		t.Errorf("big-result empty: %v %v", empty, err)
	}

	if n, err := x.ErrString(ctx, false); err != nil || n != 7 {
		t.Errorf("err-string ok: %v %v", n, err)
	}
	_, err = x.ErrString(ctx, true)
	var re *extras.ResultError[string]
	if !errors.As(err, &re) || re.Value != "plain Go error" {
		t.Errorf("err-string: %v", err)
	}
	err = x.ErrBytes(ctx, true)
	var rb *extras.ResultError[[]uint8]
	if !errors.As(err, &rb) || !bytes.Equal(rb.Value, []byte{1, 2, 3}) {
		t.Errorf("err-bytes: %v", err)
	}
	if err := x.ErrBytes(ctx, false); err != nil {
		t.Errorf("err-bytes ok: %v", err)
	}
	if n, err := x.SleepSum(ctx, 8, 5); err != nil || n != 36 {
		t.Errorf("sleep-sum: %v %v", n, err)
	}
}

func TestGuestExtrasResources(t *testing.T) {
	inst, h := newExtras(t)
	x := inst.Extras
	ctx := context.Background()
	live := func(want uint32) {
		t.Helper()
		if n, err := x.LiveItems(ctx); err != nil || n != want {
			t.Fatalf("live items: %v %v, want %d", n, err, want)
		}
	}

	a, err := x.NewItem(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := x.NewItem(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	live(2)
	if err := a.Rename(ctx, "A"); err != nil {
		t.Fatal(err)
	}
	if labels, err := x.Labels(ctx, []*extras.Item{a, b, a}); err != nil || fmt.Sprint(labels) != "[A b A]" {
		t.Fatalf("labels (borrows in a list): %v %v", labels, err)
	}
	// An own in a record, in and out: the guest gets its value back and
	// returns it under a new handle.
	swapped, err := x.Swap(ctx, extras.Holder{Name: "h", Item: a}, "n")
	if err != nil || swapped.Name != "n" {
		t.Fatalf("swap: %+v %v", swapped, err)
	}
	if l, err := swapped.Item.Label(ctx); err != nil || l != "A+h" {
		t.Fatalf("swapped item: %q %v", l, err)
	}
	live(2)
	// An own passed in: its destructor does not run (the value is the
	// guest's again).
	if s, err := x.Consume(ctx, b); err != nil || s != "consumed b" {
		t.Fatalf("consume: %q %v", s, err)
	}
	live(1)
	// Dropping the last handle runs the value's ResourceDrop.
	if err := swapped.Item.Drop(ctx); err != nil {
		t.Fatal(err)
	}
	live(0)

	// World-level (host) resources: borrowed, owned, and passed out.
	tk := &extrasTicket{h: h, n: 7}
	if n, err := inst.Peek(ctx, guestextras.NewHostTicket(tk)); err != nil || n != 7 {
		t.Fatalf("peek: %v %v", n, err)
	}
	if n, err := inst.Redeem(ctx, guestextras.NewHostTicket(&extrasTicket{h: h, n: 9})); err != nil || n != 9 {
		t.Fatalf("redeem: %v %v", n, err)
	}
	re, err := inst.Reissue(ctx, 4)
	if err != nil || re.Host() == nil || re.Host().(*extrasTicket).n != 4 {
		t.Fatalf("reissue: %v %v", re, err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if fmt.Sprint(h.dropped) != "[9]" {
		t.Errorf("host tickets dropped: %v (the borrowed one must not be)", h.dropped)
	}
}

// TestGuestExtrasMistakes: Go code giving the bindings what WIT cannot
// carry (an error of another type, a nil variant or resource, an enum or
// flags value out of range) traps, with a message on the guest's stderr
// naming the mistake; the host survives.
func TestGuestExtrasMistakes(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name string
		call func(x *extras.Exports) error
		want string
	}{
		{"error", func(x *extras.Exports) error { _, err := x.BadError(ctx, 0); return err },
			"panic: witgen:guest/extras@0.1.0#bad-error returned an error that is not a *shapes.Oops: *errors.errorString: not an oops"},
		{"variant", func(x *extras.Exports) error { _, err := x.BadMixed(ctx); return err }, "panic: <nil> is not a case of mixed"},
		{"enum", func(x *extras.Exports) error { _, err := x.BadMany(ctx); return err }, "panic: cabi: case 300 of many does not exist (it has 300)"},
		{"flags", func(x *extras.Exports) error { _, err := x.BadWide(ctx); return err }, "panic: cabi: undefined bits 0x8000 in flags medium"},
		{"resource", func(x *extras.Exports) error { _, err := x.BadItem(ctx); return err }, "panic: cabi: a nil witgen:guest/extras@0.1.0#item"},
	} {
		t.Run(c.name, func(t *testing.T) {
			stderr := &lockedBuffer{}
			inst, _ := newExtrasWith(t, stderr)
			err := c.call(inst.Extras)
			var trap *bindings.Trap
			if !errors.As(err, &trap) {
				t.Fatalf("not a trap: %v", err)
			}
			if !strings.Contains(stderr.String(), c.want) {
				t.Errorf("stderr %.400q\nwants %q", stderr.String(), c.want)
			}
		})
	}
	// A char that is not a Unicode scalar value is refused by the host.
	inst, _ := newExtras(t)
	if _, err := inst.Extras.BadChar(ctx); err == nil {
		t.Error("an invalid char was accepted")
	}
}
