//! Multi-step jobs over a Gaia hub: sign-in writes, revocations (and downgrades) of
//! collection access with their re-encryption, and rollback, restore and "undo changes
//! since" in the file browser.
//!
//! **No I/O here.** Every job reaches the hub only through one transport, the [`Hub`]
//! trait ([`hub_io`]): it performs a fully described request and returns the raw answer;
//! what the answer means (which status is success, when to retry, what is conditional)
//! is decided in this module, once ([`calls`]). The browser layer implements `Hub` with
//! `fetch` (`cairn_browser::jobs::BrowserHub`) — the one runner every job goes through —
//! and the tests implement it with an in-memory hub.
//!
//! Jobs come in two shapes over that one transport: state machines that say which
//! request comes next and judge each answer ([`HubJob`], driven by [`drive`]; [`undo`]),
//! and `async` functions for jobs whose steps need the bulk ciphers between requests
//! ([`revocation`], [`sign_in`]). Both journal through the settings file
//! ([`settings_file::SettingsFile::save_job`]): one typed [`Journal`], written only through
//! [`Journal::save`] and [`Journal::remove`], serialised in one place
//! ([`Job::to_value`] / [`Job::from_value`]), so a closed tab resumes where it stopped.

pub mod calls;
mod drive;
#[cfg(feature = "migration")]
pub mod export;
pub mod hub_io;
mod journal;
pub mod key_files;
#[cfg(feature = "migration")]
pub mod migration;
pub mod revocation;
pub mod settings_file;
pub mod sign_in;
pub mod undo;

pub use drive::{RunEnd, drive};

use crate::keys::keychain::Keychain;

/// What every job of an identity runs with: the transport, the bulk cipher steps
/// (WebCrypto in the page), the keychain and the identity's index.
pub struct Env<'a, H, B> {
    /// The one transport.
    pub hub: &'a H,
    /// The bulk cipher steps.
    pub bulk: &'a B,
    /// The keychain (app keys, collection keys).
    pub keychain: &'a Keychain,
    /// The identity's index.
    pub index: u32,
}
pub use hub_io::{Copier, Hub, HubJob, HubRequest, HubResponse, JobError, Next};
pub use journal::{Job, JobKind, Journal};

/// What a running job tells the screen showing it, and asks of it.
pub trait Monitor {
    /// The current step, in plain words.
    fn say(&self, text: &str);
    /// Files done and to do.
    fn files(&self, done: u64, total: u64);
    /// Bytes done and to do (for jobs that copy files).
    fn bytes(&self, _done: u64, _total: u64) {}
    /// Whether the user asked to stop (checked between files).
    fn cancelled(&self) -> bool;
    /// The time now, in ms since the epoch.
    fn now_ms(&self) -> i64;
}
