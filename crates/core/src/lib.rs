//! Cairn's pure core: everything the authenticator, the JS API and the hub know about
//! Stacks keys, protocols and collections, with no I/O at all.
//!
//! Nothing here touches the network, storage, the clock or the DOM: callers pass the
//! time and the bytes in, and get values, tokens and plans out. It builds and tests with
//! a plain `cargo test -p cairn-core`, and compiles unchanged to `wasm32` for the
//! browser crates (`cairn-browser`, `cairn-authenticator`) and natively for `cairn-hub`.
//!
//! - [`keys`] — the Secret Key, the keychain derived from it, secp256k1 keys, the vault;
//! - [`crypto`] — ECIES and the bulk (AES, HMAC) steps of Cairn's formats;
//! - [`protocol`] — the wire formats of Stacks sign-in, Gaia, profiles, Sign-In with
//!   Stacks, the wallet interface and Clarity values;
//! - [`collections`] — collections, their keys, grants and revocations, the settings
//!   file, file history and the file browser's logic;
//! - [`jobs`] — the journal of multi-step jobs that resume after a closed tab;
//! - [`support`] — JSON, URLs, text encodings, calendar time and sorting.
//!
//! # Errors
//!
//! Each area has its own error type (`KeychainError`, `EciesError`, `SettingsError`,
//! `CollectionError`, `JwtError`, `support::json::Error` …). Every one of them is
//! `#[non_exhaustive]` (a new way to fail is not a breaking change; match with a `_`
//! arm) and implements [`std::error::Error`].
//!
//! Their `Display` text is written for the person using the app: one plain sentence
//! fragment, lower-case, naming no Rust types, that the authenticator and the JS API
//! show as it is (after "Could not …:", or as a JS `Error`'s message). So that one line
//! says everything, an error that wraps another (e.g. `CollectionError::KeyFile` around
//! an `EciesError`) **includes the cause's text in its own** and *also* returns the cause
//! from [`source()`](std::error::Error::source), for code that wants to inspect it. A
//! reporter that walks the `source()` chain should therefore print only the outermost
//! error's `Display`, or it repeats the causes. A cause kept only as text (a bulk
//! step's failure inside `EciesError::Bulk`, `VaultError::Cipher`) has no `source()`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod collections;
pub mod crypto;
pub mod jobs;
pub mod keys;
pub mod protocol;
pub mod support;
