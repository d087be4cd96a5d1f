package host

import (
	"bytes"
	"encoding/json"
	"errors"
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
)

// JSON of the legacy ABI: what the plugin's strings mean, mapped to the
// types of the WIT contract.

// jsonMember is one member of a JSON object, in document order: its key
// decoded, its value the JSON text (a substring of the answer, not a copy).
type jsonMember struct {
	key string
	val string
}

type jsonObject []jsonMember

// get returns the value of key (the last one when the key repeats) and
// whether it is present and not null.
func (o jsonObject) get(key string) (string, bool) {
	for i := len(o) - 1; i >= 0; i-- {
		if o[i].key == key {
			if o[i].val == "null" {
				return "", false
			}
			return o[i].val, true
		}
	}
	return "", false
}

// str returns the string value of key: ok is false when absent or null;
// err is set when the value is not a string.
func (o jsonObject) str(key string) (s string, ok bool, err error) {
	raw, ok := o.get(key)
	if !ok {
		return "", false, nil
	}
	if jsonKind(raw) != "a string" {
		return "", false, fmt.Errorf("%q is %s, not a string", key, jsonKind(raw))
	}
	if s, err = jsonString(raw); err != nil {
		return "", false, fmt.Errorf("%q: %v", key, err)
	}
	return s, true, nil
}

