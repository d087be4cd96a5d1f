package main

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/driftless-dev/driftless/examples/go-plugin/gen/driftless/plugin/host"
	"github.com/driftless-dev/driftless/examples/go-plugin/gen/driftless/plugin/tasks"
	"github.com/driftless-dev/driftless/examples/go-plugin/gen/driftless/plugin/types"
	"go.bytecodealliance.org/cm"
)

func (plugin) Definitions() []tasks.TaskDefinition {
	return []tasks.TaskDefinition{
		{
			Name: "ensure-line",
			Kind: tasks.TaskKindApply,
			Description: "Ensures a text contains a line, like Ansible's lineinfile: config.current is the text now, " +
				"output.content the text after. Changed when the line was missing; check mode reports the diff and changes nothing.",
			ConfigSchema: schema(map[string]any{
				"line":    map[string]any{"type": "string", "minLength": 1, "description": "The line the text must contain."},
				"current": map[string]any{"type": "string", "description": "The text now (empty when absent)."},
			}, "line"),
			SupportsCheckMode: true,
		},
		{
			Name: "write-file",
			Kind: tasks.TaskKindApply,
			Description: "Ensures config.path holds config.content, like Ansible's copy: changed when it did not; " +
				"check mode reports the diff and writes nothing. Needs a directory granted in plugins.toml " +
				"(allow_wasi and dirs); without one it fails as unsupported.",
			ConfigSchema: schema(map[string]any{
				"path":    map[string]any{"type": "string", "minLength": 1, "description": "Absolute path, in a granted directory."},
				"content": map[string]any{"type": "string"},
			}, "path", "content"),
			SupportsCheckMode: true,
		},
		{
			Name:        "checksum",
			Kind:        tasks.TaskKindApply,
			Description: "Hashes config.text with config.algorithm (sha256, the default, sha1 or md5). Read-only.",
			ConfigSchema: schema(map[string]any{
				"text":      map[string]any{"type": "string"},
				"algorithm": map[string]any{"enum": []string{"sha256", "sha1", "md5"}},
			}, "text"),
			SupportsCheckMode: true,
		},
		{
			Name: "parallel-sum",
			Kind: tasks.TaskKindApply,
			Description: "Sums 1..config.upto in config.workers goroutines, each sleeping 1 ms first, " +
				"and reports the sum: Go's scheduler, channels and timers inside a plugin. Read-only.",
			ConfigSchema: schema(map[string]any{
				"upto":    map[string]any{"type": "integer", "minimum": 0, "maximum": 4000000000}, // the sum fits an int64
				"workers": map[string]any{"type": "integer", "minimum": 1, "maximum": 64},
			}, "upto"),
			SupportsCheckMode: true,
		},
		{
			Name: "allocate",
			Kind: tasks.TaskKindApply,
			Description: "Allocates and touches config.mib MiB, then frees it: what the host's max_memory allows. " +
				"Over the limit, Go's runtime aborts and the call traps.",
			ConfigSchema: schema(map[string]any{
				"mib": map[string]any{"type": "integer", "minimum": 0, "maximum": 4096},
			}, "mib"),
		},
		{
			Name: "panic",
			Kind: tasks.TaskKindApply,
			Description: "Panics with config.message: a Go panic is a trap, which the host reports and survives " +
				"(the panic's message and stack reach the host log as stderr lines).",
			ConfigSchema: schema(map[string]any{
				"message": map[string]any{"type": "string"},
			}),
		},
	}
}

func (plugin) Execute(name, config string, checkMode bool) (tasks.TaskResult, error) {
	var r tasks.TaskResult
	var err error
	switch name {
	case "ensure-line":
		r, err = ensureLine(config, checkMode)
	case "write-file":
		r, err = writeFile(config, checkMode)
	case "checksum":
		r, err = checksum(config)
	case "parallel-sum":
		r, err = parallelSum(config)
	case "allocate":
		r, err = allocate(config)
	case "panic":
		var c struct{ Message string }
		if err := decodeConfig("panic", config, &c); err != nil {
			return r, err
		}
		panic(c.Message)
	default:
		return r, fail(types.ErrorKindNotFound, "no task %q", name)
	}
	return r, asPluginError(err)
}

func ensureLine(config string, checkMode bool) (tasks.TaskResult, error) {
	var c struct {
		Line    string `json:"line"`
		Current string `json:"current"`
	}
	if err := decodeConfig("ensure-line", config, &c); err != nil {
		return tasks.TaskResult{}, err
	}
	if strings.ContainsAny(c.Line, "\r\n") {
		return tasks.TaskResult{}, fail(types.ErrorKindInvalidConfig, "ensure-line: line must be one line")
	}
	lines := strings.Split(strings.TrimSuffix(c.Current, "\n"), "\n")
	for _, l := range lines {
		if l == c.Line {
			return tasks.TaskResult{Message: "line present", Output: toJSON(map[string]any{"content": c.Current})}, nil
		}
	}
	content := c.Current
	if content != "" && !strings.HasSuffix(content, "\n") {
		content += "\n"
	}
	content += c.Line + "\n"
	diff := fmt.Sprintf("+%s", c.Line)
	msg := "added line"
	if checkMode {
		msg = "would add line"
	} else {
		host.Log(types.LevelInfo, fmt.Sprintf("added %q at %d", c.Line, host.Timestamp()))
	}
	return tasks.TaskResult{
		Changed: true,
		Message: msg,
		Output:  toJSON(map[string]any{"content": content}),
		Diff:    cm.Some(diff),
	}, nil
}

