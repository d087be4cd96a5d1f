package host

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/driftless-dev/driftless/gen/driftless/plugin/facts"
	"github.com/driftless-dev/driftless/gen/driftless/plugin/logs"
	"github.com/driftless-dev/driftless/gen/driftless/plugin/tasks"
	"github.com/driftless-dev/driftless/gen/driftless/plugin/templates"
	"github.com/driftless-dev/driftless/gen/driftless/plugin/types"
	"github.com/driftless-dev/driftless/host/internal/jsonscan"
)

// JSON of the legacy ABI: what the plugin's strings mean, mapped to the
// types of the WIT contract.

// jsonObject is a JSON object taken apart by jsonscan.Split: its members
// by key, their values still JSON text.
type jsonObject = jsonscan.Object

// jsonError describes why text is not one JSON value, or "".
func jsonError(text string) string {
	if err := checkJSON(text); err != nil {
		return strings.TrimPrefix(err.Error(), "not valid JSON: ")
	}
	return ""
}

// envelopeError returns the plugin error of a {"status": "error"} result
// object, or nil. The message is "message" (else "error"); the kind is
// "kind" or "error_kind" when it names one of the contract's kinds
// (invalid-config, invalid-input, not-found, unsupported, failed; '_' may
// stand for '-'), else failed.
func envelopeError(obj jsonObject) *types.PluginError {
	status, _, _ := obj.Str("status")
	if status != "error" {
		return nil
	}
	pe := &types.PluginError{Kind: types.ErrorKindFailed}
	msg, ok, _ := obj.Str("message")
	if !ok {
		msg, ok, _ = obj.Str("error")
	}
	if !ok {
		msg = "the plugin reported an error without a message"
	}
	pe.Message = msg
	kind, ok, _ := obj.Str("kind")
	if !ok {
		kind, _, _ = obj.Str("error_kind")
	}
	switch strings.ReplaceAll(strings.ToLower(kind), "_", "-") {
	case "invalid-config":
		pe.Kind = types.ErrorKindInvalidConfig
	case "invalid-input":
		pe.Kind = types.ErrorKindInvalidInput
	case "not-found":
		pe.Kind = types.ErrorKindNotFound
	case "unsupported":
		pe.Kind = types.ErrorKindUnsupported
	}
	return pe
}

// value checks the result of an execution function: valid JSON, and not
// an error envelope. It returns the text, trimmed, and its object members
// when it is an object.
func (li *legacyInstance) value(export, text string) (string, jsonObject, error) {
	obj, ok := jsonscan.Split(text)
	if !ok {
		return "", nil, li.badOutput("%s returned invalid JSON: %s", export, jsonError(text))
	}
	text = strings.TrimSpace(text)
	if pe := envelopeError(obj); pe != nil {
		return "", nil, pe
	}
	return text, obj, nil
}

// taskResult maps a task result: "changed" (default false), "message"
// (default ""), "output" (the member, else the whole object), "diff".
func (li *legacyInstance) taskResult(text string) (tasks.TaskResult, error) {
	const export = "execute_task"
	text, obj, err := li.value(export, text)
	if err != nil {
		return tasks.TaskResult{}, err
	}
	if obj == nil && jsonscan.Kind(text) != "an object" {
		return tasks.TaskResult{}, li.badOutput("%s returned %s, not a task result object", export, jsonscan.Kind(text))
	}
	var res tasks.TaskResult
	bad := func(err error) (tasks.TaskResult, error) {
		return tasks.TaskResult{}, li.badOutput("%s returned a task result whose %v", export, err)
	}
	if res.Changed, err = obj.Bool("changed", false); err != nil {
		return bad(err)
	}
	if res.Message, _, err = obj.Str("message"); err != nil {
		return bad(err)
	}
	res.Output = text
	if raw, ok := obj.Get("output"); ok {
		res.Output = raw
	} else if _, present := obj.Lookup("output"); present {
		res.Output = "null"
	}
	diff, ok, err := obj.Str("diff")
	if err != nil {
		return bad(err)
	}
	if ok {
		res.Diff = &diff
	}
	return res, nil
}

// objectOf takes apart text as a JSON object: ok is false when text is not
// valid JSON or not an object.
func objectOf(text string) (obj jsonObject, ok bool) {
	obj, ok = jsonscan.Split(text)
	return obj, ok && jsonscan.Kind(text) == "an object"
}

