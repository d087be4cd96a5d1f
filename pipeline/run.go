package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/driftless-dev/driftless/host"
	"github.com/driftless-dev/driftless/internal/safefile"
)

// Options are the environment of a run.
type Options struct {
	// Stdin is what a "stdin" source reads; nil means os.Stdin.
	Stdin io.Reader
	// Stdout and Stderr receive what outputs write there; nil means
	// os.Stdout and os.Stderr.
	Stdout, Stderr io.Writer
	// Dir is the directory relative paths are resolved in; "" means the
	// current directory.
	Dir string
	// Abort, when it ends, stops the run at once: plugin calls are
	// cancelled and nothing more is written. (Ending Run's context only
	// stops the sources and lets the pipeline drain.)
	Abort context.Context
	// Progress, if set, is called with the live counts every
	// ProgressInterval (default 250ms) while the pipeline runs.
	Progress         func(Stats)
	ProgressInterval time.Duration
	// Warn, if set, receives what the run reports and goes on: a batch a
	// plugin stage failed on and dropped (on_error = "skip"), a plugin
	// source that stopped, a stage's first restart after a fault. Nil
	// writes "warning: ..." lines to Stderr.
	Warn func(error)
}

// ErrAborted is returned when Options.Abort ended the run.
var ErrAborted = errors.New("pipeline aborted")

// StageError is the failure of one stage while the pipeline ran: a plugin
// error, trap or limit (the wrapped *host.Error names the plugin and the
// function), or an I/O error. The CLI exits with status 1 for it.
type StageError struct {
	Stage string // "filters[1]", as in the pipeline file
	What  string // "filter min-level of plugin js-plugin", "file output out.log"
	Err   error
}

func (e *StageError) Error() string {
	return fmt.Sprintf("%s (%s): %v", e.Stage, e.What, e.Err)
}

func (e *StageError) Unwrap() error { return e.Err }

// runner is one run of a pipeline.
type runner struct {
	cfg       *Config
	opts      Options
	dry       bool // Validate: open plugin stages, check files, run nothing
	batchSize int
	buffer    int

	stop   <-chan struct{}    // Run's context: stop reading, drain
	work   context.Context    // plugin calls; ends on failure or abort
	cancel context.CancelFunc // ends work
	abort  <-chan struct{}    // work.Done()

	errMu sync.Mutex
	err   error

	sources  []source
	srcKeys  []string
	srcWhat  []string
	parser   []parser // one per parallel instance
	parserW  string
	filters  [][]filter
	outputs  []*output
	closers  []func(context.Context) error // plugin stages, closed at the end
	sinks    map[string]*sink
	sinkList []*sink

	filterWhat []string
	outputWhat []string
	stats      counters
	start, end time.Time

	// The counters of the plugin stages, in pipeline order; parserC,
	// filterC[i] and srcC[i] are nil for built-in stages.
	pluginStages []*stageCounters
	parserC      *stageCounters
	filterC      []*stageCounters
	srcC         []*stageCounters
	parserPolicy string
	filterPolicy []string
	warnMu       sync.Mutex
}

// output is one output stage: renderers (one per parallel instance) and
// the destination they write to.
type output struct {
	key, what string
	renderers []renderer
	sink      *sink
	c         *stageCounters // nil for a built-in output
	policy    string
}

// warn reports what the run survived.
func (rn *runner) warn(err error) {
	if rn.opts.Warn != nil {
		rn.opts.Warn(err)
		return
	}
	w := rn.opts.Stderr
	if w == nil {
		w = os.Stderr
	}
	rn.warnMu.Lock()
	fmt.Fprintf(w, "warning: %v\n", err)
	rn.warnMu.Unlock()
}

// counters returns new counters for the plugin stage key.
func (rn *runner) counters(key, what string) *stageCounters {
	c := &stageCounters{key: key, what: what}
	rn.pluginStages = append(rn.pluginStages, c)
	return c
}

// fail records the first error and aborts the pipeline.
func (rn *runner) fail(err error) {
	rn.errMu.Lock()
	if rn.err == nil {
		rn.err = err
	}
	rn.errMu.Unlock()
	rn.cancel()
}

// send passes a batch on, unless the pipeline is aborted.
func (rn *runner) send(out chan<- *batch, b *batch) bool {
	select {
	case out <- b:
		return true
	case <-rn.abort:
		return false
	}
}

func (rn *runner) newLineBatch(source string) *batch {
	return &batch{source: source, lines: make([]string, 0, rn.batchSize)}
}

