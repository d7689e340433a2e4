// Command oracle renders template conformance cases with Helm's own engine
// (helm.sh/helm/v4/pkg/engine), so Sprig and Helm functions, values decoding
// and the top-level objects are exactly what `helm template` uses.
//
// Modes:
//
//	oracle                 read JSON cases (one per line) on stdin, write one
//	                       JSON result per line on stdout
//	oracle --bench N       read the cases, render each N times in-process and
//	                       print the elapsed time (start-up excluded)
//	oracle --capabilities  print the default (client-only) capabilities
//	oracle --chart DIR [--bench N]
//	                       render a chart directory's templates with its
//	                       default values; print every rendered file (and the
//	                       time of N renders)
//	oracle --prepare DIR [values flags] / oracle --strvals
//	                       the values Helm computes before rendering (see
//	                       values.go)
//
// A case is {"name": "...", "files": {"templates/case.yaml": "..."},
// "values": "<values.yaml text>"}. Its result is {"name": "...", "output":
// "..."} or {"name": "...", "error": "..."}.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"time"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/loader/archive"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
)

// The chart every case lives in (documented in conformance/README.md).
const (
	chartName   = "conformance"
	chartYAML   = "apiVersion: v2\nname: conformance\nversion: 0.1.0\nappVersion: 1.0.0\n"
	caseFile    = "templates/case.yaml"
	releaseName = "release-name"
	namespace   = "default"
)

type caseIn struct {
	Name   string            `json:"name"`
	Files  map[string]string `json:"files"`
	Values *string           `json:"values"`
}

type caseOut struct {
	Name   string  `json:"name"`
	Output *string `json:"output,omitempty"`
	Error  *string `json:"error,omitempty"`
}

// prepared is a case ready to render: the loaded chart and its render values.
type prepared struct {
	name  string
	chart *chart.Chart
	vals  common.Values
}

func releaseOptions() common.ReleaseOptions {
	return common.ReleaseOptions{
		Name:      releaseName,
		Namespace: namespace,
		Revision:  1,
		IsInstall: true,
		IsUpgrade: false,
	}
}

// prepare loads a case as a chart through Helm's loader (values.yaml goes
// through Helm's values loader) and builds the top-level object with
// Helm's render-values builder, as `helm template` does.
func prepare(c caseIn) (prepared, error) {
	files := []*archive.BufferedFile{{Name: "Chart.yaml", Data: []byte(chartYAML)}}
	if c.Values != nil {
		files = append(files, &archive.BufferedFile{Name: "values.yaml", Data: []byte(*c.Values)})
	}
	names := make([]string, 0, len(c.Files))
	for n := range c.Files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		files = append(files, &archive.BufferedFile{Name: n, Data: []byte(c.Files[n])})
	}
	ch, err := loader.LoadFiles(files)
	if err != nil {
		return prepared{}, err
	}
	vals, err := util.ToRenderValues(ch, map[string]any{}, releaseOptions(), nil)
	if err != nil {
		return prepared{}, err
	}
	return prepared{name: c.Name, chart: ch, vals: vals}, nil
}

func render(p prepared) (string, error) {
	out, err := engine.Render(p.chart, p.vals)
	if err != nil {
		return "", err
	}
	s, ok := out[path.Join(chartName, caseFile)]
	if !ok {
		return "", errors.New("oracle: the case has no " + caseFile)
	}
	return s, nil
}

func readCases(r io.Reader) ([]caseIn, error) {
	var cases []caseIn
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), 1<<28)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			continue
		}
		var c caseIn
		if err := json.Unmarshal(line, &c); err != nil {
			return nil, fmt.Errorf("bad case line: %w", err)
		}
		cases = append(cases, c)
	}
	return cases, sc.Err()
}

func runCases(in io.Reader, out io.Writer) error {
	cases, err := readCases(in)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(out)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, c := range cases {
		res := caseOut{Name: c.Name}
		p, err := prepare(c)
		if err == nil {
			var s string
			s, err = render(p)
			if err == nil {
				res.Output = &s
			}
		}
		if err != nil {
			msg := err.Error()
			res.Error = &msg
		}
		if err := enc.Encode(res); err != nil {
			return err
		}
	}
	return w.Flush()
}

