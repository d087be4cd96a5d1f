// Package wit holds the Driftless plugin contract: the WIT package
// driftless:plugin in this directory, as the files plugin authors build
// against. `driftless plugins new` writes a copy of them into every new
// plugin project.
package wit

import "embed"

// Files are the contract's WIT files (*.wit of this directory).
//
//go:embed *.wit
var Files embed.FS
