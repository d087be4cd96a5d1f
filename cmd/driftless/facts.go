package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/driftless-dev/driftless/host"
	"github.com/driftless-dev/driftless/sysfacts"
	"github.com/driftless-dev/driftless/templating"
)

func factsCommand() *cli.Command {
	return &cli.Command{
		Name:  "facts",
		Usage: "collect facts about this machine",
		Subcommands: []*cli.Command{{
			Name: "collect",
			Usage: "print facts as JSON: with no argument the built-in facts and every plugin collector's, " +
				"else only the named collectors'",
			ArgsUsage: "[PLUGIN.COLLECTOR ...]",
			Flags:     []cli.Flag{configFlag()},
			Action:    factsCollect,
		}},
	}
}

func factsCollect(c *cli.Context) error {
	a := appOf(c)
	refs := c.Args().Slice()
	if c.IsSet("config") && len(refs) == 0 {
		return usagef("--config needs PLUGIN.COLLECTOR arguments: it is the config of the collectors named")
	}
	config, err := readConfig(c)
	if err != nil {
		return err
	}
	var facts map[string]any
	if len(refs) == 0 {
		facts, err = a.gatherFacts(c.Context, true)
	} else {
		facts, err = a.collect(c.Context, refs, config)
	}
	if err != nil {
		return err
	}
	return writeJSON(a.stdout, facts)
}

// gatherFacts returns the built-in facts and, with plugins, the facts of
// every collector of every plugin that loaded, each plugin's under its
// name. A collector whose config schema refuses {} needs a config: it is
// skipped with a warning. Any other collector failure is an error.
func (a *app) gatherFacts(ctx context.Context, plugins bool) (map[string]any, error) {
	facts := sysfacts.Collect()
	if !plugins {
		return facts, nil
	}
	loaded, err := a.loadAll(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range loaded {
		if p.Err() != nil {
			continue
		}
		for _, d := range p.Collectors() {
			out, err := p.Collect(ctx, d.Name, "")
			if host.KindOf(err) == host.KindInvalidConfig {
				a.logger.Warn("facts collector skipped: it needs a config (run it with facts collect PLUGIN.COLLECTOR --config)",
					"plugin", p.Name(), "collector", d.Name, "error", err)
				continue
			}
			if err != nil {
				return nil, err
			}
			if err := a.merge(facts, p.Name(), d.Name, out, true); err != nil {
				return nil, err
			}
		}
	}
	return facts, nil
}

// collect runs the named collectors (PLUGIN.COLLECTOR) with config.
func (a *app) collect(ctx context.Context, refs []string, config string) (map[string]any, error) {
	facts := map[string]any{}
	for _, ref := range refs {
		plugin, collector, err := splitRef(ref, "COLLECTOR")
		if err != nil {
			return nil, err
		}
		p, err := a.plugin(ctx, plugin)
		if err != nil {
			return nil, err
		}
		out, err := p.Collect(ctx, collector, config)
		if err != nil {
			return nil, err
		}
		if err := a.merge(facts, plugin, collector, out, false); err != nil {
			return nil, err
		}
	}
	return facts, nil
}

// merge adds a collector's facts (a JSON object) under its plugin's name;
// collectors of one plugin share that object (later keys win). A plugin
// named like a built-in fact does not replace it.
func (a *app) merge(facts map[string]any, plugin, collector, out string, builtins bool) error {
	v, err := templating.FromJSON(out)
	if err != nil {
		return fmt.Errorf("plugin %s: facts.collect: collector %s: %v", plugin, collector, err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return &host.Error{Plugin: plugin, Func: "facts.collect", Kind: host.KindBadOutput, Msg: "facts are not a JSON object"}
	}
	cur, exists := facts[plugin]
	if exists && builtins && isBuiltinFact(plugin) {
		a.logger.Warn("plugin facts hidden: the plugin has the name of a built-in fact", "plugin", plugin, "collector", collector)
		return nil
	}
	m, _ := cur.(map[string]any)
	if m == nil {
		m = map[string]any{}
		facts[plugin] = m
	}
	for k, x := range obj {
		m[k] = x
	}
	return nil
}

func isBuiltinFact(name string) bool {
	for _, k := range sysfacts.Keys {
		if k == name {
			return true
		}
	}
	return false
}
