package pipeline

import (
	"testing"

	"github.com/driftless-dev/driftless/internal/testhome"
)

// TestMain runs the tests, the embedding example among them, with HOME and
// DRIFTLESS_HOME sealed: an embedding needs no home (testhome).
func TestMain(m *testing.M) { testhome.Main(m) }