func (rn *runner) path(p string) string {
	if rn.opts.Dir == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(rn.opts.Dir, p)
}

// Run runs the pipeline cfg with the plugins of h (nil when it uses none)
// until its sources are exhausted.
//
// Ending ctx stops the sources: what they have read goes through every
// stage and is written, then Run returns with Stats.Interrupted set and no
// error. A stage failure (a plugin error, trap or limit, an I/O error)
// stops the pipeline at once: Run returns a *StageError (what the outputs
// had written stays written). A stage that cannot be opened because of the
// pipeline file (an unknown component, a config its schema refuses) is a
// *ConfigError.
func Run(ctx context.Context, h *host.Host, cfg *Config, opts Options) (Stats, error) {
	if opts.Abort == nil {
		opts.Abort = context.Background()
	}
	rn := &runner{
		cfg:       cfg,
		opts:      opts,
		batchSize: cfg.batchSize(),
		buffer:    cfg.buffer(),
		stop:      ctx.Done(),
		sinks:     map[string]*sink{},
	}
	rn.work, rn.cancel = context.WithCancel(opts.Abort)
	defer rn.cancel()
	rn.abort = rn.work.Done()

	err := rn.open(ctx, h)
	defer rn.closeAll(ctx)
	if err != nil {
		return rn.snapshot(), err
	}
	rn.start = time.Now()
	var progressDone chan struct{}
	stopProgress := make(chan struct{})
	if opts.Progress != nil {
		progressDone = make(chan struct{})
		go rn.progress(stopProgress, progressDone)
	}
	rn.runStages()
	close(stopProgress)
	if progressDone != nil {
		<-progressDone
	}
	rn.end = time.Now()
	if err := rn.closeStages(ctx); err != nil {
		rn.fail(err)
	}
	st := rn.snapshot()
	rn.errMu.Lock()
	err = rn.err
	rn.errMu.Unlock()
	if opts.Abort.Err() != nil {
		err = ErrAborted // stage errors are only its consequences
	}
	if err == nil && ctx.Err() != nil {
		st.Interrupted = true
	}
	return st, err
}

func (rn *runner) progress(stop, done chan struct{}) {
	defer close(done)
	every := rn.opts.ProgressInterval
	if every <= 0 {
		every = 250 * time.Millisecond
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			rn.opts.Progress(rn.snapshot())
		}
	}
}

// runStages starts every stage on goroutines of its own, connected by
// channels of rn.buffer batches, and waits for all of them.
//
//	sources ─┐
//	sources ─┼─> parser ─> filter ─> ... ─> fan-out ─┬─> output
//	         │                                       └─> output
func (rn *runner) runStages() {
	var wg sync.WaitGroup
	goStage := func(f func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f()
		}()
	}

	raw := make(chan *batch, rn.buffer)
	var srcWG sync.WaitGroup
	for i, s := range rn.sources {
		srcWG.Add(1)
		goStage(func() {
			defer srcWG.Done()
			if err := s.run(rn, raw); err != nil {
				if c := rn.srcC[i]; c != nil {
					c.failed.Add(1)
				}
				rn.fail(rn.stageError(rn.srcKeys[i], rn.srcWhat[i], err))
			}
		})
	}
	goStage(func() {
		srcWG.Wait()
		close(raw)
	})

	// The parser: batches of entries (from plugin sources) pass through.
	parsed := make(chan *batch, rn.buffer)
	parsers := make([]func(*batch) error, len(rn.parser))
	for i, p := range rn.parser {
		parsers[i] = func(b *batch) error {
			if b.parsed {
				return nil
			}
			n := len(b.lines)
			d, err := p.parse(rn.work, b)
			if err != nil {
				if rn.parserC == nil {
					return rn.stageError("parser", rn.parserW, err)
				}
				return rn.batchFailed(rn.parserC, rn.parserPolicy, n, "lines", err, func() {
					b.lines, b.entries, b.parsed = nil, nil, true
				})
			}
			rn.stats.droppedParser.Add(uint64(d))
			return nil
		}
	}
	goStage(func() { runWorkers(rn, raw, parsed, parsers, nil) })

	in := parsed
	for fi, fs := range rn.filters {
		out := make(chan *batch, rn.buffer)
		workers := make([]func(*batch) error, len(fs))
		for i, f := range fs {
			workers[i] = func(b *batch) error {
				n := len(b.entries)
				d, err := f.filter(rn.work, b)
				if err != nil {
					if rn.filterC[fi] == nil {
						return rn.stageError(fmt.Sprintf("filters[%d]", fi), rn.filterWhat[fi], err)
					}
					return rn.batchFailed(rn.filterC[fi], rn.filterPolicy[fi], n, "entries", err, func() { b.entries = nil })
				}
				rn.stats.filters[fi].Add(uint64(d))
				return nil
			}
		}
		// An emptied batch goes no further.
		from := in
		goStage(func() { runWorkers(rn, from, out, workers, func(b *batch) bool { return len(b.entries) > 0 }) })
		in = out
	}

	// Fan-out: each output gets every batch, in order.
	outs := make([]chan *batch, len(rn.outputs))
	for i := range outs {
		outs[i] = make(chan *batch, rn.buffer)
	}
	last := in
	goStage(func() {
		defer func() {
			for _, o := range outs {
				close(o)
			}
		}()
		for b := range last {
			if len(b.entries) == 0 {
				continue
			}
			rn.stats.linesOut.Add(uint64(len(b.entries)))
			for _, o := range outs {
				if !rn.send(o, b) {
					return
				}
			}
		}
	})
	for i, o := range rn.outputs {
		goStage(func() { rn.runOutput(i, o, outs[i]) })
	}
	wg.Wait()
}

