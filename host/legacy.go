package host

import (
	"context"
	"errors"
)

// newLegacyRuntime runs a legacy JSON-ABI core module.
func newLegacyRuntime(ctx context.Context, h *Host, p *Plugin, wasm []byte) (runtime, error) {
	return nil, errors.New("legacy JSON-ABI modules are not supported yet")
}
