package host

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/driftless-dev/driftless/internal/safefile"

	"github.com/driftless-dev/driftless/internal/safetext"
)

// ABI says how a plugin talks to the host.
type ABI string

// The two plugin ABIs.
const (
	// ABIComponent: a WebAssembly component implementing driftless:plugin.
	ABIComponent ABI = "component"
	// ABILegacy: a core module speaking the legacy JSON-string ABI.
	ABILegacy ABI = "legacy"
)

var wasmMagic = []byte("\x00asm")

// sniff tells what a plugin binary is from its header: a component (layer
// 1), a core module (layer 0, version 1), or neither, with a reason.
func sniff(wasm []byte) (ABI, error) {
	switch {
	case len(wasm) == 0:
		return "", errors.New("file is empty")
	case len(wasm) < 8:
		if bytes.HasPrefix(wasmMagic, wasm) || bytes.HasPrefix(wasm, wasmMagic) {
			return "", fmt.Errorf("file is truncated: %d bytes, shorter than a WebAssembly header", len(wasm))
		}
		return "", errors.New("not a WebAssembly file (no \\0asm header)")
	case !bytes.Equal(wasm[:4], wasmMagic):
		return "", errors.New("not a WebAssembly file (no \\0asm header)")
	}
	version, layer := uint16(wasm[4])|uint16(wasm[5])<<8, uint16(wasm[6])|uint16(wasm[7])<<8
	switch {
	case layer == 1:
		return ABIComponent, nil
	case layer == 0 && version == 1:
		return ABILegacy, nil
	}
	return "", fmt.Errorf("unsupported WebAssembly binary (version %d, layer %d): neither a core module nor a component", version, layer)
}

// readPlugin reads a plugin file, refusing files over max bytes without
// reading them whole.
func readPlugin(path string, max int64) ([]byte, error) {
	// A FIFO or a device named x.wasm must not hang LoadAll: safefile
	// checks the type without blocking.
	f, err := safefile.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > max {
		return nil, &sizeError{size: st.Size(), max: max}
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, &sizeError{size: int64(len(data)), max: max}
	}
	return data, nil
}

type sizeError struct{ size, max int64 }

func (e *sizeError) Error() string {
	return fmt.Sprintf("file is %d bytes, over max_plugin_size of %d bytes", e.size, e.max)
}

// maxNameEcho bounds the names messages repeat (a valid one is at most
// 128 bytes).
const maxNameEcho = 128

// Plugin names appear in "PLUGIN.TASK" references, so they have no dots.
var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$`)

// nameFromPath returns the plugin name of a file: its base name without
// the .wasm extension.
func nameFromPath(path string) string {
	return strings.TrimSuffix(filepath.Base(path), ".wasm")
}

// checkName reports why name cannot be a plugin name.
func checkName(name string) error {
	if !validName.MatchString(name) {
		return fmt.Errorf("invalid plugin name %s: use letters, digits, '-' and '_', starting with a letter or digit, at most 128 characters", safetext.Quote(name, maxNameEcho))
	}
	return nil
}