// rendered is a batch an output rendered, on its way to the writer.
type rendered struct {
	b       *batch
	buf     []byte
	records int
}

// runOutput renders batches (on parallel instances when configured) and
// writes them to the output's destination in order, one write per batch.
func (rn *runner) runOutput(i int, o *output, in <-chan *batch) {
	var pool sync.Pool
	toRender := make(chan *rendered, rn.buffer)
	toWrite := make(chan *rendered, rn.buffer)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		defer close(toRender)
		for b := range in {
			if !sendT(rn, toRender, &rendered{b: b}) {
				return
			}
		}
	}()
	workers := make([]func(*rendered) error, len(o.renderers))
	for k, r := range o.renderers {
		workers[k] = func(x *rendered) error {
			var buf []byte
			if p, ok := pool.Get().(*[]byte); ok {
				buf = (*p)[:0]
			}
			var err error
			x.buf, x.records, err = r.render(rn.work, x.b, buf)
			if err != nil {
				if o.c == nil {
					return rn.stageError(o.key, o.what, err)
				}
				return rn.batchFailed(o.c, o.policy, len(x.b.entries), "entries", err, func() { x.buf, x.records = buf[:0], 0 })
			}
			return nil
		}
	}
	go func() {
		defer wg.Done()
		runWorkers(rn, toRender, toWrite, workers, nil)
	}()
	for x := range toWrite {
		if rn.work.Err() != nil {
			continue // aborted: write nothing more
		}
		if err := o.sink.write(x.buf); err != nil {
			rn.fail(rn.stageError(o.key, o.what, err))
			continue
		}
		rn.stats.records[i].Add(uint64(x.records))
		rn.stats.bytes[i].Add(uint64(len(x.buf)))
		buf := x.buf
		pool.Put(&buf)
	}
	wg.Wait()
}

// runWorkers runs one stage: each batch from in goes through one of the
// workers and on to out, in the order it came. With one worker, that is a
// loop; with n, batches are dealt round-robin to n goroutines and
// collected round-robin, which keeps the order without sequence numbers.
// keep, if set, says whether a processed batch goes on. The stage closes
// out when in is closed and drained, or when the pipeline is aborted.
func runWorkers[T any](rn *runner, in <-chan T, out chan<- T, workers []func(T) error, keep func(T) bool) {
	defer close(out)
	pass := func(x T) bool {
		if keep != nil && !keep(x) {
			return true
		}
		return sendT(rn, out, x)
	}
	if len(workers) == 1 {
		for x := range in {
			if rn.work.Err() != nil {
				return
			}
			if err := workers[0](x); err != nil {
				rn.fail(err)
				return
			}
			if !pass(x) {
				return
			}
		}
		return
	}
	n := len(workers)
	ins := make([]chan T, n)
	outs := make([]chan T, n)
	for k := range workers {
		ins[k] = make(chan T, 1)
		outs[k] = make(chan T, 1)
		go func() {
			defer close(outs[k])
			for x := range ins[k] {
				if rn.work.Err() != nil {
					return
				}
				if err := workers[k](x); err != nil {
					rn.fail(err)
					return
				}
				if !sendT(rn, outs[k], x) {
					return
				}
			}
		}()
	}
	go func() {
		defer func() {
			for _, c := range ins {
				close(c)
			}
		}()
		k := 0
		for x := range in {
			if !sendT(rn, ins[k], x) {
				return
			}
			k = (k + 1) % n
		}
	}()
	for k := 0; ; k = (k + 1) % n {
		x, ok := <-outs[k]
		if !ok {
			break
		}
		if !pass(x) {
			break
		}
	}
	// Unblock the workers and dealer if the collector stopped early.
	for k := range outs {
		for range outs[k] {
		}
	}
}

