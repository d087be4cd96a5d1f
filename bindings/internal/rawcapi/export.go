package rawcapi

// The Go side of the raw host function of NewLinker (a file whose C
// preamble defines functions cannot also //export).

// #include <stdint.h>
import "C"

//export dlBaselineGoTwice
func dlBaselineGoTwice(x C.uint32_t) C.uint32_t { return x * 2 }
