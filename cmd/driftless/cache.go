package main

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/driftless-dev/driftless/host"
)

func init() { commands = append(commands, cacheCommand) }

func cacheCommand() *cli.Command {
	return &cli.Command{
		Name:  "cache",
		Usage: "show, prune or clear the compile cache",
		Subcommands: []*cli.Command{
			{
				Name:   "info",
				Usage:  "the compile cache's directory, size, and share of each installed plugin",
				Action: cacheInfo,
			},
			{
				Name:   "prune",
				Usage:  "remove the compiled code no installed plugin uses",
				Action: cachePrune,
			},
			{
				Name:   "clear",
				Usage:  "remove all compiled code (every plugin compiles again on its next use)",
				Action: cacheClear,
			},
		},
	}
}

type cachedPluginJSON struct {
	Name  string `json:"name"`
	Bytes int64  `json:"bytes"`
}

type cacheCountJSON struct {
	Entries int   `json:"entries"`
	Bytes   int64 `json:"bytes"`
}

type cacheInfoJSON struct {
	Dir     string             `json:"dir"`
	Enabled bool               `json:"enabled"`
	Unsafe  *string            `json:"unsafe"`
	Entries int                `json:"entries"`
	Bytes   int64              `json:"bytes"`
	Plugins []cachedPluginJSON `json:"plugins"`
	Unused  cacheCountJSON     `json:"unused"`
}

func cacheInfo(c *cli.Context) error {
	if err := argCount(c, 0, 0); err != nil {
		return err
	}
	a := appOf(c)
	h, err := a.host()
	if err != nil {
		return err
	}
	info, err := h.CacheInfo()
	if err != nil {
		return err
	}
	doc := cacheInfoJSON{Dir: info.Dir, Enabled: info.Unsafe == nil, Entries: info.Entries, Bytes: info.Bytes,
		Plugins: []cachedPluginJSON{}, Unused: cacheCountJSON{info.UnusedEntries, info.UnusedBytes}}
	if info.Unsafe != nil {
		msg := info.Unsafe.Error()
		doc.Unsafe = &msg
	}
	for _, p := range info.Plugins {
		doc.Plugins = append(doc.Plugins, cachedPluginJSON{p.Name, p.Bytes})
	}
	return a.emit(doc, func(w io.Writer) {
		fmt.Fprintf(w, "compile cache %s: %s\n", info.Dir, entriesText(info.Entries, info.Bytes))
		if info.Unsafe != nil {
			fmt.Fprintf(w, "NOT USED: %s\n", info.Unsafe)
		}
		t := table(w)
		for _, p := range info.Plugins {
			fmt.Fprintf(t, "  %s\t%s\n", p.Name, sizeText(p.Bytes))
		}
		if info.UnusedEntries > 0 {
			fmt.Fprintf(t, "  (unused)\t%s\tdriftless cache prune removes them\n", entriesText(info.UnusedEntries, info.UnusedBytes))
		}
		t.Flush()
	})
}

// entriesText is "3 entries, 24.1 MiB".
func entriesText(n int, bytes int64) string {
	if n == 1 {
		return "1 entry, " + sizeText(bytes)
	}
	return fmt.Sprintf("%d entries, %s", n, sizeText(bytes))
}

type cacheRemovedJSON struct {
	Dir     string         `json:"dir"`
	Removed cacheCountJSON `json:"removed"`
}

func cachePrune(c *cli.Context) error {
	return cacheRemove(c, (*host.Host).PruneCache, "no installed plugin used")
}

func cacheClear(c *cli.Context) error {
	return cacheRemove(c, (*host.Host).ClearCache, "")
}

func cacheRemove(c *cli.Context, remove func(*host.Host) (host.CacheRemoved, error), why string) error {
	if err := argCount(c, 0, 0); err != nil {
		return err
	}
	a := appOf(c)
	h, err := a.host()
	if err != nil {
		return err
	}
	info, err := h.CacheInfo()
	if err != nil {
		return err
	}
	removed, err := remove(h)
	if err != nil {
		return err
	}
	doc := cacheRemovedJSON{Dir: info.Dir, Removed: cacheCountJSON{removed.Entries, removed.Bytes}}
	return a.emit(doc, func(w io.Writer) {
		what := entriesText(removed.Entries, removed.Bytes)
		if why != "" {
			what += " " + why
		}
		fmt.Fprintf(w, "removed %s from %s\n", what, info.Dir)
	})
}
