//! A Go `text/template` engine with the Sprig and Helm function library.
//!
//! Written by hand because no crate has Go's semantics where Helm charts
//! depend on them: the one Rust port measured
//! (`gotmpl`) prints float64 `1000000` as `1000000` (Go: `1e+06`), formats
//! `printf "%d"` of a float64 as a number (Go: `%!d(float64=1e+06)`), lacks
//! `%T`, and yields `<no value>` for `.missing.key` where Go fails.
//!
//! Layout: `value` (the Go-typed data model), `convert` (values.yaml → values
//! as Helm decodes them), `lex`/`parse`/`ast` (Go's `text/template/parse`),
//! `exec` + `builtins` (Go's executor and builtin functions), `engine` (the
//! public API: `Templates`, `ExecOptions`, `Limits`), `fmt` (Go's fmt verbs),
//! `func` (how functions are declared and called) and `funcs/` (the Sprig +
//! Helm library, one file per family).
//!
//! Checked against Helm's own engine case by case: `make conformance`
//! (`conformance/README.md`). Limits Helm lacks (evaluation steps, output
//! size, include/tpl depth) keep hostile templates from exhausting the
//! controller.

mod ast;
mod builtins;
pub mod convert;
pub mod engine;
mod exec;
pub mod fmt;
pub mod func;
pub mod funcs;
mod lex;
mod parse;
mod printable;
#[cfg(test)]
mod tests;
pub mod value;

pub use engine::{ExecOptions, LimitKind, Limits, MissingKey, ParsedFile, Templates};
pub use func::{Context, FuncError, FuncResult, Function, Registry};
pub use value::{GoType, List, Map, Object, Value};
