//! Links the `berth` binary as a fixed-address (non-PIE) executable, as Go
//! links helm, kubectl and flux by default on linux/amd64.
//!
//! Why: a position-independent `berth` carries ~47,000 relative relocations
//! (the tables of the template engine, clap, kube and rustls), and the
//! dynamic loader patches every one at start-up, touching ~180 pages before
//! `main` runs — about 0.5 ms of every `berth template` run, a tenth of a
//! small chart's whole render. The cost of the choice is that the binary's
//! own code and data are not placed at a random address (shared libraries,
//! heap and stacks still are); the controller runs in a read-only,
//! non-root container (see `charts/berth`), as Go controllers do.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let target = std::env::var("TARGET").unwrap_or_default();
    if target.contains("linux") {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
