package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/driftless-dev/driftless/internal/scaffold"
)

func pluginsNewCommand() *cli.Command {
	return &cli.Command{
		Name:      "new",
		Usage:     "write a new plugin project (sources, build files, the contract's WIT, a README) to start from",
		ArgsUsage: "NAME",
		Description: "Writes a small project that builds as is: a minimal implementation of each export of the\n" +
			"world, the build script, a copy of the contract (wit/plugin.wit) and a README, into\n" +
			"./NAME (or --dir). Then prints the two commands that build and install the plugin.\n\n" +
			"Languages: " + strings.Join(scaffold.LanguageNames(), ", ") + ". Worlds: " + strings.Join(scaffold.WorldNames(), ", ") + ".",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "lang", Aliases: []string{"l"}, Usage: "the language: " + strings.Join(scaffold.LanguageNames(), ", ") + " (`LANG`, required)"},
			&cli.StringFlag{Name: "world", Aliases: []string{"w"}, Value: scaffold.DefaultWorld, Usage: "what the plugin provides: " + strings.Join(scaffold.WorldNames(), ", ") + " (`WORLD`)"},
			&cli.StringFlag{Name: "dir", Aliases: []string{"d"}, Usage: "write the project into `DIR` (default: ./NAME)"},
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "write into a directory that is not empty, replacing files of the same names"},
		},
		Action: pluginsNew,
	}
}

type newJSON struct {
	Created      bool     `json:"created"`
	Name         string   `json:"name"`
	Lang         string   `json:"lang"`
	World        string   `json:"world"`
	Dir          string   `json:"dir"`
	Files        []string `json:"files"`
	BuildCommand string   `json:"build_command"`
	Artifact     string   `json:"artifact"`
	Build        string   `json:"build"`
	Install      string   `json:"install"`
}

func pluginsNew(c *cli.Context) error {
	if err := argCount(c, 1, 1); err != nil {
		return err
	}
	a := appOf(c)
	if c.String("lang") == "" {
		return usagef("--lang is required (one of %s)", strings.Join(scaffold.LanguageNames(), ", "))
	}
	p, err := scaffold.New(scaffold.Options{
		Name:  c.Args().First(),
		Lang:  c.String("lang"),
		World: c.String("world"),
		Dir:   c.String("dir"),
		Force: c.Bool("force"),
	})
	var ue *scaffold.UsageError
	if errors.As(err, &ue) {
		return usagef("%s", ue.Msg)
	}
	if err != nil {
		return err
	}
	doc := newJSON{Created: true, Name: p.Name, Lang: p.Lang, World: p.World, Dir: p.Dir, Files: p.Files,
		BuildCommand: p.BuildCommand, Artifact: p.Artifact, Build: p.Build, Install: p.Install}
	return a.emit(doc, func(w io.Writer) {
		fmt.Fprintf(w, "created %s plugin %s (world %s) in %s:\n", p.Lang, p.Name, p.World, p.Dir)
		for _, f := range fileSummary(p.Files) {
			fmt.Fprintf(w, "  %s\n", f)
		}
		fmt.Fprintf(w, "build and install it:\n  %s\n  %s\n", p.Build, p.Install)
	})
}

// fileSummary lists files for people: a top-level directory holding more
// than three files (Go's generated gen/) as one line, "DIR/ (N files)".
// The JSON output lists every file.
func fileSummary(files []string) []string {
	count := map[string]int{}
	for _, f := range files {
		if dir, _, ok := strings.Cut(f, "/"); ok {
			count[dir]++
		}
	}
	var out []string
	listed := map[string]bool{}
	for _, f := range files {
		dir, _, ok := strings.Cut(f, "/")
		switch {
		case !ok || count[dir] <= 3:
			out = append(out, f)
		case !listed[dir]:
			out = append(out, fmt.Sprintf("%s/ (%d files)", dir, count[dir]))
			listed[dir] = true
		}
	}
	return out
}
