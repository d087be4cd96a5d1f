
// Appended by mk/corpus.mk to the bindings of every corpus guest. On
// wasm32-wasip2, wit-bindgen leaves `cabi_realloc` to wasi-libc, whose
// `realloc` bypasses Rust's global allocator, while wit-bindgen's runtime
// tests count allocations through it (their runners assert that every call
// frees what it allocated, on both sides). wit-bindgen's own harness builds
// the guests for wasm32-wasip1, where wit-bindgen exports this same function;
// defining it here gives the wasip2 guests the allocator the tests expect.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cabi_realloc(
    old_ptr: *mut u8,
    old_len: usize,
    align: usize,
    new_len: usize,
) -> *mut u8 {
    use std::alloc::{alloc, realloc, Layout};
    let ptr = unsafe {
        if old_len == 0 {
            if new_len == 0 {
                return align as *mut u8;
            }
            alloc(Layout::from_size_align_unchecked(new_len, align))
        } else {
            realloc(old_ptr, Layout::from_size_align_unchecked(old_len, align), new_len)
        }
    };
    if ptr.is_null() {
        std::process::abort();
    }
    ptr
}
