// Package pipeline runs the log pipelines of `driftless logs run`: sources
// (built-in file and stdin, or plugin sources) → one parser (built-in
// plain and json, or a plugin parser) → filters (built-in level and match,
// or plugin filters) → outputs (built-in stdout and file, or plugin outputs
// whose records the host writes).
//
// LoadConfig reads a pipeline file (TOML; docs/pipeline.md), strictly:
// unknown keys, missing or contradictory keys are a *ConfigError naming
// the file, line and key. Config.Check checks its plugin stages against a
// host; Run runs it; Validate opens and closes its stages without running.
//
// Lines and entries move in batches (batch_size, 1024 by default): a
// plugin stage is called once per batch. Each stage runs on goroutines of
// its own, connected by channels of a few batches, so stages work in
// parallel and memory stays bounded. A stage may run several instances
// (parallel = N); batches are dealt and collected round-robin, which keeps
// their order. Ending Run's context stops the sources and lets what was
// read drain through every stage; Options.Abort stops at once.
package pipeline
