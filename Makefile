# berth developer interface. `make test` is what CI runs (.ci/run).
CARGO ?= cargo

.PHONY: build test unit e2e tools crds fmt lint conformance bench

build:
	$(CARGO) build --workspace --all-targets

## everything CI runs: unit tests, template conformance against Helm, e2e
test: unit conformance e2e

unit:
	$(CARGO) test --workspace --lib --bins

## builds the pinned Go tools into ~/.cache/berth on first use
tools:
	e2e/tools/build.sh

e2e: tools
	$(CARGO) test --test e2e

## regenerate crds/ from the Rust API types (a unit test fails when stale)
crds:
	$(CARGO) run --quiet -- crds --out-dir crds

fmt:
	$(CARGO) fmt --all

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## template engine vs Helm's own engine, every case of conformance/cases
## (builds the Go oracle itself); FILTER=printf/ keeps matching cases
conformance:
	$(CARGO) run -p berth-conformance --release --bin conformance -- $(FILTER)

## template render time, berth vs Helm's engine in the same run (docs/benchmarks.md)
bench:
	$(CARGO) bench -p berth-conformance --bench template
