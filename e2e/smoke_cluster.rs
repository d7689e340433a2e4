//! Smoke tests (to be written).

pub fn tests() -> Vec<crate::Test> {
    Vec::new()
}
