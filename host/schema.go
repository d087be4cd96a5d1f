package host

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/driftless-dev/driftless/host/internal/jsonscan"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// maxConfigSize bounds the JSON configs and schemas the host parses.
const maxConfigSize = 1 << 20

// schema is a compiled config-schema of one definition.
type schema struct {
	compiled *jsonschema.Schema
	text     string

	// passed remembers configs that passed validation, so that calling a
	// task or template extension again with the same config (the usual
	// case) does not parse and validate it again; bounded, and emptied
	// when full.
	mu     sync.RWMutex
	passed map[string]struct{}
	bytes  int
	last   atomic.Pointer[string] // the config that passed last
}

// Bounds of schema.passed.
const (
	maxPassedConfigs = 256
	maxPassedBytes   = 1 << 20
	maxPassedConfig  = 16 << 10
)

// compileSchema compiles a plugin's config-schema. Schemas come from
// plugins, so they may not reach anything outside themselves: every $ref to
// another document (a file, a URL) fails instead of being loaded.
// An empty schema accepts any config.
func compileSchema(id, text string) (*schema, error) {
	if strings.TrimSpace(text) == "" {
		text = "{}"
	}
	if len(text) > maxConfigSize {
		return nil, fmt.Errorf("config-schema is %d bytes, more than %d", len(text), maxConfigSize)
	}
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(text))
	if err != nil {
		return nil, fmt.Errorf("config-schema is not valid JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(jsonschema.SchemeURLLoader{})
	c.DefaultDraft(jsonschema.Draft2020)
	url := "driftless:///" + id + ".json"
	if err := c.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("config-schema: %v", err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("config-schema is not a valid JSON Schema: %s", oneLine(err.Error()))
	}
	return &schema{compiled: sch, text: text}, nil
}

// SchemaError says why a config does not match a definition's
// config-schema; Violations lists each failing value by its JSON pointer.
type SchemaError struct {
	Violations []Violation
}

// Violation is one failing value of a config.
type Violation struct {
	Path    string // JSON pointer into the config, "" for the whole document
	Message string
}

func (e *SchemaError) Error() string {
	parts := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		p := v.Path
		if p == "" {
			p = "(root)"
		}
		parts[i] = "at " + p + ": " + v.Message
	}
	return "config does not match the config-schema: " + strings.Join(parts, "; ")
}

// validate checks the JSON text config against s.
func (s *schema) validate(config string) error {
	if last := s.last.Load(); last != nil && *last == config {
		return nil
	}
	s.mu.RLock()
	_, ok := s.passed[config]
	s.mu.RUnlock()
	if ok {
		return nil
	}
	v, err := parseJSON(config)
	if err != nil {
		return err
	}
	err = s.compiled.Validate(v)
	if err == nil {
		s.remember(config)
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	se := &SchemaError{}
	collectViolations(ve, se)
	sort.SliceStable(se.Violations, func(i, j int) bool { return se.Violations[i].Path < se.Violations[j].Path })
	return se
}

func (s *schema) remember(config string) {
	if len(config) > maxPassedConfig {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.passed == nil || len(s.passed) >= maxPassedConfigs || s.bytes+len(config) > maxPassedBytes {
		s.passed, s.bytes = map[string]struct{}{}, 0
	}
	s.passed[config] = struct{}{}
	s.bytes += len(config)
	s.last.Store(&config)
}

func collectViolations(ve *jsonschema.ValidationError, se *SchemaError) {
	if len(ve.Causes) == 0 {
		path := ""
		for _, p := range ve.InstanceLocation {
			path += "/" + strings.ReplaceAll(strings.ReplaceAll(p, "~", "~0"), "/", "~1")
		}
		msg := ""
		if ve.ErrorKind != nil {
			msg = ve.ErrorKind.LocalizedString(printer)
		}
		se.Violations = append(se.Violations, Violation{Path: path, Message: msg})
		return
	}
	for _, c := range ve.Causes {
		collectViolations(c, se)
	}
}

var printer = message.NewPrinter(language.English)

// parseJSON parses a config or value, bounded in size, for validation.
func parseJSON(text string) (any, error) {
	if len(text) > maxConfigSize {
		return nil, fmt.Errorf("JSON is %d bytes, more than %d", len(text), maxConfigSize)
	}
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(text))
	if err != nil {
		return nil, fmt.Errorf("not valid JSON: %v", err)
	}
	return v, nil
}

// checkJSON reports whether text is one valid JSON document.
func checkJSON(text string) error {
	if !jsonscan.Valid(text) {
		var v any
		d := json.NewDecoder(bytes.NewReader([]byte(text)))
		if err := d.Decode(&v); err != nil {
			return fmt.Errorf("not valid JSON: %v", err)
		}
		return errors.New("not valid JSON: trailing data after the value")
	}
	return nil
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
