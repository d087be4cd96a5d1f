package bindings

// The Go side of the raw baselines in baseline.go (a file whose C preamble
// defines functions cannot also //export).

// #include <stdint.h>
import "C"

//export dlBaselineGoTwice
func dlBaselineGoTwice(x C.uint32_t) C.uint32_t { return x * 2 }