// Definitions.

// defList parses what a definition function returned: an array of
// definition objects, or an object whose members are definitions keyed by
// name. Each item is returned with its name.
func defList(export, text string) ([]jsonObject, error) {
	if msg := jsonError(text); msg != "" {
		return nil, fmt.Errorf("%s returned invalid JSON: %s", export, msg)
	}
	raw := strings.TrimSpace(text)
	var items []string
	var names []string
	switch jsonscan.Kind(raw) {
	case "an array":
		var list []json.RawMessage
		if err := json.Unmarshal([]byte(raw), &list); err != nil {
			return nil, fmt.Errorf("%s returned invalid JSON: %v", export, err)
		}
		for _, item := range list {
			items = append(items, string(item))
		}
		names = make([]string, len(items))
	case "an object":
		obj, _ := objectOf(raw)
		if pe := envelopeError(obj); pe != nil {
			return nil, fmt.Errorf("%s reported an error: %s", export, pe.Message)
		}
		for _, m := range obj {
			items = append(items, m.Value)
			names = append(names, m.Key)
		}
	default:
		return nil, fmt.Errorf("%s returned %s, not an array of definitions", export, jsonscan.Kind(raw))
	}
	out := make([]jsonObject, len(items))
	for i, item := range items {
		obj, ok := objectOf(item)
		if !ok {
			return nil, fmt.Errorf("%s: definition %d is %s, not an object", export, i, jsonscan.Kind(item))
		}
		if _, has := obj.Get("name"); !has && names[i] != "" {
			quoted, _ := json.Marshal(names[i])
			obj = append(obj, jsonscan.Member{Key: "name", Value: string(quoted)})
		}
		out[i] = obj
	}
	return out, nil
}

// defCommon reads the name, description and config_schema of a definition.
// config_schema may be a JSON object (or boolean schema), or a string that
// holds one; absent or null means "any config".
func defCommon(export string, i int, d jsonObject) (name, desc, schema string, err error) {
	name, _, err = d.Str("name")
	if err != nil {
		return "", "", "", fmt.Errorf("%s: definition %d: %v", export, i, err)
	}
	where := fmt.Sprintf("%s: %q", export, name)
	if desc, _, err = d.Str("description"); err != nil {
		return "", "", "", fmt.Errorf("%s: %v", where, err)
	}
	raw, ok := d.Get("config_schema")
	if !ok {
		return name, desc, "", nil
	}
	switch jsonscan.Kind(raw) {
	case "an object", "a boolean":
		schema = raw
	case "a string":
		schema, _ = jsonscan.Unquote(raw)
	default:
		return "", "", "", fmt.Errorf("%s: config_schema is %s, not a JSON Schema object or a string holding one", where, jsonscan.Kind(raw))
	}
	return name, desc, schema, nil
}

func taskDefinitions(text string) ([]tasks.TaskDefinition, error) {
	const export = "get_task_definitions"
	list, err := defList(export, text)
	if err != nil {
		return nil, err
	}
	var out []tasks.TaskDefinition
	for i, d := range list {
		name, desc, schema, err := defCommon(export, i, d)
		if err != nil {
			return nil, err
		}
		typ, ok, err := d.Str("type")
		if err != nil {
			return nil, fmt.Errorf("%s: %q: %v", export, name, err)
		}
		def := tasks.TaskDefinition{Name: name, Description: desc, ConfigSchema: schema}
		switch {
		case !ok || typ == "apply":
			def.Kind = tasks.TaskKindApply
		case typ == "facts":
			def.Kind = tasks.TaskKindFacts
		case typ == "logs":
			def.Kind = tasks.TaskKindLogs
		default:
			return nil, fmt.Errorf("%s: %q: type %q is not apply, facts or logs", export, name, typ)
		}
		// Legacy tasks know nothing of check mode.
		def.SupportsCheckMode = false
		out = append(out, def)
	}
	return out, nil
}

func collectorDefinitions(text string) ([]facts.CollectorDefinition, error) {
	const export = "get_facts_collectors"
	list, err := defList(export, text)
	if err != nil {
		return nil, err
	}
	var out []facts.CollectorDefinition
	for i, d := range list {
		name, desc, schema, err := defCommon(export, i, d)
		if err != nil {
			return nil, err
		}
		out = append(out, facts.CollectorDefinition{Name: name, Description: desc, ConfigSchema: schema})
	}
	return out, nil
}

