package host

import (
	"context"

	"github.com/driftless-dev/driftless/gen/driftless/plugin/types"
)

// stateImports implements driftless:plugin/state for components.
//
// The durable store behind it is not wired in yet: a component that imports
// state loads and runs, reads find nothing, and set fails with a plugin
// error that says so.
type stateImports struct{}

var errNoState = &types.PluginError{Kind: types.ErrorKindFailed,
	Message: "plugin state is not available in this version of the host"}

func (stateImports) Get(ctx context.Context, key string) *[]uint8 { return nil }

func (stateImports) Set(ctx context.Context, key string, value []uint8) error { return errNoState }

func (stateImports) Delete(ctx context.Context, key string) {}

func (stateImports) Keys(ctx context.Context, prefix string, startAfter *string, limit uint32) []string {
	return nil
}
