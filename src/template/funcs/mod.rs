//! The function library, one file per family, composed as Helm composes it:
//! Sprig's map minus `env`/`expandenv`, then Helm's own functions on top.

use crate::func::Registry;

/// Helm's complete function map (Sprig + Helm), without the Go builtins,
/// which the engine provides itself.
pub fn helm_functions() -> Registry {
    let mut reg = Registry::new();
    // Each family registers itself here, e.g. `strings::register(&mut reg);`
    reg
}
