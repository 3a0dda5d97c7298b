//! Cairn: a browser-side authenticator for the Stacks (Blockstack) ecosystem.
//!
//! The crate's pure core (every module below except `web`, `webcrypto` and `app`) does
//! no I/O and builds and tests natively. The `web` module, compiled only for `wasm32`,
//! exposes the JS API with `wasm-bindgen`; `webcrypto` runs the core's bulk steps
//! (AES, HMAC: see `bulk`) in the browser's WebCrypto.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod auth;
pub mod bulk;
pub mod clarity;
pub mod collections;
pub mod ecies;
pub mod encoding;
pub mod files;
pub mod gaia;
pub mod history;
pub mod http_url;
pub mod json;
pub mod jwt;
pub mod keychain;
pub mod keys;
pub mod mnemonic;
pub mod profile;
pub mod response_verify;
pub mod settings;
pub mod sign_in_with_stacks;
pub mod signin;
pub mod sorting;
pub mod time;
pub mod vault;
pub mod wallet_rpc;

#[cfg(all(target_arch = "wasm32", feature = "app"))]
pub mod app;
#[cfg(all(target_arch = "wasm32", any(feature = "api", feature = "app")))]
mod web;
#[cfg(all(target_arch = "wasm32", any(feature = "api", feature = "app")))]
pub mod webcrypto;
#[cfg(all(target_arch = "wasm32", feature = "api"))]
pub use web::*;