func sendT[T any](rn *runner, out chan<- T, x T) bool {
	select {
	case out <- x:
		return true
	case <-rn.abort:
		return false
	}
}

// stageError wraps an error of a stage, unless the pipeline was aborted
// and the error is only the consequence.
func (rn *runner) stageError(key, what string, err error) error {
	return &StageError{Stage: key, What: what, Err: err}
}

// closeStages closes the plugin stages (their resources are dropped in
// the plugin) and the destinations; it returns the first error.
func (rn *runner) closeStages(ctx context.Context) error {
	var first error
	cctx := context.WithoutCancel(ctx)
	for _, c := range rn.closers {
		if err := c(cctx); err != nil && first == nil && rn.work.Err() == nil {
			first = err
		}
	}
	rn.closers = nil
	for _, s := range rn.sinkList {
		if err := s.close(); err != nil && first == nil {
			first = &StageError{Stage: "outputs", What: s.name, Err: err}
		}
	}
	rn.sinkList = nil
	for _, s := range rn.sources {
		s.close()
	}
	rn.sources = nil
	return first
}

// closeAll releases whatever is still open (after a failed open).
func (rn *runner) closeAll(ctx context.Context) {
	_ = rn.closeStages(ctx)
}

// Validate checks cfg as Run would start it, without running it: the
// plugin stages are opened (so that their configs are checked against
// their schemas and their open functions run) and closed, input files must
// exist, output files' directories must exist. It returns a *ConfigError
// or a *StageError like Run.
func Validate(ctx context.Context, h *host.Host, cfg *Config, opts Options) error {
	if opts.Abort == nil {
		opts.Abort = context.Background()
	}
	rn := &runner{cfg: cfg, opts: opts, dry: true, batchSize: cfg.batchSize(), buffer: cfg.buffer(),
		stop: ctx.Done(), sinks: map[string]*sink{}}
	rn.work, rn.cancel = context.WithCancel(opts.Abort)
	defer rn.cancel()
	rn.abort = rn.work.Done()
	err := rn.open(ctx, h)
	if cerr := rn.closeStages(ctx); err == nil {
		err = cerr
	}
	return err
}

