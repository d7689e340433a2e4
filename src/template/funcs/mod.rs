//! The function library, one file per family, composed as Helm composes it:
//! Sprig's map (minus `env`/`expandenv`), then Helm's own functions on top,
//! so Helm's versions win where names clash. The Go builtins (`and`, `len`,
//! `printf`, …) belong to the engine, not to this map.

use crate::func::Registry;

// Sprig families.
pub mod crypto;
pub mod dates;
pub mod defaults;
pub mod dicts;
pub mod encoding;
pub mod lists;
pub mod math;
pub mod paths;
pub mod random;
pub mod reflection;
pub mod regex;
pub mod semver;
pub mod strings;
pub mod urls;
// Helm's own.
pub mod helm;
pub mod json;
pub mod toml;
pub mod yaml;
// Used by `crypto`.
mod rsa_keygen;

/// Helm's complete function map (Sprig + Helm), without the Go builtins.
pub fn helm_functions() -> Registry {
    let mut reg = Registry::new();
    // Sprig first …
    strings::register(&mut reg);
    lists::register(&mut reg);
    dicts::register(&mut reg);
    defaults::register(&mut reg);
    reflection::register(&mut reg);
    paths::register(&mut reg);
    urls::register(&mut reg);
    math::register(&mut reg);
    semver::register(&mut reg);
    regex::register(&mut reg);
    encoding::register(&mut reg);
    dates::register(&mut reg);
    crypto::register(&mut reg);
    random::register(&mut reg);
    // … then Helm's overlay, which replaces Sprig's versions of the same names.
    json::register(&mut reg);
    yaml::register(&mut reg);
    toml::register(&mut reg);
    helm::register(&mut reg);
    reg
}
