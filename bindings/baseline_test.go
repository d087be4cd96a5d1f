package bindings

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"unsafe"

	"github.com/driftless-dev/driftless/bindings/internal/rawcapi"
)

// The raw C API calls the benchmarks measure this package against
// (package rawcapi), fed with this package's C objects.

// baselineCall calls f n times from C with args prepared once: the cost of
// the C API itself, without any cgo transition per call.
func baselineCall(f *Func, args []Val, n int) error {
	return baseline(f, args, func(cargs unsafe.Pointer, nres int) int {
		return rawcapi.Loop(unsafe.Pointer(f.store.cx), unsafe.Pointer(&f.fn), cargs, len(args), nres, n)
	})
}

// baselineCgoCall calls f n times, one cgo transition each, with args
// prepared once: what a Go program calling the C API directly would pay.
func baselineCgoCall(f *Func, args []Val, n int) error {
	return baseline(f, args, func(cargs unsafe.Pointer, nres int) int {
		for range n {
			if rc := rawcapi.Call(unsafe.Pointer(f.store.cx), unsafe.Pointer(&f.fn), cargs, len(args), nres); rc != 0 {
				return rc
			}
		}
		return 0
	})
}

func baseline(f *Func, args []Val, run func(cargs unsafe.Pointer, nres int) int) error {
	s := f.store
	mark := s.arena.mark()
	defer s.arena.release(mark)
	cargs := s.arena.list(args)
	nres := 0
	if f.ty.Result != nil {
		nres = 1
	}
	if rc := run(unsafe.Pointer(cargs), nres); rc != 0 {
		return fmt.Errorf("baseline call of %s failed (%d)", f.name, rc)
	}
	return nil
}

// baselineCgoCallCopy is baselineCgoCall, but each result is copied into
// Go (a string for string results, else nothing) and then deleted by a
// second cgo call: the naive way to get a result out of the raw API.
func baselineCgoCallCopy(f *Func, args []Val, n int) (last string, err error) {
	err = baseline(f, args, func(cargs unsafe.Pointer, nres int) int {
		res := rawcapi.Malloc(int(sizeofVal))
		defer rawcapi.Free(res)
		for range n {
			if rc := rawcapi.CallKeep(unsafe.Pointer(f.store.cx), unsafe.Pointer(&f.fn), cargs, len(args), nres, res); rc != 0 {
				return rc
			}
			if cv := (*cVal)(res); cv.kind == cKind(KindString) {
				last = cString(cv.a, cv.b)
			}
			rawcapi.Delete(res)
		}
		return 0
	})
	return last, err
}

// baselineLinker is a raw wasmtime linker defining test:host/env#twice as a
// C function (goCallback false) or as a C function calling a minimal Go
// function (true).
type baselineLinker struct {
	ptr unsafe.Pointer
}

func newBaselineLinker(e *Engine, goCallback bool) (*baselineLinker, error) {
	p := rawcapi.NewLinker(unsafe.Pointer(e.ptr), goCallback)
	if p == nil {
		return nil, fmt.Errorf("baseline linker failed")
	}
	return &baselineLinker{ptr: p}, nil
}

func (l *baselineLinker) Close() { rawcapi.DeleteLinker(l.ptr) }

// instantiate instantiates c in s through the raw linker.
func (l *baselineLinker) instantiate(s *Store, c *Component) (*Instance, error) {
	ci := Instance{}.inst // a C value: no Go pointer may reach C
	if err := rawcapi.Instantiate(l.ptr, unsafe.Pointer(s.cx), unsafe.Pointer(c.ptr), unsafe.Pointer(&ci)); err != nil {
		return nil, err
	}
	return &Instance{store: s, comp: c, inst: ci, funcs: map[string]*Func{}}, nil
}

// instantiateFresh runs n times: a new raw store, instantiate c, delete the
// store.
func (l *baselineLinker) instantiateFresh(e *Engine, c *Component, n int) error {
	if rc := rawcapi.InstantiateFresh(unsafe.Pointer(e.ptr), l.ptr, unsafe.Pointer(c.ptr), n); rc != 0 {
		return fmt.Errorf("baseline instantiate failed")
	}
	return nil
}

// TestRawCAPIIsTestOnly: the baselines' C code and //export stay out of
// every program; only the tests of this package import them.
func TestRawCAPIIsTestOnly(t *testing.T) {
	const raw = "github.com/driftless-dev/driftless/bindings/internal/rawcapi"
	list := func(args ...string) []string {
		out, err := exec.Command("go", append([]string{"list"}, args...)...).Output()
		if err != nil {
			t.Skipf("go list: %v", err)
		}
		return strings.Fields(string(out))
	}
	var pkgs []string
	for _, p := range list("github.com/driftless-dev/driftless/...") {
		if p != raw {
			pkgs = append(pkgs, p)
		}
	}
	for _, p := range list(append([]string{"-deps"}, pkgs...)...) {
		if p == raw {
			t.Fatalf("a package of the repository imports %s", raw)
		}
	}
}
