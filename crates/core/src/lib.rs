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

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod collections;
pub mod crypto;
pub mod jobs;
pub mod keys;
pub mod protocol;
pub mod support;
