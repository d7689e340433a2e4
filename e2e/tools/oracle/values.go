package main

// The values modes: what Helm computes between loading a chart and
// rendering it, for berth's differential tests of strvals, coalescing,
// dependencies and schema validation.
//
//	oracle --prepare CHART_DIR [-f FILE]... [--set S]... [--set-string S]...
//	       [--set-json S]... [--set-file S]... [--set-literal S]...
//	       [--kube-version V] [--skip-schema-validation]
//	    print {"chart", "values", "charts": [{"path", "values"}], "error"}:
//	    the final values (ToRenderValuesWithSchemaValidation), every enabled
//	    chart of the processed tree (path of names, the .Values it sees),
//	    or the error `helm template` would print
//	oracle --strvals
//	    read JSON lines {"name", "files", "json", "set", "string", "file",
//	    "literal"} and print {"name", "values"} or {"name", "error"}: the
//	    user values Helm's values options build from those flags
//
// Numbers keep their Go type: an int64 prints as {"$int64": "3"}, a
// float64 as {"$float64": "1.5"} (strconv 'f', shortest), anything else
// that is not a JSON type as {"$go": "%T", "v": "%v"}.
//
// mergeValues follows pkg/cli/values.Options.MergeValues and prepare the
// steps of pkg/cmd/install.go and action.Install (checkIfInstallable,
// CheckDependencies, ProcessDependencies, ToRenderValuesWithSchemaValidation,
// the kubeVersion check of renderResources), calling Helm's own functions
// for every step; only the glue (which pkg/action and pkg/getter would
// bring with a much larger dependency tree) is restated here.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/strvals"
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

type valueFlags struct {
	Files   []string `json:"files"`
	JSON    []string `json:"json"`
	Set     []string `json:"set"`
	String  []string `json:"string"`
	File    []string `json:"file"`
	Literal []string `json:"literal"`
}

// mergeValues: -f files, then --set-json, --set, --set-string, --set-file,
// --set-literal, with Helm's messages.
func mergeValues(f valueFlags) (map[string]any, error) {
	base := map[string]any{}
	for _, path := range f.Files {
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		cur, err := loader.LoadValues(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("failed to parse %s: %w", path, err)
		}
		base = loader.MergeMaps(base, cur)
	}
	for _, value := range f.JSON {
		trimmed := strings.TrimSpace(value)
		if trimmed != "" && trimmed[0] == '{' {
			var jsonMap map[string]any
			if err := json.Unmarshal([]byte(trimmed), &jsonMap); err != nil {
				return nil, fmt.Errorf("failed parsing --set-json data JSON: %s", value)
			}
			base = loader.MergeMaps(base, jsonMap)
		} else if err := strvals.ParseJSON(value, base); err != nil {
			return nil, fmt.Errorf("failed parsing --set-json data %s", value)
		}
	}
	for _, value := range f.Set {
		if err := strvals.ParseInto(value, base); err != nil {
			return nil, fmt.Errorf("failed parsing --set data: %w", err)
		}
	}
	for _, value := range f.String {
		if err := strvals.ParseIntoString(value, base); err != nil {
			return nil, fmt.Errorf("failed parsing --set-string data: %w", err)
		}
	}
	for _, value := range f.File {
		reader := func(rs []rune) (any, error) {
			b, err := os.ReadFile(string(rs))
			if err != nil {
				return nil, err
			}
			return string(b), nil
		}
		if err := strvals.ParseIntoFile(value, base, reader); err != nil {
			return nil, fmt.Errorf("failed parsing --set-file data: %w", err)
		}
	}
	for _, value := range f.Literal {
		if err := strvals.ParseLiteralInto(value, base); err != nil {
			return nil, fmt.Errorf("failed parsing --set-literal data: %w", err)
		}
	}
	return base, nil
}

func typed(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case bool, string:
		return x
	case int64:
		return map[string]any{"$int64": strconv.FormatInt(x, 10)}
	case float64:
		return map[string]any{"$float64": strconv.FormatFloat(x, 'f', -1, 64)}
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = typed(x[i])
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = typed(e)
		}
		return out
	case common.Values:
		return typed(map[string]any(x))
	default:
		return map[string]any{"$go": fmt.Sprintf("%T", x), "v": fmt.Sprintf("%v", x)}
	}
}