func writeFile(config string, checkMode bool) (tasks.TaskResult, error) {
	var c struct {
		Path    string `json:"path"`
		Content string `json:"content"`
	}
	if err := decodeConfig("write-file", config, &c); err != nil {
		return tasks.TaskResult{}, err
	}
	if !filepath.IsAbs(c.Path) {
		return tasks.TaskResult{}, fail(types.ErrorKindInvalidConfig, "write-file: path %q is not absolute", c.Path)
	}
	// Without a granted directory nothing exists for the plugin.
	if _, err := os.Stat(filepath.Dir(c.Path)); err != nil {
		return tasks.TaskResult{}, fail(types.ErrorKindUnsupported,
			"write-file: the directory of %s does not exist or is not granted to the plugin (allow_wasi and dirs in plugins.toml): %v", c.Path, err)
	}
	old, err := os.ReadFile(c.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return tasks.TaskResult{}, fail(types.ErrorKindFailed, "write-file: %v", err)
	case string(old) == c.Content:
		return tasks.TaskResult{Message: "unchanged", Output: toJSON(map[string]any{"path": c.Path, "size": len(old)})}, nil
	}
	diff := fmt.Sprintf("--- %s\n+++ %s\n%s%s", c.Path, c.Path, lines("-", string(old)), lines("+", c.Content))
	msg := "would write " + c.Path
	if !checkMode {
		if err := os.WriteFile(c.Path, []byte(c.Content), 0o644); err != nil {
			return tasks.TaskResult{}, fail(types.ErrorKindFailed, "write-file: %v", err)
		}
		msg = "wrote " + c.Path
	}
	return tasks.TaskResult{
		Changed: true,
		Message: msg,
		Output:  toJSON(map[string]any{"path": c.Path, "size": len(c.Content)}),
		Diff:    cm.Some(diff),
	}, nil
}

// lines prefixes every line of s, for a diff.
func lines(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n"+prefix) + "\n"
}

func checksum(config string) (tasks.TaskResult, error) {
	var c struct {
		Text      string `json:"text"`
		Algorithm string `json:"algorithm"`
	}
	if err := decodeConfig("checksum", config, &c); err != nil {
		return tasks.TaskResult{}, err
	}
	var h hash.Hash
	switch c.Algorithm {
	case "", "sha256":
		c.Algorithm, h = "sha256", sha256.New()
	case "sha1":
		h = sha1.New()
	case "md5":
		h = md5.New()
	default:
		return tasks.TaskResult{}, fail(types.ErrorKindInvalidConfig, "checksum: unknown algorithm %q", c.Algorithm)
	}
	h.Write([]byte(c.Text))
	sum := hex.EncodeToString(h.Sum(nil))
	return tasks.TaskResult{
		Message: c.Algorithm + " " + sum,
		Output:  toJSON(map[string]any{"algorithm": c.Algorithm, "hex": sum, "length": len(c.Text)}),
	}, nil
}

func parallelSum(config string) (tasks.TaskResult, error) {
	var c struct {
		Upto    int64 `json:"upto"`
		Workers int   `json:"workers"`
	}
	if err := decodeConfig("parallel-sum", config, &c); err != nil {
		return tasks.TaskResult{}, err
	}
	if c.Workers == 0 {
		c.Workers = 4
	}
	start := time.Now()
	sums := make(chan int64, c.Workers)
	var wg sync.WaitGroup
	per := c.Upto/int64(c.Workers) + 1
	for w := range c.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Millisecond) // the scheduler parks the goroutine on a timer
			var s int64
			for i := int64(w)*per + 1; i <= min(int64(w+1)*per, c.Upto); i++ {
				s += i
			}
			sums <- s
		}()
	}
	wg.Wait()
	close(sums)
	var total int64
	for s := range sums {
		total += s
	}
	return tasks.TaskResult{
		Message: fmt.Sprintf("sum of 1..%d is %d", c.Upto, total),
		Output:  toJSON(map[string]any{"sum": total, "workers": c.Workers, "elapsed_ms": time.Since(start).Milliseconds()}),
	}, nil
}

// ballast keeps an allocation reachable until it has been touched.
var ballast []byte

func allocate(config string) (tasks.TaskResult, error) {
	var c struct {
		MiB int `json:"mib"`
	}
	if err := decodeConfig("allocate", config, &c); err != nil {
		return tasks.TaskResult{}, err
	}
	ballast = make([]byte, c.MiB<<20)
	for i := 0; i < len(ballast); i += 4096 {
		ballast[i] = 1
	}
	ballast = nil
	return tasks.TaskResult{
		Changed: false,
		Message: fmt.Sprintf("allocated %d MiB", c.MiB),
		Output:  toJSON(map[string]any{"mib": c.MiB}),
	}, nil
}