// open opens every stage: files, destinations and plugin stages.
func (rn *runner) open(ctx context.Context, h *host.Host) error {
	cfg := rn.cfg
	octx := context.WithoutCancel(ctx)
	if len(cfg.PluginStages()) > 0 {
		if h == nil {
			return errors.New("pipeline: the pipeline uses plugins but no host was given")
		}
		if err := cfg.Check(h); err != nil {
			return err
		}
	}
	p := &problems{c: cfg}
	// An output must not replace a file a source reads.
	inputs := map[string]string{}
	for i, s := range cfg.Sources {
		if s.Type == "file" {
			if abs, err := filepath.Abs(rn.path(s.Path)); err == nil {
				inputs[abs] = fmt.Sprintf("sources[%d]", i)
			}
		}
	}
	for i, o := range cfg.Outputs {
		path := o.Path
		if o.IsPlugin() {
			_, path, _ = parseTo(o.To)
		}
		if path == "" {
			continue
		}
		if abs, err := filepath.Abs(rn.path(path)); err == nil && inputs[abs] != "" {
			key := fmt.Sprintf("outputs[%d].path", i)
			if o.IsPlugin() {
				key = fmt.Sprintf("outputs[%d].to", i)
			}
			p.add(key, "%s is also the input of %s", path, inputs[abs])
		}
	}
	if err := p.err(); err != nil {
		return err
	}
	// openErr turns a failure to open a plugin stage into a problem of the
	// pipeline file when it is one (unknown component, refused config).
	openErr := func(key, what string, err error) error {
		switch host.KindOf(err) {
		case host.KindInvalidConfig:
			p.add(key+".config", "%v", err)
			return nil
		case host.KindNotFound:
			p.add(key+".name", "%v", err)
			return nil
		}
		return &StageError{Stage: key, What: what, Err: err}
	}
	plugin := func(name string) *host.Plugin {
		pl, _ := h.Plugin(name) // Check made sure it is there
		return pl
	}

	for i := range cfg.Sources {
		s := &cfg.Sources[i]
		key := fmt.Sprintf("sources[%d]", i)
		switch {
		case s.IsPlugin():
			what := fmt.Sprintf("source %s of plugin %s", s.Name, s.Plugin)
			src, err := plugin(s.Plugin).OpenSource(octx, s.Name, s.ConfigJSON())
			if err != nil {
				if err := openErr(key, what, err); err != nil {
					return err
				}
				continue
			}
			rn.closers = append(rn.closers, src.Close)
			ps := &pluginSource{key: key, label: s.Plugin + "/" + s.Name, src: src}
			c := rn.counters(key, what)
			if s.Resume {
				ps.g = newGuard(src, c, &s.Stage, rn.warn)
				ps.g.source = true
			}
			rn.addSource(key, what, ps)
			rn.srcC[len(rn.srcC)-1] = c
		case s.Type == "stdin":
			r := rn.opts.Stdin
			if r == nil {
				r = os.Stdin
			}
			rn.addSource(key, "stdin source", &lineSource{label: "stdin", r: r})
		case s.Type == "file":
			what := "file source " + s.Path
			// A file source reads a regular file: a FIFO would block the
			// open until a writer comes, and a device never ends (pipes
			// and terminals are what a stdin source is for).
			if rn.dry {
				if err := safefile.Check(rn.path(s.Path)); err != nil {
					return &StageError{Stage: key, What: what, Err: fileError(s.Path, err, true)}
				}
				continue
			}
			f, err := safefile.Open(rn.path(s.Path))
			if err != nil {
				return &StageError{Stage: key, What: what, Err: fileError(s.Path, err, true)}
			}
			rn.addSource(key, what, &lineSource{label: s.Path, r: f, closer: f, regular: true})
		}
	}

	pc := cfg.Parser
	if pc == nil {
		pc = &ParserConfig{Stage: Stage{Type: "plain"}}
	}
	n := max(pc.Parallel, 1)
	switch {
	case pc.IsPlugin():
		rn.parserW = fmt.Sprintf("parser %s of plugin %s", pc.Name, pc.Plugin)
		rn.parserC, rn.parserPolicy = rn.counters("parser", rn.parserW), pc.OnError
		for range n {
			lp, err := plugin(pc.Plugin).OpenParser(octx, pc.Name, pc.ConfigJSON())
			if err != nil {
				if err := openErr("parser", rn.parserW, err); err != nil {
					return err
				}
				break
			}
			rn.closers = append(rn.closers, lp.Close)
			rn.parser = append(rn.parser, pluginParser{lp, newGuard(lp, rn.parserC, &pc.Stage, rn.warn)})
		}
	case pc.Type == "json":
		rn.parserW = "json parser"
		jp := newJSONParser(pc)
		for range n {
			rn.parser = append(rn.parser, jp)
		}
	default:
		rn.parserW = "plain parser"
		for range n {
			rn.parser = append(rn.parser, plainParser{})
		}
	}

	rn.stats.filters = make([]atomic64, len(cfg.Filters))
	for i := range cfg.Filters {
		fc := &cfg.Filters[i]
		key := fmt.Sprintf("filters[%d]", i)
		n := max(fc.Parallel, 1)
		var fs []filter
		var what string
		var fcounters *stageCounters
		switch {
		case fc.IsPlugin():
			what = fmt.Sprintf("filter %s of plugin %s", fc.Name, fc.Plugin)
			fcounters = rn.counters(key, what)
			for range n {
				lf, err := plugin(fc.Plugin).OpenFilter(octx, fc.Name, fc.ConfigJSON())
				if err != nil {
					if err := openErr(key, what, err); err != nil {
						return err
					}
					break
				}
				rn.closers = append(rn.closers, lf.Close)
				fs = append(fs, pluginFilter{lf, newGuard(lf, fcounters, &fc.Stage, rn.warn)})
			}
		case fc.Type == "level":
			what = "level filter " + fc.Level
			for range n {
				fs = append(fs, levelFilter{min: levelRank(fc.Level)})
			}
		case fc.Type == "match":
			what = "match filter"
			mf := newMatchFilter(fc)
			for range n {
				fs = append(fs, mf)
			}
		}
		rn.filters = append(rn.filters, fs)
		rn.filterWhat = append(rn.filterWhat, what)
		rn.filterC = append(rn.filterC, fcounters)
		rn.filterPolicy = append(rn.filterPolicy, fc.OnError)
	}

	rn.stats.records = make([]atomic64, len(cfg.Outputs))
	rn.stats.bytes = make([]atomic64, len(cfg.Outputs))
	for i := range cfg.Outputs {
		oc := &cfg.Outputs[i]
		key := fmt.Sprintf("outputs[%d]", i)
		o := &output{key: key}
		n := max(oc.Parallel, 1)
		var dest, path string
		switch {
		case oc.IsPlugin():
			dest, path, _ = parseTo(oc.To)
			o.what = fmt.Sprintf("output %s of plugin %s", oc.Name, oc.Plugin)
			o.c, o.policy = rn.counters(key, o.what), oc.OnError
			for range n {
				lo, err := plugin(oc.Plugin).OpenOutput(octx, oc.Name, oc.ConfigJSON())
				if err != nil {
					if err := openErr(key, o.what, err); err != nil {
						return err
					}
					break
				}
				rn.closers = append(rn.closers, lo.Close)
				o.renderers = append(o.renderers, pluginRenderer{lo, newGuard(lo, o.c, &oc.Stage, rn.warn)})
			}
		default:
			dest, path = oc.Type, oc.Path
			o.what = oc.Type + " output"
			var r renderer = textRenderer{}
			if oc.Format == "json" {
				r = jsonRenderer{}
			}
			for range n {
				o.renderers = append(o.renderers, r)
			}
		}
		s, err := rn.sink(dest, path, oc.Append)
		if err != nil {
			return &StageError{Stage: key, What: o.what, Err: err}
		}
		if dest == "file" {
			o.what += " " + path
			if o.c != nil {
				o.c.what = o.what
			}
		}
		o.sink = s
		rn.outputs = append(rn.outputs, o)
		rn.outputWhat = append(rn.outputWhat, o.what)
	}
	return p.err()
}

