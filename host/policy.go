package host

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/driftless-dev/driftless/bindings"
)

// Interface names of the contract this host implements.
const (
	ifaceTypes     = "driftless:plugin/types@0.1.0"
	ifaceHost      = "driftless:plugin/host@0.1.0"
	ifaceState     = "driftless:plugin/state@0.1.0"
	ifaceMetadata  = "driftless:plugin/metadata@0.1.0"
	ifaceTasks     = "driftless:plugin/tasks@0.1.0"
	ifaceFacts     = "driftless:plugin/facts@0.1.0"
	ifaceTemplates = "driftless:plugin/templates@0.1.0"
	ifaceLogs      = "driftless:plugin/logs@0.1.0"
)

// refusedWASI are WASI interface families no plugin gets, whatever its
// configuration: the sandbox has no network.
var refusedWASI = []string{"wasi:sockets/", "wasi:http/"}

// PolicyError lists every import of a plugin that the host refuses.
type PolicyError struct {
	Refused []string // "import NAME: reason"
}

func (e *PolicyError) Error() string {
	return "forbidden imports: " + strings.Join(e.Refused, "; ")
}

// checkComponentImports applies the import policy to a component: it may
// import driftless:plugin/host, state and types, wasi:* interfaces (served
// by a sealed WASI context) except sockets and http, and what the
// embedder's Interfaces defined in the linker (registered). Everything else
// is refused, each offending import named.
func checkComponentImports(ct *bindings.ComponentType, registered func(string) bool, own []string) error {
	var refused []string
	for _, imp := range ct.Imports {
		name := imp.Name
		switch {
		case name == ifaceHost || name == ifaceState || name == ifaceTypes:
		case strings.HasPrefix(name, "driftless:plugin/"):
			refused = append(refused, fmt.Sprintf("import %s: the host provides only %s, %s and %s of driftless:plugin", name, ifaceHost, ifaceState, ifaceTypes))
		case hasAnyPrefix(name, refusedWASI):
			refused = append(refused, fmt.Sprintf("import %s: network access is not allowed to plugins", name))
		case strings.HasPrefix(name, "wasi:"):
		case !strings.HasPrefix(name, "driftless:") && registered != nil && registered(name):
		default:
			msg := fmt.Sprintf("import %s: unknown interface; plugins may import only %s, %s and wasi:* (without sockets and http)", name, ifaceHost, ifaceState)
			if len(own) > 0 {
				msg += ", and this host's own " + strings.Join(own, ", ")
			}
			refused = append(refused, msg)
		}
	}
	if len(refused) > 0 {
		sort.Strings(refused)
		return &PolicyError{Refused: refused}
	}
	return nil
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// undefinedImports names the functions and resources a component imports
// from an interface the policy admits (the contract's, the embedder's) but
// that the host does not define: without this check the component would
// fail only when instantiated, with a less helpful message.
func (h *Host) undefinedImports(c *bindings.Component) []string {
	var ie *bindings.ImportError
	if err := h.linker.CheckImports(c); !errors.As(err, &ie) {
		return nil
	}
	var out []string
	for _, m := range ie.Missing {
		iface, _, _ := strings.Cut(m, "#")
		admitted := iface == ifaceHost || iface == ifaceState || iface == ifaceTypes ||
			(!strings.HasPrefix(iface, "driftless:") && !strings.HasPrefix(iface, "wasi:") && h.linker.Defines(iface))
		if admitted && iface != m {
			out = append(out, fmt.Sprintf("import %s: the host does not define it", m))
		}
	}
	return out
}
