package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The READMEs quote RESULTS.md in regions between these two lines. report
// -readmes rewrites every region from RESULTS.md and leaves the rest of
// each file alone, so the prose around the figures stays hand-written.
const (
	regionBegin = "<!-- begin: written by bench/cmd/report -readmes from bench/RESULTS.md -->"
	regionEnd   = "<!-- end: written by bench/cmd/report -readmes -->"
)

// readmeFiles are the files with regions, relative to the repository's
// root, and the regions' writers, in the order the regions appear.
var readmeFiles = []struct {
	path    string
	regions []func(results) (string, error)
}{
	{"README.md", []func(results) (string, error){rootPostgres, rootPerformance}},
	{"pgstore/README.md", []func(results) (string, error){pgstorePerformance}},
}

// writeREADMEs rewrites the regions of the READMEs under root from the
// RESULTS.md at resultsPath. It writes all of them or, when a figure is
// missing (a run without PostgreSQL), none, so that the READMEs never quote
// two runs at once.
func writeREADMEs(resultsPath, root string) error {
	raw, err := os.ReadFile(resultsPath)
	if err != nil {
		return err
	}
	updated := make([]string, len(readmeFiles))
	olds := make([]string, len(readmeFiles))
	for i, f := range readmeFiles {
		old, err := os.ReadFile(filepath.Join(root, f.path))
		if err != nil {
			return err
		}
		olds[i] = string(old)
		if updated[i], err = fillRegions(olds[i], string(raw), f.regions); err != nil {
			return fmt.Errorf("%s: %w", f.path, err)
		}
	}
	for i, f := range readmeFiles {
		if updated[i] == olds[i] {
			continue
		}
		if err := os.WriteFile(filepath.Join(root, f.path), []byte(updated[i]), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// fillRegions returns doc with each region replaced by what its writer
// makes of the RESULTS.md text raw.
func fillRegions(doc, raw string, writers []func(results) (string, error)) (string, error) {
	res, err := parseResults(raw)
	if err != nil {
		return "", err
	}
	var out strings.Builder
	rest := doc
	for i, w := range writers {
		b := strings.Index(rest, regionBegin+"\n")
		if b < 0 {
			return "", fmt.Errorf("region %d: no %q line", i+1, regionBegin)
		}
		e := strings.Index(rest[b:], regionEnd+"\n")
		if e < 0 {
			return "", fmt.Errorf("region %d: no %q line", i+1, regionEnd)
		}
		body, err := w(res)
		if err != nil {
			return "", fmt.Errorf("region %d: %w", i+1, err)
		}
		out.WriteString(rest[:b+len(regionBegin)+1])
		out.WriteString(body)
		out.WriteString(regionEnd + "\n")
		rest = rest[b+e+len(regionEnd)+1:]
	}
	if strings.Contains(rest, regionBegin) {
		return "", fmt.Errorf("more regions than the %d known", len(writers))
	}
	out.WriteString(rest)
	return out.String(), nil
}

// results is what the READMEs quote from RESULTS.md.
type results struct {
	machine map[string]string
	// tables by section heading, then subject, then column heading
	tables map[string]map[string]map[string]string
	// targets are the bullets of "The targets", with the "… "
	// bullets spelled out
	targets []string
	// pgTarget is the PostgreSQL section's target sentence
	pgTarget string
}

const (
	tableTime    = "Time per request"
	tableAllocs  = "Allocations per request (bytes)"
	tableTrips   = "Store round trips · Set-Cookie headers per request"
	tablePG      = "PostgreSQL"
	targetsTitle = "The issue's targets"
)

var errNoFigure = errors.New("not in RESULTS.md")

func parseResults(raw string) (results, error) {
	res := results{machine: map[string]string{}, tables: map[string]map[string]map[string]string{}}
	section := ""
	var header []string
	inBlock := false
	lastLead := ""
	for _, line := range strings.Split(raw, "\n") {
		switch {
		case strings.HasPrefix(line, "```"):
			inBlock = !inBlock
			continue
		case inBlock:
			if section == "Machine" {
				if k, v, ok := strings.Cut(line, ":"); ok {
					res.machine[strings.TrimSpace(k)] = strings.TrimSpace(v)
				}
			}
			continue
		case strings.HasPrefix(line, "## "):
			section, header = strings.TrimPrefix(line, "## "), nil
			continue
		}
		if section == targetsTitle && strings.HasPrefix(line, "- ") {
			t := strings.TrimPrefix(line, "- ")
			if rest, ok := strings.CutPrefix(t, "… "); ok {
				t = lastLead + " " + rest
			} else {
				lastLead = leadOf(t)
			}
			res.targets = append(res.targets, t)
		}
		if section == tablePG && strings.HasPrefix(line, "Target: ") {
			res.pgTarget = strings.TrimPrefix(line, "Target: ")
		}
		if !strings.HasPrefix(line, "|") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		switch {
		case header == nil:
			header = cells
		case strings.HasPrefix(cells[0], "---"):
		default:
			if res.tables[section] == nil {
				res.tables[section] = map[string]map[string]string{}
			}
			row := map[string]string{}
			for i, c := range cells {
				if i < len(header) {
					row[header[i]] = c
				}
			}
			res.tables[section][cells[0]] = row
		}
	}
	if len(res.tables[tableTime]) == 0 {
		return res, fmt.Errorf("no %q table", tableTime)
	}
	return res, nil
}

// leadOf names what a target bullet is about, for the "… " bullets after
// it: "Redis with client-side caching: …" stands for a cached Redis read.
func leadOf(bullet string) string {
	if strings.HasPrefix(bullet, "Redis with client-side caching") {
		return "Cached Redis read"
	}
	lead, _, _ := strings.Cut(bullet, ",")
	return lead
}

// cell returns a figure of a table, or an error naming it.
func (r results) cell(table, subject, column string) (string, error) {
	v, ok := r.tables[table][subject][column]
	if !ok || v == "" {
		return "", fmt.Errorf("%s, %s, %s: %w", table, subject, column, errNoFigure)
	}
	return v, nil
}

// figures gets several cells at once; the first missing one is the error.
type figures struct {
	r   results
	err error
}

func (f *figures) get(table, subject, column string) string {
	v, err := f.r.cell(table, subject, column)
	if err != nil && f.err == nil {
		f.err = err
	}
	return v
}

func (f *figures) machine(key string) string {
	v, ok := f.r.machine[key]
	if !ok && f.err == nil {
		f.err = fmt.Errorf("machine facts, %s: %w", key, errNoFigure)
	}
	return v
}
