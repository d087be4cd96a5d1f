//go:build !linux

package host

import "time"

// threadCPU has no thread CPU clock here.
func threadCPU() time.Duration { return 0 }
