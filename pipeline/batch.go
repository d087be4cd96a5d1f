package pipeline

import (
	"github.com/driftless-dev/driftless/gen/driftless/plugin/logs"
)

// batch is the unit that moves between stages: up to batch_size lines of
// one source (before the parser) or entries (after it, or from a plugin
// source). A batch belongs to one stage at a time; after the filters, the
// outputs share it read-only.
type batch struct {
	source  string   // the source's name (a file's path, "stdin", plugin/name)
	lines   []string // raw lines, until the parser ran
	entries []logs.LogEntry
	parsed  bool // entries are set (lines are not)
}

// field is the element type of logs.LogEntry.Fields.
type field = struct {
	F0 string
	F1 string
}
