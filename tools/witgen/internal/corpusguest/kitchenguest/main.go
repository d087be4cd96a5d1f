// Command kitchenguest is the kitchen-sink world of witgen's corpus
// (tools/witgen/testdata/corpus) written in Go against the guest bindings
// witgen generates (../witgen/corpus/...). Like testdata/corpus/kitchen-sink.wat,
// it implements every export by calling the import of the same name, so
// each value goes host → Go guest → host → Go guest → host: the corpus
// tests run it through the Go host bindings (guest_test.go).
//
// Build it with GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared, then
// wasm-tools component embed and new with the adapter of tools/goadapter.
package main

import (
	"github.com/driftless-dev/driftless/tools/witgen/internal/corpusguest/witgen/corpus/kitchen"
	"github.com/driftless-dev/driftless/tools/witgen/internal/corpusguest/witgen/corpus/kitchenexport"
	"github.com/driftless-dev/driftless/tools/witgen/internal/corpusguest/witgen/corpus/kitchensink"
	"github.com/driftless-dev/driftless/tools/witgen/internal/corpusguest/witgen/corpus/shared"
	"github.com/driftless-dev/driftless/tools/witgen/internal/corpusguest/witgen/corpus/users"
	"github.com/driftless-dev/driftless/tools/witgen/internal/corpusguest/witgen/corpus/usersexport"
	"go.bytecodealliance.org/cm"
)

func init() {
	kitchenexport.Export(kitchenImpl{})
	usersexport.Export(usersImpl{})
	kitchensink.Export(world{})
}

// main is not called: a c-shared module only runs its exports.
func main() {}

type kitchenImpl struct{}

func (kitchenImpl) EchoEverything(v kitchen.Everything) kitchen.Everything {
	return kitchen.EchoEverything(v)
}

func (kitchenImpl) EchoScalars(a bool, b int8, c uint16, d int64, e float32, f float64, g rune) cm.Tuple7[bool, int8, uint16, int64, float32, float64, rune] {
	return kitchen.EchoScalars(a, b, c, d, e, f, g)
}

func (kitchenImpl) EchoShape(s shared.Shape) shared.Shape { return kitchen.EchoShape(s) }
func (kitchenImpl) EchoFlags(p shared.Perms) shared.Perms { return kitchen.EchoFlags(p) }
func (kitchenImpl) EchoOption(o cm.Option[shared.Point]) cm.Option[shared.Point] {
	return kitchen.EchoOption(o)
}
func (kitchenImpl) EchoList(l []shared.Pair) []shared.Pair { return kitchen.EchoList(l) }
func (kitchenImpl) Note(s string)                          { kitchen.Note(s) }

// The errors of the imports are the exports' errors: the glue finds the
// WIT err value in them.
func (kitchenImpl) Fallible(p shared.Point, fail bool) (shared.Point, error) {
	return kitchen.Fallible(p, fail)
}
func (kitchenImpl) Check(code uint32) error        { return kitchen.Check(code) }
func (kitchenImpl) Solve(s string) (string, error) { return kitchen.Solve(s) }
func (kitchenImpl) Maybe(n uint32) (uint32, error) { return kitchen.Maybe(n) }
func (kitchenImpl) Bare(ok bool) error             { return kitchen.Bare(ok) }
func (kitchenImpl) NewCounter(start uint32) kitchenexport.Counter {
	return &counter{kitchen.NewCounter(start)}
}

func (kitchenImpl) CounterMerge(a, b kitchenexport.Counter) kitchenexport.Counter {
	return &counter{kitchen.CounterMerge(a.(*counter).host, b.(*counter).host)}
}

// counter is the exported counter: it wraps a host counter, which its
// destructor drops.
type counter struct{ host kitchen.Counter }

func (c *counter) Add(n uint32) uint32 { return c.host.Add(n) }
func (c *counter) Get() uint32         { return c.host.Get() }
func (c *counter) ResourceDrop()       { c.host.ResourceDrop() }

type usersImpl struct{}

func (usersImpl) Sum(a, b kitchenexport.Counter) uint32 {
	return users.Sum(a.(*counter).host, b.(*counter).host)
}

func (usersImpl) Make(n uint32) kitchenexport.Counter { return &counter{users.Make(n)} }

type world struct{}

func (world) Echo(r kitchensink.WorldRec) kitchensink.WorldRec { return kitchensink.HostEcho(r) }