// boolean returns the boolean value of key, def when absent or null.
func (o jsonObject) boolean(key string, def bool) (bool, error) {
	raw, ok := o.get(key)
	if !ok {
		return def, nil
	}
	switch raw {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("%q is %s, not a boolean", key, jsonKind(raw))
}

// jsonKind names the kind of a JSON value for messages.
func jsonKind[T jsonBytes](raw T) string {
	i := skipSpace(raw, 0)
	if i == len(raw) {
		return "empty"
	}
	switch raw[i] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// parseObject splits a JSON object into its members, in order, without
// decoding their values. ok is false when text is not an object. text must
// be valid JSON (every caller checks it first): the scanner relies on it.
func parseObject(text string) (obj jsonObject, ok bool, err error) {
	i := skipSpace(text, 0)
	if i >= len(text) || text[i] != '{' {
		return nil, false, nil
	}
	i = skipSpace(text, i+1)
	for i < len(text) && text[i] != '}' {
		if text[i] != '"' {
			return nil, false, errors.New("malformed object")
		}
		end := stringEnd(text, i)
		key, err := jsonString(text[i:end])
		if err != nil {
			return nil, false, err
		}
		i = skipSpace(text, end)
		if i >= len(text) || text[i] != ':' {
			return nil, false, errors.New("malformed object")
		}
		start := skipSpace(text, i+1)
		end = valueEnd(text, start)
		obj = append(obj, jsonMember{key: key, val: text[start:end]})
		i = skipSpace(text, end)
		if i < len(text) && text[i] == ',' {
			i = skipSpace(text, i+1)
		}
	}
	return obj, true, nil
}

func skipSpace[T jsonBytes](b T, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index after the string that starts at b[i] ('"').
func stringEnd(b string, i int) int {
	for i++; i < len(b); i++ {
		i = stringRun(b, i)
		if i >= len(b) {
			break
		}
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// valueEnd returns the index after the value that starts at b[i].
func valueEnd(b string, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = stringEnd(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	}
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}

// jsonString decodes a JSON string token; tokens without escapes are
// taken as they are.
func jsonString(raw string) (string, error) {
	if len(raw) >= 2 && strings.IndexByte(raw, '\\') < 0 {
		return raw[1 : len(raw)-1], nil
	}
	var s string
	err := json.Unmarshal([]byte(raw), &s)
	return s, err
}

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
	status, _, _ := obj.str("status")
	if status != "error" {
		return nil
	}
	pe := &types.PluginError{Kind: types.ErrorKindFailed}
	msg, ok, _ := obj.str("message")
	if !ok {
		msg, ok, _ = obj.str("error")
	}
	if !ok {
		msg = "the plugin reported an error without a message"
	}
	pe.Message = msg
	kind, ok, _ := obj.str("kind")
	if !ok {
		kind, _, _ = obj.str("error_kind")
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
	obj, ok := splitJSON(text)
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
	if obj == nil && jsonKind(text) != "an object" {
		return tasks.TaskResult{}, li.badOutput("%s returned %s, not a task result object", export, jsonKind(text))
	}
	var res tasks.TaskResult
	bad := func(err error) (tasks.TaskResult, error) {
		return tasks.TaskResult{}, li.badOutput("%s returned a task result whose %v", export, err)
	}
	if res.Changed, err = obj.boolean("changed", false); err != nil {
		return bad(err)
	}
	if res.Message, _, err = obj.str("message"); err != nil {
		return bad(err)
	}
	res.Output = text
	if raw, ok := obj.get("output"); ok {
		res.Output = raw
	} else if _, present := obj.member("output"); present {
		res.Output = "null"
	}
	diff, ok, err := obj.str("diff")
	if err != nil {
		return bad(err)
	}
	if ok {
		res.Diff = &diff
	}
	return res, nil
}

// member reports whether key is present at all (null included).
func (o jsonObject) member(key string) (string, bool) {
	for i := len(o) - 1; i >= 0; i-- {
		if o[i].key == key {
			return o[i].val, true
		}
	}
	return "", false
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
	switch jsonKind(raw) {
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
		obj, _, err := parseObject(raw)
		if err != nil {
			return nil, fmt.Errorf("%s returned invalid JSON: %v", export, err)
		}
		if pe := envelopeError(obj); pe != nil {
			return nil, fmt.Errorf("%s reported an error: %s", export, pe.Message)
		}
		for _, m := range obj {
			items = append(items, m.val)
			names = append(names, m.key)
		}
	default:
		return nil, fmt.Errorf("%s returned %s, not an array of definitions", export, jsonKind(raw))
	}
	out := make([]jsonObject, len(items))
	for i, item := range items {
		obj, ok, err := parseObject(item)
		if err != nil || !ok {
			return nil, fmt.Errorf("%s: definition %d is %s, not an object", export, i, jsonKind(item))
		}
		if _, has := obj.get("name"); !has && names[i] != "" {
			quoted, _ := json.Marshal(names[i])
			obj = append(obj, jsonMember{key: "name", val: string(quoted)})
		}
		out[i] = obj
	}
	return out, nil
}

// defCommon reads the name, description and config_schema of a definition.
// config_schema may be a JSON object (or boolean schema), or a string that
// holds one; absent or null means "any config".
func defCommon(export string, i int, d jsonObject) (name, desc, schema string, err error) {
	name, _, err = d.str("name")
	if err != nil {
		return "", "", "", fmt.Errorf("%s: definition %d: %v", export, i, err)
	}
	where := fmt.Sprintf("%s: %q", export, name)
	if desc, _, err = d.str("description"); err != nil {
		return "", "", "", fmt.Errorf("%s: %v", where, err)
	}
	raw, ok := d.get("config_schema")
	if !ok {
		return name, desc, "", nil
	}
	switch jsonKind(raw) {
	case "an object", "a boolean":
		schema = raw
	case "a string":
		schema, _ = jsonString(raw)
	default:
		return "", "", "", fmt.Errorf("%s: config_schema is %s, not a JSON Schema object or a string holding one", where, jsonKind(raw))
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
		typ, ok, err := d.str("type")
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
		typ, ok, err := d.str("type")
		if err == nil && !ok {
			typ, ok, err = d.str("extension_type")
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
		if def.Category, _, err = d.str("category"); err != nil {
			return nil, fmt.Errorf("%s: %v", where, err)
		}
		if raw, ok := d.get("arguments"); ok {
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
		return nil, fmt.Errorf("%s, not an array", jsonKind(raw))
	}
	out := make([]templates.Argument, 0, len(items))
	for i, item := range items {
		var a templates.Argument
		switch jsonKind(item) {
		case "a string":
			_ = json.Unmarshal(item, &a.Name)
		case "an array":
			var pair []string
			if err := json.Unmarshal(item, &pair); err != nil || len(pair) != 2 {
				return nil, fmt.Errorf("argument %d is an array, but not a [name, description] pair of strings", i)
			}
			a.Name, a.Description = pair[0], pair[1]
		case "an object":
			obj, _, err := parseObject(string(item))
			if err != nil {
				return nil, err
			}
			if a.Name, _, err = obj.str("name"); err != nil {
				return nil, fmt.Errorf("argument %d: %v", i, err)
			}
			if a.Description, _, err = obj.str("description"); err != nil {
				return nil, fmt.Errorf("argument %d: %v", i, err)
			}
			if a.Required, err = obj.boolean("required", false); err != nil {
				return nil, fmt.Errorf("argument %d: %v", i, err)
			}
		default:
			return nil, fmt.Errorf("argument %d is %s, not a name, a [name, description] pair or an object", i, jsonKind(item))
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
		switch m.key {
		case "timestamp":
			ts, err := legacyTimestamp(m.val)
			if err != nil {
				return logs.LogEntry{}, err
			}
			e.Timestamp = ts
		case "level":
			if m.val == "null" {
				e.Level = nil
				continue
			}
			l := jsonText(m.val)
			e.Level = &l
		case "message":
			e.Message = jsonText(m.val)
		case "source":
			e.Source = jsonText(m.val)
		default:
			v := jsonText(m.val)
			if i, dup := seen[m.key]; dup {
				e.Fields[i].F1 = v
				continue
			}
			seen[m.key] = len(e.Fields)
			e.Fields = append(e.Fields, struct {
				F0 string
				F1 string
			}{m.key, v})
		}
	}
	return e, nil
}

// jsonText is a string value itself, or the compact JSON text of any other
// value.
func jsonText(raw string) string {
	if jsonKind(raw) == "a string" {
		if s, err := jsonString(raw); err == nil {
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
	switch jsonKind(raw) {
	case "null":
		return 0, nil
	case "a string":
		s, _ := jsonString(raw)
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
	return 0, fmt.Errorf("timestamp is %s, not a number of seconds or milliseconds or an RFC 3339 string", jsonKind(raw))
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
		if v := strings.TrimSpace(f.F1); v != "" && json.Valid([]byte(v)) && strings.IndexAny(v[:1], "{[tfn-0123456789") == 0 {
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