func (rn *runner) addSource(key, what string, s source) {
	rn.sources = append(rn.sources, s)
	rn.srcKeys = append(rn.srcKeys, key)
	rn.srcWhat = append(rn.srcWhat, what)
	rn.srcC = append(rn.srcC, nil)
}

// fileError says what is wrong with the file of a source or output, named
// as the pipeline names it.
func fileError(path string, err error, source bool) error {
	var nr *safefile.NotRegularError
	switch {
	case errors.As(err, &nr) && source:
		return fmt.Errorf("%s %s (a file source reads a regular file; use a stdin source for a pipe)", path, nr.Reason())
	case errors.As(err, &nr):
		return fmt.Errorf("%s %s (a file output writes a regular file or a device such as /dev/null; use to = \"stdout\" or a stdout output for a pipe)", path, nr.Reason())
	}
	return err
}

// sink returns the shared destination for an output.
func (rn *runner) sink(dest, path string, appendTo bool) (*sink, error) {
	id := dest
	if dest == "file" {
		abs, err := filepath.Abs(rn.path(path))
		if err != nil {
			return nil, err
		}
		id = "file:" + abs
	}
	if s, ok := rn.sinks[id]; ok {
		return s, nil
	}
	s := &sink{name: dest}
	if rn.dry {
		if dest == "file" {
			dir := filepath.Dir(rn.path(path))
			if fi, err := os.Stat(dir); err != nil {
				return nil, err
			} else if !fi.IsDir() {
				return nil, fmt.Errorf("%s is not a directory", dir)
			}
			if err := safefile.CheckWrite(rn.path(path)); err != nil {
				return nil, fileError(path, err, false)
			}
		}
		rn.sinks[id] = s
		return s, nil
	}
	switch dest {
	case "stdout":
		s.w = rn.opts.Stdout
		if s.w == nil {
			s.w = os.Stdout
		}
	case "stderr":
		s.w = rn.opts.Stderr
		if s.w == nil {
			s.w = os.Stderr
		}
	case "file":
		flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
		if appendTo {
			flags = os.O_WRONLY | os.O_CREATE | os.O_APPEND
		}
		f, err := safefile.OpenWrite(rn.path(path), flags, 0o644)
		if err != nil {
			return nil, fileError(path, err, false)
		}
		s.name = "file " + path
		s.w, s.closer = f, f
	}
	rn.sinks[id] = s
	rn.sinkList = append(rn.sinkList, s)
	return s, nil
}
