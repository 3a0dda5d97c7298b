//! JSON text in and out, as the Stacks libraries read and write it.
//!
//! A small document model instead of serde: the authenticator's wasm module has a size
//! budget, and generic (de)serialisation code was a third of it. What matters here:
//!
//! - **Key order is kept.** Objects remember insertion order, as JavaScript objects do, so
//!   a payload we build is written in the order `JSON.stringify` would write it (JWT
//!   signatures and the test vectors depend on it). A repeated key keeps its first
//!   position and its last value, as `JSON.parse` does.
//! - **Numbers keep their text.** A number is stored as the digits it was read with (or the
//!   integer it was made from) and written back unchanged, so nothing is lost to floating
//!   point and no float printer is needed. [`Number::as_f64`] parses on demand.
//! - **Output is `JSON.stringify`'s**: no spaces, non-ASCII as raw UTF-8, `"` and `\`
//!   escaped, control characters as `\b \t \n \f \r` or `\u00xx`.
//! - **Input is strict RFC 8259**, nested at most [`MAX_DEPTH`] deep; errors say what was
//!   expected and at which byte.
//!
//! The module is in four parts: the document model ([`Value`], [`Number`], [`Map`] and
//! the `json!` macro), parsing ([`from_str`]), writing ([`to_string`]) and reading
//! records field by field ([`Fields`]).

mod fields;
mod parse;
mod value;
mod write;

pub use fields::{FieldError, Fields};
pub use parse::{Error, from_slice, from_str};
pub use value::{Map, Number, Value, new_array};
pub use write::{to_string, to_string_pretty};

/// How deep arrays and objects may nest in parsed text (serde_json's default too).
pub const MAX_DEPTH: usize = 128;

#[cfg(test)]
mod tests;
