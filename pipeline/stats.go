package pipeline

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
)

// Stats counts what went through a pipeline. After a run that completed or
// was interrupted (and drained), LinesIn = LinesOut + Dropped.
type Stats struct {
	// LinesIn is the lines the built-in sources read plus the entries the
	// plugin sources produced.
	LinesIn uint64
	// LinesOut is the entries that passed every filter and went to the
	// outputs (each output gets each of them).
	LinesOut uint64
	// Dropped is DroppedParser + DroppedFilters + DroppedErrors.
	Dropped uint64
	// DroppedParser is the lines the parser dropped (invalid JSON, a
	// plugin parser's none).
	DroppedParser uint64
	// DroppedFilters is the entries filters removed.
	DroppedFilters uint64
	// DroppedErrors is the lines and entries of the batches a plugin
	// parser or filter failed on and dropped (on_error = "skip").
	DroppedErrors uint64
	// Filters and Outputs detail each stage, in pipeline order.
	Filters []FilterStats
	Outputs []OutputStats
	// PluginStages tell, for each plugin stage, how often its instance
	// was replaced and what it failed on.
	PluginStages []PluginStageStats
	// Duration is the time the pipeline ran (after its stages opened).
	Duration time.Duration
	// LinesPerSecond is LinesIn / Duration.
	LinesPerSecond float64
	// Interrupted is set when the run was stopped (its context ended) and
	// drained what it had read.
	Interrupted bool
}

// FilterStats is what one filter removed.
type FilterStats struct {
	Stage   string `json:"stage"` // "filters[0]"
	What    string `json:"what"`  // "level filter", "filter min-level of plugin js-plugin"
	Dropped uint64 `json:"dropped"`
}

// OutputStats is what one output wrote.
type OutputStats struct {
	Stage   string `json:"stage"`
	What    string `json:"what"`
	Records uint64 `json:"records"`
	Bytes   uint64 `json:"bytes"`
}

// PluginStageStats is what happened to one plugin stage's instances.
type PluginStageStats struct {
	Stage string `json:"stage"`
	What  string `json:"what"`
	// Restarts counts instances replaced after a trap or a limit (the
	// batch, or a resumable source's next, was retried on the fresh one).
	Restarts uint64 `json:"restarts"`
	// Recycles counts instances of a stateless stage replaced before they
	// wore out.
	Recycles uint64 `json:"recycles"`
	// FailedBatches counts the batches the stage failed on (for a source:
	// the failure that stopped it); Lost the lines or entries of those it
	// dropped (on_error = "skip"; for an output, entries not written).
	FailedBatches uint64 `json:"failed_batches"`
	Lost          uint64 `json:"lost"`
}

// MarshalJSON writes the stats with snake_case keys and durations in
// seconds.
func (s Stats) MarshalJSON() ([]byte, error) {
	type out struct {
		LinesIn        uint64             `json:"lines_in"`
		LinesOut       uint64             `json:"lines_out"`
		Dropped        uint64             `json:"dropped"`
		DroppedParser  uint64             `json:"dropped_parser"`
		DroppedFilters uint64             `json:"dropped_filters"`
		DroppedErrors  uint64             `json:"dropped_errors"`
		Filters        []FilterStats      `json:"filters"`
		Outputs        []OutputStats      `json:"outputs"`
		PluginStages   []PluginStageStats `json:"plugin_stages"`
		Seconds        float64            `json:"duration_seconds"`
		LinesPerSecond float64            `json:"lines_per_second"`
		Interrupted    bool               `json:"interrupted"`
	}
	o := out{s.LinesIn, s.LinesOut, s.Dropped, s.DroppedParser, s.DroppedFilters, s.DroppedErrors, s.Filters, s.Outputs,
		s.PluginStages, s.Duration.Seconds(), s.LinesPerSecond, s.Interrupted}
	if o.Filters == nil {
		o.Filters = []FilterStats{}
	}
	if o.Outputs == nil {
		o.Outputs = []OutputStats{}
	}
	if o.PluginStages == nil {
		o.PluginStages = []PluginStageStats{}
	}
	return json.Marshal(o)
}

// Summary is the one-line text form: "1000 lines in, 950 out, 50 dropped
// (parser 10, filters 40), 1.2s, 833 lines/s".
func (s Stats) Summary() string {
	var b strings.Builder
	errs := ""
	if s.DroppedErrors > 0 {
		errs = fmt.Sprintf(", errors %d", s.DroppedErrors)
	}
	fmt.Fprintf(&b, "%d lines in, %d out, %d dropped (parser %d, filters %d%s), %s, %s lines/s",
		s.LinesIn, s.LinesOut, s.Dropped, s.DroppedParser, s.DroppedFilters, errs,
		s.Duration.Round(time.Millisecond), formatRate(s.LinesPerSecond))
	if s.Interrupted {
		b.WriteString(" (interrupted)")
	}
	return b.String()
}

func formatRate(r float64) string {
	switch {
	case r >= 1e6:
		return fmt.Sprintf("%.2fM", r/1e6)
	case r >= 1e4:
		return fmt.Sprintf("%.0fk", r/1e3)
	}
	return fmt.Sprintf("%.0f", r)
}

// counters are the live counts, updated once per batch.
type counters struct {
	linesIn       atomic.Uint64
	linesOut      atomic.Uint64
	droppedParser atomic.Uint64
	filters       []atomic64
	records       []atomic64
	bytes         []atomic64
}

type atomic64 = atomic.Uint64

func (rn *runner) snapshot() Stats {
	c := &rn.stats
	s := Stats{
		LinesIn:       c.linesIn.Load(),
		LinesOut:      c.linesOut.Load(),
		DroppedParser: c.droppedParser.Load(),
	}
	for i := range c.filters {
		d := c.filters[i].Load()
		s.DroppedFilters += d
		s.Filters = append(s.Filters, FilterStats{Stage: fmt.Sprintf("filters[%d]", i), What: at(rn.filterWhat, i), Dropped: d})
	}
	for i := range c.records {
		s.Outputs = append(s.Outputs, OutputStats{Stage: fmt.Sprintf("outputs[%d]", i), What: at(rn.outputWhat, i),
			Records: c.records[i].Load(), Bytes: c.bytes[i].Load()})
	}
	if rn.parserC != nil {
		s.DroppedErrors += rn.parserC.lost.Load()
	}
	for _, c := range rn.filterC {
		if c != nil {
			s.DroppedErrors += c.lost.Load()
		}
	}
	for _, c := range rn.pluginStages {
		s.PluginStages = append(s.PluginStages, PluginStageStats{Stage: c.key, What: c.what, Restarts: c.restarts.Load(),
			Recycles: c.recycles.Load(), FailedBatches: c.failed.Load(), Lost: c.lost.Load()})
	}
	s.Dropped = s.DroppedParser + s.DroppedFilters + s.DroppedErrors
	if !rn.start.IsZero() {
		s.Duration = time.Since(rn.start)
		if rn.end != (time.Time{}) {
			s.Duration = rn.end.Sub(rn.start)
		}
	}
	if s.Duration > 0 {
		s.LinesPerSecond = float64(s.LinesIn) / s.Duration.Seconds()
	}
	return s
}

// at returns s[i], or "" for a stage that did not open.
func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return ""
}