func extensionDefinitions(text string) ([]templates.ExtensionDefinition, error) {
	const export = "get_template_extensions"
	list, err := defList(export, text)
	if err != nil {
		return nil, err
	}
	var out []templates.ExtensionDefinition
	for i, d := range list {
		name, desc, schema, err := defCommon(export, i, d)
		if err != nil {
			return nil, err
		}
		where := fmt.Sprintf("%s: %q", export, name)
		typ, ok, err := d.Str("type")
		if err == nil && !ok {
			typ, ok, err = d.Str("extension_type")
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %v", where, err)
		}
		def := templates.ExtensionDefinition{Name: name, Description: desc, ConfigSchema: schema}
		switch typ {
		case "filter":
			def.Kind = templates.ExtensionKindFilter
		case "function":
			def.Kind = templates.ExtensionKindFunction
		default:
			if !ok {
				return nil, fmt.Errorf("%s: has no type (filter or function)", where)
			}
			return nil, fmt.Errorf("%s: type %q is not filter or function", where, typ)
		}
		if def.Category, _, err = d.Str("category"); err != nil {
			return nil, fmt.Errorf("%s: %v", where, err)
		}
		if raw, ok := d.Get("arguments"); ok {
			if def.Arguments, err = legacyArguments(raw); err != nil {
				return nil, fmt.Errorf("%s: arguments: %v", where, err)
			}
		}
		out = append(out, def)
	}
	return out, nil
}

// legacyArguments maps "arguments": a list of names, of [name,
// description] pairs (the original host's form), or of objects with
// "name", "description" and "required" (default false).
func legacyArguments(raw string) ([]templates.Argument, error) {
	var items []json.RawMessage
	if err := json.Unmarshal([]byte(raw), &items); err != nil {
		return nil, fmt.Errorf("%s, not an array", jsonscan.Kind(raw))
	}
	out := make([]templates.Argument, 0, len(items))
	for i, item := range items {
		var a templates.Argument
		switch jsonscan.Kind(item) {
		case "a string":
			_ = json.Unmarshal(item, &a.Name)
		case "an array":
			var pair []string
			if err := json.Unmarshal(item, &pair); err != nil || len(pair) != 2 {
				return nil, fmt.Errorf("argument %d is an array, but not a [name, description] pair of strings", i)
			}
			a.Name, a.Description = pair[0], pair[1]
		case "an object":
			obj, _ := objectOf(string(item))
			var err error
			if a.Name, _, err = obj.Str("name"); err != nil {
				return nil, fmt.Errorf("argument %d: %v", i, err)
			}
			if a.Description, _, err = obj.Str("description"); err != nil {
				return nil, fmt.Errorf("argument %d: %v", i, err)
			}
			if a.Required, err = obj.Bool("required", false); err != nil {
				return nil, fmt.Errorf("argument %d: %v", i, err)
			}
		default:
			return nil, fmt.Errorf("argument %d is %s, not a name, a [name, description] pair or an object", i, jsonscan.Kind(item))
		}
		if a.Name == "" {
			return nil, fmt.Errorf("argument %d has no name", i)
		}
		out = append(out, a)
	}
	return out, nil
}

func logDefinitions(export, text string, kind logs.ComponentKind) ([]logs.ComponentDefinition, error) {
	list, err := defList(export, text)
	if err != nil {
		return nil, err
	}
	var out []logs.ComponentDefinition
	for i, d := range list {
		name, desc, schema, err := defCommon(export, i, d)
		if err != nil {
			return nil, err
		}
		out = append(out, logs.ComponentDefinition{Name: name, Kind: kind, Description: desc, ConfigSchema: schema})
	}
	return out, nil
}

// Log entries.

// legacyEntry maps a legacy log entry object to the WIT log-entry:
// "timestamp" (Unix seconds, or milliseconds when 1e11 or more, or an RFC
// 3339 string) becomes nanoseconds; "level", "message" and "source" their
// fields; every other member a field, in the order of the object (a key
// given twice keeps its first place and its last value), its value the
// string itself for strings, else its JSON text.
func legacyEntry(obj jsonObject) (logs.LogEntry, error) {
	var e logs.LogEntry
	seen := map[string]int{}
	for _, m := range obj {
		switch m.Key {
		case "timestamp":
			ts, err := legacyTimestamp(m.Value)
			if err != nil {
				return logs.LogEntry{}, err
			}
			e.Timestamp = ts
		case "level":
			if m.Value == "null" {
				e.Level = nil
				continue
			}
			l := jsonText(m.Value)
			e.Level = &l
		case "message":
			e.Message = jsonText(m.Value)
		case "source":
			e.Source = jsonText(m.Value)
		default:
			v := jsonText(m.Value)
			if i, dup := seen[m.Key]; dup {
				e.Fields[i].F1 = v
				continue
			}
			seen[m.Key] = len(e.Fields)
			e.Fields = append(e.Fields, struct {
				F0 string
				F1 string
			}{m.Key, v})
		}
	}
	return e, nil
}

