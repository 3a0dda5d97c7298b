//! The JavaScript API, exported with `wasm-bindgen` (compiled only for `wasm32`).
//!
//! Conventions for every export in this module:
//! - JS names are camelCase (`js_name`); Rust names stay snake_case.
//! - Every failure is thrown as a real JS `Error` whose message is the core's `Display`
//!   text: return `Result<T, JsValue>` and map errors with [`js_err`].
//! - Arguments are taken as `JsValue` and checked with the helpers below, so a wrong
//!   type or range gives a clear `Error` instead of a trap, a coercion or a silent wrap:
//!   numbers with [`parse_index`] / [`parse_u32`] (`-1`, `1.5`, `NaN`, `2**31`, `1e20`,
//!   `null`, `"0"` are refused), strings with [`parse_str`] / [`parse_secret`], booleans
//!   with [`parse_bool`]. `unchecked_param_type` keeps the TypeScript types precise.
//! - Private keys are returned as lower-case hex strings (32 bytes, 64 characters).
//!
//! To add an export: write a documented `#[wasm_bindgen(js_name = ...)]` function (or a
//! method in a `#[wasm_bindgen(js_class = ...)]` block) that returns
//! `Result<_, JsValue>` and uses the helpers below. Larger groups of exports go in
//! submodules (`src/web/<name>.rs`, declared here with `mod <name>;`); they can use the
//! helpers and `WasmKeychain`'s fields through `super::`.

use std::fmt::Display;
use wasm_bindgen::prelude::*;
use zeroize::Zeroizing;

// The page's build (no features) keeps just the vault exports its KDF worker calls; the
// developer package (`api`) has the JS API; `testing` adds the seeding exports of tests
// (`collections`), `bench` the benchmark hooks.
#[cfg(feature = "bench")]
pub mod bench;
#[cfg(feature = "api")]
pub mod clarity;
#[cfg(feature = "testing")]
pub mod collections;
#[cfg(feature = "api")]
pub mod ecies_async;
#[cfg(feature = "api")]
pub mod gaia;
#[cfg(feature = "api")]
pub mod keychain;
#[cfg(feature = "api")]
pub mod protocol;
#[cfg(feature = "api")]
pub mod server_verify;
pub mod vault;

#[cfg(feature = "api")]
pub use keychain::*;

#[cfg(feature = "api")]
/// Converts a JSON value into a plain JS value (through `JSON.parse`, so objects are
/// plain objects, never Maps).
pub(crate) fn to_js(value: &cairn_core::support::json::Value) -> Result<JsValue, JsValue> {
    js_sys::JSON::parse(&value.to_string())
}

#[cfg(feature = "api")]
/// Reads a JS options object as JSON (through `JSON.stringify`); `undefined` and
/// `null` read as `{}`. Errors name `what`.
pub(crate) fn from_js(
    value: JsValue,
    what: &'static str,
) -> Result<cairn_core::support::json::Value, JsValue> {
    let text = if value.is_undefined() || value.is_null() {
        "{}".to_string()
    } else {
        js_sys::JSON::stringify(&value)
            .ok()
            .and_then(|s| s.as_string())
            .ok_or_else(|| js_err(format!("{what} must be a plain object")))?
    };
    match cairn_core::support::json::from_str(&text) {
        Ok(v) if v.is_object() => Ok(v),
        Ok(_) => Err(js_err(format!("{what} must be a plain object"))),
        Err(e) => Err(js_err(format!("{what}: {e}"))),
    }
}

/// Turns any error into a JS `Error` whose message is the error's `Display` text.
pub(crate) fn js_err(e: impl Display) -> JsValue {
    js_sys::Error::new(&e.to_string()).into()
}

/// Reads a whole number in `0..=max` from a JS value. Anything else (not a number,
/// fractional, negative, NaN, infinite, too large) is refused with `message`.
pub(crate) fn parse_u32(value: &JsValue, max: u32, message: impl Display) -> Result<u32, JsValue> {
    match value.as_f64() {
        Some(n) if n.is_finite() && n.fract() == 0.0 && n >= 0.0 && n <= f64::from(max) => {
            Ok(n as u32)
        }
        _ => Err(js_err(message)),
    }
}

#[cfg(feature = "api")]
/// Reads an identity (account) index: a whole number from 0 to 2147483647.
pub(crate) fn parse_index(value: &JsValue) -> Result<u32, JsValue> {
    parse_u32(
        value,
        0x7fff_ffff,
        cairn_core::keys::keychain::KeychainError::IndexOutOfRange,
    )
}

/// Reads a JS string; anything else is refused with "`what` must be a string, not …".
pub(crate) fn parse_str(value: &JsValue, what: &str) -> Result<String, JsValue> {
    value.as_string().ok_or_else(|| {
        js_err(format_args!(
            "{what} must be a string, not {}",
            describe(value)
        ))
    })
}

/// Like [`parse_str`] for secrets (Secret Keys, private keys): the copy in wasm memory
/// is wiped when dropped.
/// A secret given as a string, or as UTF-8 bytes in a `Uint8Array`, which is
/// overwritten with zeros once read (JS strings cannot be wiped; byte arrays can).
pub(crate) fn parse_secret(value: &JsValue, what: &str) -> Result<Zeroizing<String>, JsValue> {
    if let Some(bytes) = value.dyn_ref::<js_sys::Uint8Array>() {
        let raw = Zeroizing::new(bytes.to_vec());
        bytes.fill(0, 0, bytes.length());
        return std::str::from_utf8(&raw)
            .map(|s| Zeroizing::new(s.to_owned()))
            .map_err(|_| js_err(format_args!("{what} must be UTF-8 text")));
    }
    parse_str(value, what).map(Zeroizing::new)
}

/// The Secret Key as the caller gave the password: a string, or (for a `Uint8Array`
/// password) UTF-8 bytes that the caller zeroes after use.
pub(crate) fn secret_out(password_was_bytes: bool, phrase: &str) -> JsValue {
    if password_was_bytes {
        js_sys::Uint8Array::from(phrase.as_bytes()).into()
    } else {
        JsValue::from_str(phrase)
    }
}

#[cfg(feature = "api")]
/// Reads a JS boolean (`true` or `false` only; no truthiness).
pub(crate) fn parse_bool(value: &JsValue, what: &str) -> Result<bool, JsValue> {
    value.as_bool().ok_or_else(|| {
        js_err(format_args!(
            "{what} must be true or false, not {}",
            describe(value)
        ))
    })
}

/// A short description of a JS value for error messages (never its full content:
/// it may be a secret).
pub(crate) fn describe(value: &JsValue) -> String {
    if value.as_f64().is_some() {
        // JS prints the number (Rust's float printer would add to the page's wasm).
        js_sys::Number::from(value.clone())
            .to_string_with_radix(10)
            .map(String::from)
            .unwrap_or_default()
    } else if value.is_null() {
        "null".into()
    } else if value.is_undefined() {
        "undefined".into()
    } else if value.is_string() {
        "a string".into()
    } else {
        format!(
            "a value of type {}",
            value.js_typeof().as_string().unwrap_or_default()
        )
    }
}
