package testplugin

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/host"
)

var sample = Plugin{
	Name: "sample", Version: "1.2.3", Description: "a sample",
	Tasks: []Task{
		{Name: "ok", Description: "says ok", Do: Result(false, "all good", `{"a":1}`, "")},
		{Name: "change", CheckMode: true, Schema: `{"type":"object","required":["path"],"properties":{"path":{"type":"string"}}}`,
			Do: CheckAware(true, "changed it", "would change it", "-a\n+b")},
		{Name: "echo", Do: Echo("echoed")},
		{Name: "fail", Do: Fail("failed", "it broke")},
		{Name: "spin", Do: Spin()},
		{Name: "grow", Do: Grow()},
	},
	Collectors: []Collector{
		{Name: "info", Do: Const(`{"answer":42}`)},
		{Name: "echo", Do: Echo("")},
	},
	Extensions: []Extension{
		{Name: "wrap", Args: []Arg{{Name: "x", Required: true}}, Do: Echo("")},
		{Name: "args", Function: true, Do: Echo("")},
		{Name: "answer", Function: true, Do: Const(`42`)},
		{Name: "bad", Do: Fail("invalid-input", "nope")},
	},
}

func load(t *testing.T, p Plugin, cfg *host.Config) *host.Plugin {
	t.Helper()
	wasm, err := p.Wasm()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, p.Name+".wasm")
	if err := os.WriteFile(path, wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := host.New(host.Options{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	pl, err := h.Load(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return pl
}

func TestSample(t *testing.T) {
	ctx := context.Background()
	p := load(t, sample, nil)
	if p.Info().Version != "1.2.3" || len(p.Tasks()) != 6 || len(p.Collectors()) != 2 || len(p.Extensions()) != 4 {
		t.Fatalf("definitions: %+v %v %v %v", p.Info(), p.Tasks(), p.Collectors(), p.Extensions())
	}
	if a := p.Extensions()[0].Arguments; len(a) != 1 || a[0].Name != "x" || !a[0].Required {
		t.Errorf("arguments: %+v", a)
	}
	res, err := p.ExecuteTask(ctx, "ok", "", false)
	if err != nil || res.Message != "all good" || res.Output != `{"a":1}` || res.Changed || res.Diff != nil {
		t.Errorf("ok: %+v %v", res, err)
	}
	res, err = p.ExecuteTask(ctx, "change", `{"path":"x"}`, true)
	if err != nil || res.Message != "would change it" || !res.Changed || res.Diff == nil || *res.Diff != "-a\n+b" || res.Output != `{"check_mode":true}` {
		t.Errorf("change check: %+v %v", res, err)
	}
	res, err = p.ExecuteTask(ctx, "change", `{"path":"x"}`, false)
	if err != nil || res.Message != "changed it" {
		t.Errorf("change: %+v %v", res, err)
	}
	res, err = p.ExecuteTask(ctx, "echo", `{"x": [1, 2]}`, false)
	if err != nil || res.Output != `{"x": [1, 2]}` || res.Message != "echoed" {
		t.Errorf("echo: %+v %v", res, err)
	}
	if _, err := p.ExecuteTask(ctx, "fail", "", false); host.KindOf(err) != host.KindFailed || !strings.Contains(err.Error(), "it broke") {
		t.Errorf("fail: %v", err)
	}
	if _, err := p.ExecuteTask(ctx, "echo", "", true); host.KindOf(err) != host.KindUnsupported {
		t.Errorf("check on echo: %v", err)
	}
	out, err := p.Collect(ctx, "info", "")
	if err != nil || out != `{"answer":42}` {
		t.Errorf("collect: %q %v", out, err)
	}
	out, err = p.Collect(ctx, "echo", `{"k":"v"}`)
	if err != nil || out != `{"k":"v"}` {
		t.Errorf("collect echo: %q %v", out, err)
	}
	out, err = p.ApplyFilter(ctx, "wrap", "", `"v"`, []string{`1`, `{"a":null}`})
	if err != nil || out != `["v",1,{"a":null}]` {
		t.Errorf("filter: %q %v", out, err)
	}
	out, err = p.CallFunction(ctx, "args", "", []string{`"a"`, `true`})
	if err != nil || out != `["a",true]` {
		t.Errorf("function: %q %v", out, err)
	}
	out, err = p.CallFunction(ctx, "args", "", nil)
	if err != nil || out != `[]` {
		t.Errorf("function without args: %q %v", out, err)
	}
	out, err = p.CallFunction(ctx, "answer", "", nil)
	if err != nil || out != `42` {
		t.Errorf("answer: %q %v", out, err)
	}
	if _, err := p.ApplyFilter(ctx, "bad", "", `1`, nil); host.KindOf(err) != host.KindInvalidInput {
		t.Errorf("bad: %v", err)
	}
	// Many calls: the bump allocator is reset after each.
	for i := 0; i < 2000; i++ {
		if _, err := p.ApplyFilter(ctx, "wrap", "", `"`+strings.Repeat("x", 1000)+`"`, []string{`1`}); err != nil {
			t.Fatal(i, err)
		}
	}
}

func TestLimits(t *testing.T) {
	ctx := context.Background()
	timeout, mem := 0.3, int64(4<<20)
	p := load(t, sample, &host.Config{Security: host.Security{ExecutionTimeoutSecs: &timeout, MaxMemory: &mem}})
	start := time.Now()
	_, err := p.ExecuteTask(ctx, "spin", "", false)
	if !errors.Is(err, host.ErrTimeout) || time.Since(start) > 5*time.Second {
		t.Errorf("spin: %v after %s", err, time.Since(start))
	}
	_, err = p.ExecuteTask(ctx, "grow", "", false)
	if err == nil || !strings.Contains(err.Error(), "memory") {
		t.Errorf("grow: %v (%s)", err, host.KindOf(err))
	}
	t.Logf("grow: %v", err)
}

func TestUpper(t *testing.T) {
	p := load(t, Plugin{Name: "shout", Version: "1.0.0", Extensions: []Extension{{Name: "upper", Do: Upper()}}}, nil)
	for _, c := range []struct{ in, want string }{
		{`"hello, world"`, `"HELLO, WORLD"`},
		{`"caf\u00e9 \"quoted\" \\n"`, `"CAF\u00E9 \"QUOTED\" \\N"`},
		{`""`, `""`},
	} {
		t.Run(c.in, func(t *testing.T) {
			out, err := p.ApplyFilter(context.Background(), "upper", "", c.in, nil)
			if err != nil || out != c.want {
				t.Errorf("upper(%s) = %s, %v; want %s", c.in, out, err, c.want)
			}
		})
	}
}
