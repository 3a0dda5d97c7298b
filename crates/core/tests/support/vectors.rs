//! The shared test vectors (`tests/data/stacks-vectors.json`, a copy of `../shared/spec/stacks-vectors.json`, produced by the real npm
//! libraries), compiled into the test binary so the same tests run natively and in the
//! browser.
#![allow(dead_code)]

use cairn_core::support::json::Value;

/// The vectors file's text.
pub(crate) const VECTORS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/data/stacks-vectors.json"
));

/// The parsed vectors.
pub(crate) fn vectors() -> Value {
    cairn_core::support::json::from_str(VECTORS).expect("vectors parse")
}

/// A string field of a vector, or a panic naming the missing field.
pub(crate) fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("vector field {key} missing"))
}
