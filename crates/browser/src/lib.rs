//! Cairn's browser layer (compiled only for `wasm32`): the platform the authenticator
//! page runs on, and the JS API for app and wallet developers.
//!
//! - [`webcrypto`] — the core's bulk steps (AES, HMAC) in `crypto.subtle`;
//! - [`idb`] — IndexedDB as promises; [`session`] — the per-tab unlock session;
//! - [`http`] — `fetch` with timeouts: the Gaia hub, app manifests, `config.json`;
//! - [`wait`] — promises, sleeping and the clock;
//! - [`jobs`] — the one runner of the core's multi-step jobs (fetch, journal, progress,
//!   cancel);
//! - [`Error`] — what any of them (and the page's UI) can fail with;
//! - `js_api` — the `wasm-bindgen` exports: with the `api` feature the whole developer
//!   package (`pkg/`), without it only the vault calls of the page's KDF worker.

#![cfg(target_arch = "wasm32")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
pub mod http;
pub mod idb;
pub mod jobs;
pub mod js_api;
pub mod session;
pub mod transfer;
pub mod wait;
pub mod webcrypto;

pub use error::{Api, Error, ErrorKind};

#[cfg(feature = "api")]
pub use js_api::*;
