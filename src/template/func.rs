//! Template functions: how a function is declared, called and registered.
//!
//! Every function declares its Go signature, because Go's `text/template`
//! checks and converts each argument against the parameter type before the
//! call (`trunc` refuses a float64 count, `upper` refuses nil, an integer
//! constant becomes a float64 for a `float64` parameter, …). The engine does
//! that conversion (see `exec`), so an implementation receives arguments
//! that already have the declared types (`Interface` parameters receive any
//! value, `Nil` included).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::value::{GoType, Value};

/// An error a function reports. The engine wraps it as Go does:
/// `error calling NAME: MESSAGE`. Both a Go function's returned `error` and
/// a recovered Go panic end up here, with Go's exact message text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuncError(pub String);

impl FuncError {
    pub fn new(msg: impl Into<String>) -> FuncError {
        FuncError(msg.into())
    }
}

impl std::fmt::Display for FuncError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub type FuncResult = Result<Value, FuncError>;

/// What a function may ask of the running engine.
pub trait Context {
    /// Helm `include`: execute the named template with `data`, return its
    /// output. Errors carry Go's nested message.
    fn include(&mut self, name: &str, data: Value) -> Result<String, FuncError>;
    /// Helm `tpl`: parse `text` as a template (under the current template's
    /// name, on a clone of the template set) and execute it with `data`.
    fn tpl(&mut self, text: &str, data: Value) -> Result<String, FuncError>;
    /// Draw `units` from the evaluation budget (loops, `until`, `seq`,
    /// `repeat`, string building). Fails once the budget is spent.
    fn charge(&mut self, units: u64) -> Result<(), FuncError>;
    /// Helm `lookup`. Without a cluster this returns an empty map, as
    /// `helm template` does.
    fn lookup(
        &mut self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Value, FuncError>;
    /// Whether Helm's strict mode (`missingkey=error`) is on; `tpl` follows it.
    fn strict(&self) -> bool {
        false
    }
}

/// The Rust side of a function.
pub type FuncImpl = fn(&mut dyn Context, Vec<Value>) -> FuncResult;

/// A function as the template sees it: name, Go signature and body.
pub struct Function {
    pub name: &'static str,
    /// Types of the fixed parameters.
    pub params: &'static [GoType],
    /// Type of each variadic argument (`...T`), if the function is variadic.
    pub variadic: Option<GoType>,
    pub call: FuncImpl,
}

/// The function map (Go's `template.FuncMap`).
/// A small multiply-rotate hash (the one rustc uses internally) for the
/// function map: its keys are fixed names chosen by the program, so
/// SipHash's protection against chosen colliding keys is not needed, and
/// every identifier of every parsed template is looked up here.
#[derive(Default, Clone, Copy)]
pub(crate) struct NameHasher(u64);

impl NameHasher {
    const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(Self::SEED);
    }
}

impl Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes([
                c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7],
            ]));
        }
        for &b in chunks.remainder() {
            self.add(u64::from(b));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[derive(Default)]
pub struct Registry {
    funcs: HashMap<&'static str, Function, BuildHasherDefault<NameHasher>>,
}

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Add or replace a function (later registrations win, as Helm's
    /// overlay of Sprig does).
    pub fn add(
        &mut self,
        name: &'static str,
        params: &'static [GoType],
        variadic: Option<GoType>,
        call: FuncImpl,
    ) {
        self.funcs.insert(
            name,
            Function {
                name,
                params,
                variadic,
                call,
            },
        );
    }

    pub fn remove(&mut self, name: &str) {
        self.funcs.remove(name);
    }

    pub fn get(&self, name: &str) -> Option<&Function> {
        self.funcs.get(name)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.funcs.contains_key(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.funcs.keys().copied()
    }
}
