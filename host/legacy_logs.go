package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/driftless-dev/driftless/gen/driftless/plugin/logs"
	"github.com/driftless-dev/driftless/gen/driftless/plugin/types"
	"github.com/driftless-dev/driftless/host/internal/jsonscan"
)

// Log stages of a legacy plugin. The legacy ABI has one call per line or
// entry and no state between calls; the stages present that behind the
// batched stage interfaces components implement:
//
//   - parser, filter and output: a dedicated instance per open stage (as
//     for components), the stage's config kept by the host and passed to
//     every call; Parse, Keep and Write make one legacy call per line or
//     entry, all in one execution under the plugin's limits (one batch is
//     one execution, as one call of a component's stage is).
//   - source: execute_log_source is called once, when the source is
//     opened; the array it returns is then served by Next in batches of
//     the size asked, and an empty batch means it is exhausted. The
//     instance is freed right after that call: nothing else runs in it.
//
// A plugin error about one line or entry fails the whole batch (as a
// component's would), its message prefixed with the line's or entry's
// position ("line 3: ...", 1-based).

type legacyStage struct {
	li           *legacyInstance
	name, config string
}

func (s *legacyStage) memorySize() (int64, bool) {
	if s.li == nil {
		return 0, false
	}
	return int64(len(s.li.g.Tracked())), true
}

func (s *legacyStage) close(ctx context.Context) error {
	if s.li != nil {
		s.li.close()
		s.li = nil
	}
	return nil
}

// stageInstance makes the dedicated instance of a stage whose calls go to
// export.
func (rt *legacyRuntime) stageInstance(ctx context.Context, fn, export string) (*legacyInstance, error) {
	if !rt.exports.present(export) {
		return nil, &Error{Plugin: rt.p.name, Func: fn, Kind: KindNotFound, Msg: "the plugin does not export " + export}
	}
	return rt.newInstance(ctx)
}

// atItem prefixes a plugin error with the position of the item at fault.
func atItem(err error, what string, i int) error {
	var pe *types.PluginError
	if errors.As(err, &pe) {
		return &types.PluginError{Kind: pe.Kind, Message: fmt.Sprintf("%s %d: %s", what, i+1, pe.Message)}
	}
	return err
}

// Source.

type legacySource struct {
	entries []logs.LogEntry
	pos     int
}

func (s *legacySource) next(ctx context.Context, max uint32) ([]logs.LogEntry, error) {
	n := min(int(max), len(s.entries)-s.pos)
	out := s.entries[s.pos : s.pos+n : s.pos+n]
	s.pos += n
	return out, nil
}

func (s *legacySource) close(ctx context.Context) error {
	s.entries = nil
	return nil
}

