# berth developer interface. `make test` is what CI runs (.ci/run).
CARGO ?= cargo

.PHONY: build test unit integration e2e tools crds crds-check fmt lint conformance conformance-template conformance-render bench bench-template bench-render demo demo-down

build:
	$(CARGO) build --workspace --all-targets

## everything CI runs: unit tests, both conformance suites against Helm,
## the crates' integration tests, e2e
test: unit crds-check conformance integration e2e

unit:
	$(CARGO) test --workspace --lib --bins

## builds the pinned Go tools into ~/.cache/berth on first use
tools:
	e2e/tools/build.sh

## integration tests of the crates: hostile registries (berth-oci), renders
## against the real helm (berth-render), Cosign/Sigstore vectors
## (berth-verify, `berth verify bundle` over Sigstore's conformance suite)
integration: tools
	$(CARGO) test -p berth-oci -p berth-render -p berth-verify --test '*'
	$(CARGO) test -p berth --test sigstore_conformance

e2e: tools
	$(CARGO) test --test e2e

## regenerate crds/ from the Rust API types (a unit test fails when stale)
## and copy them into the install chart and the kustomize base
crds:
	$(CARGO) run --quiet -- crds --out-dir crds
	cp crds/*.yaml charts/berth/crds/
	cp crds/*.yaml config/crd/

## fail when charts/berth/crds or config/crd differ from `berth crds`
crds-check:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(CARGO) run --quiet -- crds --out-dir "$$tmp" && \
	diff -r "$$tmp" charts/berth/crds && \
	diff -r -x kustomization.yaml "$$tmp" config/crd || \
	{ echo "charts/berth/crds or config/crd differ from berth crds: run make crds"; exit 1; }

fmt:
	$(CARGO) fmt --all

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## both differential suites against Helm (docs/conformance.md); runs the
## second even when the first fails, and fails if either does
conformance:
	@status=0; \
	$(MAKE) --no-print-directory conformance-template || status=1; \
	$(MAKE) --no-print-directory conformance-render || status=1; \
	exit $$status

## template engine vs Helm's own engine, every case of conformance/cases
## (builds the Go oracle itself); FILTER=printf/ keeps matching cases
conformance-template:
	$(CARGO) run -p berth-conformance --release --bin conformance -- $(FILTER)

## `berth template` vs real `helm template` on every chart of the corpus
## (BERTH_CHART_CORPUS, default ../shared/charts; builds helm itself);
## CHARTS=grafana keeps matching cases
conformance-render:
	$(CARGO) build --release --bin berth
	$(CARGO) run -p berth-render-conformance --release --bin render-conformance -- $(CHARTS)

## render time against Helm in the same run (docs/benchmarks.md): the
## template engine in-process, then whole `berth template` vs `helm template`
## processes on every corpus chart (median wall time, peak RSS)
bench: bench-template bench-render

bench-template:
	$(CARGO) bench -p berth-conformance --bench template

bench-render:
	$(CARGO) build --release --bin berth
	$(CARGO) run -p berth-render-conformance --release --bin render-bench -- $(CHARTS)

## a local control plane and registry, the demo chart (demo/chart) pushed,
## signed with cosign and reconciled by berth to Ready, then upgraded; the
## environment stays up (the kubeconfig path is printed) until demo-down
demo: tools
	CARGO="$(CARGO)" scripts/demo.sh up

## stop the demo environment (every process, the run directory); idempotent
demo-down:
	scripts/demo.sh down
