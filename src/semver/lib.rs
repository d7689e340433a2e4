//! Masterminds/semver v3 (see module docs once written).
