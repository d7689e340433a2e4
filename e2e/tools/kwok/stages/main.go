// Command kwok-stages prints the default kwok Stages (the ones kwokctl
// configures: node initialize, node heartbeat with a Lease, pod
// ready/complete/delete) as one multi-document YAML config for
// `kwok --config`. Standalone kwok has no stages unless it is given some,
// and printing them from the pinned module keeps them in step with the
// pinned kwok binary instead of a hand-copied file.
package main

import (
	"fmt"
	"os"
	"strings"

	nodefast "sigs.k8s.io/kwok/kustomize/stage/node/fast"
	nodeheartbeat "sigs.k8s.io/kwok/kustomize/stage/node/heartbeat-with-lease"
	podfast "sigs.k8s.io/kwok/kustomize/stage/pod/fast"
)

func main() {
	docs := []string{
		nodefast.DefaultNodeInit,
		nodeheartbeat.DefaultNodeHeartbeatWithLease,
		podfast.DefaultPodReady,
		podfast.DefaultPodComplete,
		podfast.DefaultPodDelete,
	}
	var out strings.Builder
	for i, doc := range docs {
		if i > 0 {
			out.WriteString("---\n")
		}
		out.WriteString(strings.TrimRight(doc, "\n") + "\n")
	}
	if _, err := os.Stdout.WriteString(out.String()); err != nil {
		fmt.Fprintln(os.Stderr, "kwok-stages:", err)
		os.Exit(1)
	}
}
