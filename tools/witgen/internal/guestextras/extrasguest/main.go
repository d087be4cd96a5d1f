// Command extrasguest implements world guest-extras of
// tools/witgen/testdata/guest in Go, against the guest bindings witgen
// generates into ../witgen/guest/...: guest_test.go calls every export
// through the Go host bindings (internal/guestextrasgen).
package main

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/driftless-dev/driftless/tools/witgen/internal/guestextras/witgen/guest/extras"
	"github.com/driftless-dev/driftless/tools/witgen/internal/guestextras/witgen/guest/guestextras"
	"github.com/driftless-dev/driftless/tools/witgen/internal/guestextras/witgen/guest/hostside"
	"github.com/driftless-dev/driftless/tools/witgen/internal/guestextras/witgen/guest/shapes"
	"go.bytecodealliance.org/cm"
)

func init() {
	extras.Export(impl{})
	guestextras.Export(world{})
}

func main() {}

// item is the exported resource item.
type item struct{ label string }

var liveItems int

func (i *item) Label() string       { return i.label }
func (i *item) Rename(label string) { i.label = label }
func (i *item) ResourceDrop()       { liveItems-- }

func newItem(label string) *item {
	liveItems++
	return &item{label: label}
}

type impl struct{}

func (impl) NewItem(label string) extras.Item              { return newItem(label) }
func (impl) EchoWide(w shapes.Wide) shapes.Wide            { return w }
func (impl) EchoMany(m shapes.Many) shapes.Many            { return m }
func (impl) EchoMedium(m []shapes.Medium) []shapes.Medium  { return m }
func (impl) EchoMixed(m shapes.Mixed) shapes.Mixed         { return m }
func (impl) EchoMixedList(m []shapes.Mixed) []shapes.Mixed { return m }

func (impl) Lists(a []bool, b []rune, c []float32, d []uint64, e []int8, f [][]uint16) cm.Tuple6[[]bool, []rune, []float32, []uint64, []int8, [][]uint16] {
	return cm.Tuple6[[]bool, []rune, []float32, []uint64, []int8, [][]uint16]{F0: a, F1: b, F2: c, F3: d, F4: e, F5: f}
}

func (impl) One(t struct{ F0 string }) struct{ F0 string } { return t }
func (impl) LongTuple(t shapes.Seventeen) shapes.Seventeen { return t }
func (impl) NestedOptions(o cm.Option[cm.Option[cm.Option[uint32]]]) cm.Option[cm.Option[cm.Option[uint32]]] {
	return o
}

func (impl) Results(r []struct {
	OK    string
	Err   uint32
	IsErr bool
}) []struct {
	OK    string
	Err   uint32
	IsErr bool
} {
	return r
}

func (impl) Chars(c rune) rune { return c }

func (impl) ManyParams(p0 uint8, p1 int16, p2 uint32, p3 int64, p4 float32, p5 float64, p6 rune, p7 bool, p8 string, p9 uint8, p10 int16, p11 uint32, p12 int64, p13 float32, p14 float64, p15 rune, p16 bool, p17 string) string {
	return "guest:" + hostside.ManyParams(p0, p1, p2, p3, p4, p5, p6, p7, p8, p9, p10, p11, p12, p13, p14, p15, p16, p17)
}

func (impl) BigResult(n, size uint32) []string { return hostside.BigResult(n, size) }

func (impl) Relay(m []shapes.Mixed, w shapes.Wide) cm.Tuple[[]shapes.Mixed, shapes.Wide] {
	return cm.Tuple[[]shapes.Mixed, shapes.Wide]{F0: hostside.EchoMixed(m), F1: hostside.EchoWide(w)}
}

// Consume gets the Go value of an own item back: the handle is gone, the
// value is plain Go again.
func (impl) Consume(i extras.Item) string {
	it := i.(*item)
	liveItems--
	return "consumed " + it.label
}

func (impl) Swap(h extras.Holder, name string) extras.Holder {
	it := h.Item.(*item)
	it.label += "+" + h.Name
	return extras.Holder{Name: name, Item: it}
}

func (impl) Labels(items []extras.Item) []string {
	var out []string
	for _, i := range items {
		out = append(out, i.Label())
	}
	return out
}

func (impl) ErrString(fail bool) (uint32, error) {
	if fail {
		return 0, errors.New("plain Go error")
	}
	return 7, nil
}

func (impl) ErrBytes(fail bool) error {
	if fail {
		return &extras.ResultError[[]uint8]{Value: []byte{1, 2, 3}}
	}
	return nil
}

func (impl) SleepSum(workers, millis uint32) uint64 {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var sum uint64
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(millis) * time.Millisecond)
			mu.Lock()
			sum += uint64(w) + 1
			mu.Unlock()
		}()
	}
	wg.Wait()
	return sum
}

func (impl) LiveItems() uint32 { return uint32(liveItems) }

type world struct{}

func (world) Peek(t guestextras.Ticket) uint32 { return t.Number() }

func (world) Redeem(t guestextras.Ticket) uint32 {
	n := t.Number()
	t.ResourceDrop()
	return n
}

func (world) Reissue(n uint32) guestextras.Ticket {
	t := guestextras.Issue(n)
	if t.Number() != n {
		panic(fmt.Sprintf("issue(%d) gave ticket %d", n, t.Number()))
	}
	return t
}

// The mistakes: each traps with a message on stderr.

func (impl) BadError(which uint32) (uint32, error) { return 0, errors.New("not an oops") }
func (impl) BadMixed() shapes.Mixed                { return nil }
func (impl) BadMany() shapes.Many                  { return 300 }
func (impl) BadWide() shapes.Medium                { return 1 << 15 }
func (impl) BadItem() extras.Item                  { return nil }
func (impl) BadChar() rune                         { return 0xD800 }
