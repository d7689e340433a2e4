//go:build tools

// Package tools records the commands built from this module (see targets),
// so `go mod tidy` keeps their dependencies.
package tools

import _ "sigs.k8s.io/kwok/cmd/kwok"