// benchCases renders every case n times; cases that fail still count (the
// engine did the work up to the failure), exactly as on the berth side.
func benchCases(in io.Reader, out io.Writer, n int) error {
	cases, err := readCases(in)
	if err != nil {
		return err
	}
	var ps []prepared
	for _, c := range cases {
		p, err := prepare(c)
		if err != nil {
			continue
		}
		ps = append(ps, p)
	}
	start := time.Now()
	for i := 0; i < n; i++ {
		for _, p := range ps {
			_, _ = engine.Render(p.chart, p.vals)
		}
	}
	elapsed := time.Since(start)
	return json.NewEncoder(out).Encode(map[string]any{
		"cases": len(ps), "iterations": n, "nanos": elapsed.Nanoseconds(),
	})
}

func renderChart(dir string, n int, out io.Writer) error {
	ch, err := loader.Load(dir)
	if err != nil {
		return err
	}
	vals, err := util.ToRenderValues(ch, map[string]any{}, releaseOptions(), nil)
	if err != nil {
		return err
	}
	res := map[string]any{"chart": ch.Name()}
	files, err := engine.Render(ch, vals)
	if err != nil {
		res["error"] = err.Error()
	} else {
		res["files"] = files
	}
	if n > 0 {
		start := time.Now()
		for i := 0; i < n; i++ {
			_, _ = engine.Render(ch, vals)
		}
		res["iterations"] = n
		res["nanos"] = time.Since(start).Nanoseconds()
	}
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	return enc.Encode(res)
}

func capabilities(out io.Writer) error {
	caps := common.DefaultCapabilities
	return json.NewEncoder(out).Encode(map[string]any{
		"KubeVersion": map[string]string{
			"Version": caps.KubeVersion.Version,
			"Major":   caps.KubeVersion.Major,
			"Minor":   caps.KubeVersion.Minor,
			"String":  caps.KubeVersion.String(),
		},
		"APIVersions": []string(caps.APIVersions),
		"HelmVersion": map[string]string{
			"Version":      caps.HelmVersion.Version,
			"GitCommit":    caps.HelmVersion.GitCommit,
			"GitTreeState": caps.HelmVersion.GitTreeState,
			"GoVersion":    caps.HelmVersion.GoVersion,
			// Printed by {{ .Capabilities.HelmVersion }} as the fifth field.
			"KubeClientVersion": caps.HelmVersion.KubeClientVersion,
		},
	})
}

func main() {
	bench := flag.Int("bench", 0, "render every case (or the chart) N times and print the elapsed time")
	caps := flag.Bool("capabilities", false, "print the default capabilities as JSON")
	chartDir := flag.String("chart", "", "render this chart directory with its default values")
	prepareDir := flag.String("prepare", "", "print the final values Helm computes for this chart directory")
	strvalsMode := flag.Bool("strvals", false, "read values-flag cases on stdin, print the user values")
	kubeVersion := flag.String("kube-version", "", "Kubernetes version (--prepare)")
	skipSchema := flag.Bool("skip-schema-validation", false, "skip values.schema.json (--prepare)")
	var vf valueFlags
	flag.Var((*multiFlag)(&vf.Files), "f", "values file (--prepare, repeatable)")
	flag.Var((*multiFlag)(&vf.Set), "set", "--set (repeatable)")
	flag.Var((*multiFlag)(&vf.String), "set-string", "--set-string (repeatable)")
	flag.Var((*multiFlag)(&vf.JSON), "set-json", "--set-json (repeatable)")
	flag.Var((*multiFlag)(&vf.File), "set-file", "--set-file (repeatable)")
	flag.Var((*multiFlag)(&vf.Literal), "set-literal", "--set-literal (repeatable)")
	flag.Parse()

	var err error
	switch {
	case *caps:
		err = capabilities(os.Stdout)
	case *prepareDir != "":
		err = runPrepare(*prepareDir, vf, *kubeVersion, *skipSchema, os.Stdout)
	case *strvalsMode:
		err = runStrvals(os.Stdin, os.Stdout)
	case *chartDir != "":
		err = renderChart(*chartDir, *bench, os.Stdout)
	case *bench > 0:
		err = benchCases(os.Stdin, os.Stdout, *bench)
	default:
		err = runCases(os.Stdin, os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "oracle:", err)
		os.Exit(1)
	}
}
