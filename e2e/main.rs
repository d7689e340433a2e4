//! The end-to-end suite: real etcd, kube-apiserver, kube-controller-manager
//! and kwok, real OCI registries, real helm/cosign/oras, all started by this
//! binary on loopback and torn down before it exits.
//!
//! It is a `harness = false` test so that one environment serves every test
//! and is always torn down (statics are never dropped by libtest). Usage:
//! `cargo test --test e2e [-- FILTER... | --list]`.

mod apply;
mod apply_drift;
mod apply_hooks;
mod cli;
mod env;
mod helmrelease;
mod helmrelease_inputs;
mod install;
mod leader;
mod metrics;
mod oci_registry;
mod ocirepository;
mod release;
mod smoke_cluster;
mod smoke_registry;
mod template_oci;
mod verify;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

/// One end-to-end test.
pub struct Test {
    pub name: &'static str,
    pub run: fn(&env::Env) -> anyhow::Result<()>,
}

fn all_tests() -> Vec<Test> {
    let mut tests = Vec::new();
    tests.extend(smoke_cluster::tests());
    tests.extend(smoke_registry::tests());
    tests.extend(oci_registry::tests());
    tests.extend(ocirepository::tests());
    tests.extend(verify::tests());
    tests.extend(template_oci::tests());
    tests.extend(apply::tests());
    tests.extend(release::tests());
    tests.extend(helmrelease_inputs::tests());
    tests.extend(apply_hooks::tests());
    tests.extend(apply_drift::tests());
    tests.extend(helmrelease::tests());
    tests.extend(install::tests());
    tests.extend(leader::tests());
    tests.extend(metrics::tests());
    tests.extend(cli::tests());
    tests
}

fn main() {
    // BERTH_E2E_LOG=<filter> (e.g. `berth=debug`) shows the in-process
    // controllers' logs on stderr.
    if let Ok(filter) = std::env::var("BERTH_E2E_LOG") {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(std::io::stderr)
            .init();
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let list_only = args.iter().any(|a| a == "--list");
    // libtest-style flags we accept and ignore.
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let tests: Vec<Test> = all_tests()
        .into_iter()
        .filter(|t| filters.is_empty() || filters.iter().any(|f| t.name.contains(f.as_str())))
        .collect();
    if list_only {
        for t in &tests {
            println!("{}: test", t.name);
        }
        return;
    }
    if tests.is_empty() {
        println!("running 0 tests");
        return;
    }

    let env = match env::Env::new() {
        Ok(env) => env,
        Err(e) => {
            eprintln!("e2e: failed to prepare the environment: {e:#}");
            std::process::exit(2);
        }
    };
    println!("running {} tests", tests.len());
    let started = Instant::now();
    let mut failed = Vec::new();
    for t in &tests {
        let t0 = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| (t.run)(&env)));
        let secs = t0.elapsed().as_secs_f32();
        match outcome {
            Ok(Ok(())) => println!("test {} ... ok ({secs:.1}s)", t.name),
            Ok(Err(e)) => {
                println!("test {} ... FAILED ({secs:.1}s)\n    {e:#}", t.name);
                failed.push(t.name);
            }
            Err(_) => {
                println!("test {} ... FAILED (panicked, {secs:.1}s)", t.name);
                failed.push(t.name);
            }
        }
    }
    env.shutdown();
    println!(
        "\ne2e result: {}. {} passed; {} failed; finished in {:.1}s",
        if failed.is_empty() { "ok" } else { "FAILED" },
        tests.len() - failed.len(),
        failed.len(),
        started.elapsed().as_secs_f32()
    );
    if !failed.is_empty() {
        for name in &failed {
            println!("    {name}");
        }
        std::process::exit(1);
    }
}
