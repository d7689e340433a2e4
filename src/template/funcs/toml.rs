//! Template functions: toml.

use crate::func::Registry;

/// Register this family's functions.
pub fn register(_reg: &mut Registry) {}