type chartValues struct {
	Path   string `json:"path"`
	Values any    `json:"values"`
}

type prepareOut struct {
	Chart  string        `json:"chart,omitempty"`
	Values any           `json:"values,omitempty"`
	Charts []chartValues `json:"charts,omitempty"`
	Error  *string       `json:"error,omitempty"`
}

// enabledCharts lists the processed chart tree with the .Values each chart
// sees (Helm's engine scopes a subchart's values as vals[name]).
func enabledCharts(c *chart.Chart, path string, vals map[string]any, out *[]chartValues) {
	*out = append(*out, chartValues{Path: path, Values: typed(vals)})
	for _, sub := range c.Dependencies() {
		var subVals map[string]any
		if m, ok := vals[sub.Name()].(map[string]any); ok {
			subVals = m
		}
		enabledCharts(sub, path+"/"+sub.Name(), subVals, out)
	}
}

func prepareChart(dir string, f valueFlags, kubeVersion string, skipSchema bool) (prepareOut, error) {
	vals, err := mergeValues(f)
	if err != nil {
		return prepareOut{}, err
	}
	ch, err := loader.Load(dir)
	if err != nil {
		return prepareOut{}, err
	}
	out := prepareOut{Chart: ch.Name()}
	switch ch.Metadata.Type {
	case "", "application":
	default:
		return out, fmt.Errorf("%s charts are not installable", ch.Metadata.Type)
	}
	if req := ch.Metadata.Dependencies; len(req) > 0 {
		var missing []string
	outer:
		for _, r := range req {
			for _, d := range ch.Dependencies() {
				if d.Name() == r.Name {
					continue outer
				}
			}
			missing = append(missing, r.Name)
		}
		if len(missing) > 0 {
			return out, fmt.Errorf("an error occurred while checking for chart dependencies. You may need to run 'helm dependency build' to fetch missing dependencies: found in Chart.yaml, but missing in charts/ directory: %s", strings.Join(missing, ", "))
		}
	}
	if err := chartutil.ProcessDependencies(ch, vals); err != nil {
		return out, fmt.Errorf("chart dependencies processing failed: %w", err)
	}
	caps := common.DefaultCapabilities.Copy()
	if kubeVersion != "" {
		kv, err := common.ParseKubeVersion(kubeVersion)
		if err != nil {
			return out, fmt.Errorf("invalid kube version '%s': %s", kubeVersion, err)
		}
		caps.KubeVersion = *kv
	}
	top, err := util.ToRenderValuesWithSchemaValidation(ch, vals, releaseOptions(), caps, skipSchema)
	if err != nil {
		return out, err
	}
	if ch.Metadata.KubeVersion != "" && !chartutil.IsCompatibleRange(ch.Metadata.KubeVersion, caps.KubeVersion.String()) {
		return out, fmt.Errorf("chart requires kubeVersion: %s which is incompatible with Kubernetes %s", ch.Metadata.KubeVersion, caps.KubeVersion.Version)
	}
	final, _ := top["Values"].(common.Values)
	out.Values = typed(final)
	enabledCharts(ch, ch.Name(), final, &out.Charts)
	return out, nil
}

func runPrepare(dir string, f valueFlags, kubeVersion string, skipSchema bool, w io.Writer) error {
	out, err := prepareChart(dir, f, kubeVersion, skipSchema)
	if err != nil {
		msg := err.Error()
		out = prepareOut{Chart: out.Chart, Error: &msg}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

type strvalsIn struct {
	Name string `json:"name"`
	valueFlags
}

type strvalsOut struct {
	Name   string  `json:"name"`
	Values any     `json:"values,omitempty"`
	Error  *string `json:"error,omitempty"`
}

func runStrvals(in io.Reader, w io.Writer) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 1<<20), 1<<26)
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			continue
		}
		var c strvalsIn
		if err := json.Unmarshal(line, &c); err != nil {
			return fmt.Errorf("bad strvals line: %w", err)
		}
		res := strvalsOut{Name: c.Name}
		vals, err := mergeValues(c.valueFlags)
		if err != nil {
			msg := err.Error()
			res.Error = &msg
		} else {
			res.Values = typed(vals)
		}
		if err := enc.Encode(res); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return bw.Flush()
}
