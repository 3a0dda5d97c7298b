//! `cairn-hub`: a Gaia-compatible storage hub.
//!
//! The crate is split into pure, I/O-free modules that decide what a request means
//! ([`auth`], [`paths`], [`precondition`], [`listing`], [`envelope`], [`config`]) and three
//! layers that do I/O: [`storage`] (the `object_store` crate), [`server`] (axum) and
//! [`serve`] (connections: limits, timeouts, readable refusals).
//! See `hub/README.md` for how the hub behaves and how it differs from the real Gaia hub.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod auth;
pub mod config;
pub mod envelope;
pub mod listing;
pub mod metrics;
pub mod paths;
pub mod precondition;
pub mod replica;
pub mod serve;
pub mod server;
pub mod storage;
