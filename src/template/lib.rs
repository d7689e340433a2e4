//! A Go `text/template` engine with the Sprig and Helm function library.
//!
//! Written by hand because no crate has Go's semantics where Helm charts
//! depend on them (see `docs/template.md`): the one Rust port measured
//! (`gotmpl`) prints float64 `1000000` as `1000000` (Go: `1e+06`), formats
//! `printf "%d"` of a float64 as a number (Go: `%!d(float64=1e+06)`), lacks
//! `%T`, and yields `<no value>` for `.missing.key` where Go fails.
//!
//! Layout: `value` (the data model), `fmt` (Go's fmt verbs), `func` (how
//! functions are declared and called), `funcs/` (the library, one file per
//! family). The engine (lexer, parser, executor) lands beside them.

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

pub use engine::{ExecOptions, LimitKind, Limits, MissingKey, Templates};
pub use func::{Context, FuncError, FuncResult, Function, Registry};
pub use value::{GoType, List, Map, Object, Value};
