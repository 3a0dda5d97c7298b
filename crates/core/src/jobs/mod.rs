//! Multi-step jobs that must survive a closed tab: revocations (and downgrades) of
//! collection access, and "undo changes since" in the file browser.
//!
//! The settings file keeps them in its [`Journal`]: one typed list, written only through
//! [`Journal::save`] and [`Journal::remove`], serialised in one place
//! ([`Job::to_value`] / [`Job::from_value`]). What each job does next is decided by its
//! own type ([`crate::collections::Revocation`], [`crate::collections::files::UndoJob`]);
//! the browser runs the steps and saves progress here after each one.

mod journal;

pub use journal::{Job, JobKind, Journal};
