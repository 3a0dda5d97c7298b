//! Multi-step jobs that must survive a closed tab: revocations (and downgrades) of
//! collection access, and "undo changes since" in the file browser.
//!
//! The settings file keeps them in its [`Journal`]: one typed list, written only through
//! [`Journal::save`] and [`Journal::remove`], serialised in one place
//! ([`Job::to_value`] / [`Job::from_value`]). What each job does next is decided by its
//! own type ([`crate::collections::Revocation`], [`crate::collections::files::UndoJob`]);
//! the browser runs the steps and saves progress here after each one.
//!
//! Jobs are written sans I/O ([`hub_io`]): a job says which request comes next and
//! judges each answer; one runner in the browser layer (`cairn_browser::jobs`) performs
//! the requests, journals, reports progress and cancels. [`undo`] runs rollback, restore
//! and "undo changes since" this way.

pub mod hub_io;
mod journal;
pub mod undo;

pub use hub_io::{HubJob, HubRequest, HubResponse, JobError, Next};
pub use journal::{Job, JobKind, Journal};
