//go:build tools

// Package tools records the commands built from this module (see targets),
// so `go mod tidy` keeps their dependencies.
package tools

import _ "go.etcd.io/etcd/server/v3"
