//! berth: a Kubernetes GitOps controller that delivers signed Helm charts
//! from OCI registries, rendering them natively in Rust.
//!
//! The library owns every module; `src/main.rs` only parses flags and wires
//! the runtime. The data flow and the module boundaries are described in
//! `docs/design.md` (and in the project's DESIGN notes): each module only
//! reaches down the flow, never back up.

pub mod alloc;
pub mod api;
pub mod apply;
pub mod artifact;
pub mod cli;
pub mod cmd_template;
pub mod controller;
pub mod oci_chart;
pub mod release;
pub use berth_semver as semver;
pub use berth_template as template;