// jsonText is a string value itself, or the compact JSON text of any other
// value.
func jsonText(raw string) string {
	if jsonscan.Kind(raw) == "a string" {
		if s, err := jsonscan.Unquote(raw); err == nil {
			return s
		}
	}
	var b bytes.Buffer
	if json.Compact(&b, []byte(raw)) == nil {
		return b.String()
	}
	return raw
}

// legacyTimestamp converts a legacy timestamp to Unix nanoseconds.
func legacyTimestamp(raw string) (uint64, error) {
	switch jsonscan.Kind(raw) {
	case "null":
		return 0, nil
	case "a string":
		s, _ := jsonscan.Unquote(raw)
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return 0, fmt.Errorf("timestamp %q is not RFC 3339", s)
		}
		if t.Before(time.Unix(0, 0)) {
			return 0, fmt.Errorf("timestamp %q is before 1970", s)
		}
		return uint64(t.UnixNano()), nil
	case "a number":
		text := strings.TrimSpace(raw)
		if v, err := strconv.ParseUint(text, 10, 64); err == nil {
			// An integer: exact.
			unit := uint64(1e9) // seconds
			if v >= 1e11 {
				unit = 1e6 // milliseconds
			}
			if v > math.MaxUint64/unit {
				return 0, fmt.Errorf("timestamp %s is out of range", text)
			}
			return v * unit, nil
		}
		f, err := strconv.ParseFloat(text, 64)
		if err != nil || f < 0 || math.IsInf(f, 0) {
			return 0, fmt.Errorf("timestamp %s is not a Unix time", text)
		}
		ns := f * 1e9 // seconds
		if f >= 1e11 {
			ns = f * 1e6 // milliseconds
		}
		if ns >= math.MaxUint64 {
			return 0, fmt.Errorf("timestamp %s is out of range", text)
		}
		return uint64(math.Round(ns)), nil
	}
	return 0, fmt.Errorf("timestamp is %s, not a number of seconds or milliseconds or an RFC 3339 string", jsonscan.Kind(raw))
}

// entryJSON renders a log entry for a legacy filter, output or (as a line)
// parser: "timestamp" as RFC 3339 with nanoseconds in UTC (absent when 0),
// "level" (when set), "message", "source", then the fields in order. A
// field value that is JSON text of a number, boolean, object or array
// (which is how legacy entries carry such values) is passed as that value;
// any other field value as a string.
func entryJSON(e *logs.LogEntry) string {
	var b bytes.Buffer
	b.WriteByte('{')
	comma := false
	member := func(key string, val []byte) {
		if comma {
			b.WriteByte(',')
		}
		comma = true
		k, _ := json.Marshal(key)
		b.Write(k)
		b.WriteByte(':')
		b.Write(val)
	}
	str := func(s string) []byte {
		v, _ := json.Marshal(s)
		return v
	}
	if e.Timestamp != 0 {
		member("timestamp", str(time.Unix(0, int64(e.Timestamp)).UTC().Format(time.RFC3339Nano)))
	}
	if e.Level != nil {
		member("level", str(*e.Level))
	}
	member("message", str(e.Message))
	member("source", str(e.Source))
	for _, f := range e.Fields {
		switch f.F0 {
		case "timestamp", "level", "message", "source":
			continue // cannot shadow the entry's own members
		}
		if v := strings.TrimSpace(f.F1); v != "" && jsonscan.Valid(v) && strings.IndexAny(v[:1], "{[tfn-0123456789") == 0 {
			var c bytes.Buffer
			_ = json.Compact(&c, []byte(v))
			member(f.F0, c.Bytes())
			continue
		}
		member(f.F0, str(f.F1))
	}
	b.WriteByte('}')
	return b.String()
}
