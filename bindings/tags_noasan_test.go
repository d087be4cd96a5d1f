//go:build !asan

package bindings

const underASan = false
