//go:build asan

package bindings

// underASan: the test binary was built with -asan (make memcheck-asan).
// ASan keeps freed memory in quarantine, so RSS says nothing about leaks
// there; LeakSanitizer checks them instead.
const underASan = true
