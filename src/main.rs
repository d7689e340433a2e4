//! The berth binary: parses flags and wires the runtime; the library does the work.
fn main() {}