func (rt *legacyRuntime) openSource(ctx context.Context, name, config string) (sourceStage, error) {
	const fn, export = "logs.open-source", "execute_log_source"
	li, err := rt.stageInstance(ctx, fn, export)
	if err != nil {
		return nil, err
	}
	defer li.close()
	var entries []logs.LogEntry
	err = li.run(ctx, fn, func() error {
		text, err := li.call(export, name, config)
		if err != nil {
			return err
		}
		entries, err = li.sourceEntries(export, text)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &legacySource{entries: entries}, nil
}

// sourceEntries maps what execute_log_source returned: an array of entry
// objects or raw lines (a line is an entry with that message).
func (li *legacyInstance) sourceEntries(export, text string) ([]logs.LogEntry, error) {
	text, obj, err := li.value(export, text)
	if err != nil {
		return nil, err
	}
	if obj != nil || jsonscan.Kind(text) != "an array" {
		return nil, li.badOutput("%s returned %s, not an array of entries", export, jsonscan.Kind(text))
	}
	var items []json.RawMessage
	if err := json.Unmarshal([]byte(text), &items); err != nil {
		return nil, li.badOutput("%s returned invalid JSON: %v", export, err)
	}
	out := make([]logs.LogEntry, 0, len(items))
	for i, item := range items {
		switch jsonscan.Kind(item) {
		case "a string":
			var line string
			_ = json.Unmarshal(item, &line)
			out = append(out, logs.LogEntry{Message: line})
		case "an object":
			obj, _ := objectOf(string(item))
			e, err := legacyEntry(obj)
			if err != nil {
				return nil, li.badOutput("%s returned entry %d whose %v", export, i+1, err)
			}
			out = append(out, e)
		default:
			return nil, li.badOutput("%s returned entry %d that is %s, neither an entry object nor a line", export, i+1, jsonscan.Kind(item))
		}
	}
	return out, nil
}

// Parser.

type legacyParser struct{ legacyStage }

func (rt *legacyRuntime) openParser(ctx context.Context, name, config string) (parserStage, error) {
	li, err := rt.stageInstance(ctx, "logs.open-parser", "execute_log_parser")
	if err != nil {
		return nil, err
	}
	return &legacyParser{legacyStage{li: li, name: name, config: config}}, nil
}

func (s *legacyParser) parse(ctx context.Context, lines []string) ([]*logs.LogEntry, error) {
	const fn, export = "logs.parser.parse", "execute_log_parser"
	li := s.li
	if li == nil {
		return nil, errStageClosed
	}
	// The ABI passes C strings of UTF-8: a line it cannot carry is refused
	// before anything runs.
	for i, line := range lines {
		if strings.IndexByte(line, 0) >= 0 {
			return nil, &Error{Plugin: li.rt.p.name, Func: fn, Kind: KindInvalidInput,
				Msg: fmt.Sprintf("line %d contains a NUL byte, which the legacy ABI cannot pass", i+1)}
		}
		if !utf8.ValidString(line) {
			return nil, &Error{Plugin: li.rt.p.name, Func: fn, Kind: KindInvalidInput,
				Msg: fmt.Sprintf("line %d is not valid UTF-8, which the legacy ABI requires", i+1)}
		}
	}
	withConfig := li.rt.exports.arity[export] == 3
	out := make([]*logs.LogEntry, len(lines))
	err := li.run(ctx, fn, func() error {
		for i, line := range lines {
			args := []string{s.name, line}
			if withConfig {
				args = []string{s.name, s.config, line}
			}
			text, err := li.call(export, args...)
			if err != nil {
				return err
			}
			e, err := li.parsed(export, i, text)
			if err != nil {
				return atItem(err, "line", i)
			}
			out[i] = e
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// parsed maps what execute_log_parser returned for line i: an entry
// object, or null to drop the line.
func (li *legacyInstance) parsed(export string, i int, text string) (*logs.LogEntry, error) {
	text, obj, err := li.value(export, text)
	if err != nil {
		return nil, err
	}
	switch jsonscan.Kind(text) {
	case "null":
		return nil, nil
	case "an object":
		e, err := legacyEntry(obj)
		if err != nil {
			return nil, li.badOutput("%s returned for line %d an entry whose %v", export, i+1, err)
		}
		return &e, nil
	}
	return nil, li.badOutput("%s returned for line %d %s, neither an entry object nor null", export, i+1, jsonscan.Kind(text))
}

// Filter.

type legacyFilter struct{ legacyStage }

func (rt *legacyRuntime) openFilter(ctx context.Context, name, config string) (filterStage, error) {
	li, err := rt.stageInstance(ctx, "logs.open-filter", "execute_log_filter")
	if err != nil {
		return nil, err
	}
	return &legacyFilter{legacyStage{li: li, name: name, config: config}}, nil
}

func (s *legacyFilter) keep(ctx context.Context, entries []logs.LogEntry) ([]bool, error) {
	const fn, export = "logs.filter.keep", "execute_log_filter"
	li := s.li
	if li == nil {
		return nil, errStageClosed
	}
	out := make([]bool, len(entries))
	err := li.run(ctx, fn, func() error {
		for i := range entries {
			text, err := li.call(export, s.name, s.config, entryJSON(&entries[i]))
			if err != nil {
				return err
			}
			keep, err := li.decision(export, i, text)
			if err != nil {
				return atItem(err, "entry", i)
			}
			out[i] = keep
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// decision maps what execute_log_filter returned: true/false or
// {"keep": bool}.
func (li *legacyInstance) decision(export string, i int, text string) (bool, error) {
	text, obj, err := li.value(export, text)
	if err != nil {
		return false, err
	}
	switch text {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	if _, present := obj.Lookup("keep"); present {
		keep, err := obj.Bool("keep", false)
		if err == nil {
			return keep, nil
		}
	}
	return false, li.badOutput("%s returned for entry %d %s, neither a boolean nor {\"keep\": boolean}", export, i+1, jsonscan.Kind(text))
}

// Output.

type legacyOutput struct{ legacyStage }

func (rt *legacyRuntime) openOutput(ctx context.Context, name, config string) (outputStage, error) {
	li, err := rt.stageInstance(ctx, "logs.open-output", "execute_log_output")
	if err != nil {
		return nil, err
	}
	return &legacyOutput{legacyStage{li: li, name: name, config: config}}, nil
}

// write makes one legacy call per entry. A string result is a record to
// deliver; an object result is the plugin's own report: an error envelope
// fails the batch, {"output": "..."} is a record, anything else (such as
// {"status": "ok"}, from a plugin that delivered the entry itself) means
// nothing to deliver.
func (s *legacyOutput) write(ctx context.Context, entries []logs.LogEntry) ([]string, error) {
	const fn, export = "logs.output.write", "execute_log_output"
	li := s.li
	if li == nil {
		return nil, errStageClosed
	}
	var out []string
	err := li.run(ctx, fn, func() error {
		for i := range entries {
			text, err := li.call(export, s.name, s.config, entryJSON(&entries[i]))
			if err != nil {
				return err
			}
			text, obj, err := li.value(export, text)
			if err != nil {
				return atItem(err, "entry", i)
			}
			switch jsonscan.Kind(text) {
			case "a string":
				var rec string
				_ = json.Unmarshal([]byte(text), &rec)
				out = append(out, rec)
			case "an object":
				rec, ok, err := obj.Str("output")
				if err != nil {
					return li.badOutput("%s returned for entry %d a result whose %v", export, i+1, err)
				}
				if ok {
					out = append(out, rec)
				}
			default:
				return li.badOutput("%s returned for entry %d %s, neither a string nor a result object", export, i+1, jsonscan.Kind(text))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

var errStageClosed = errors.New("log stage is closed")
