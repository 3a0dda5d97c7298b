//! The sans-I/O interface between a job and the runner that performs its requests.
//!
//! A job never touches the network. The runner asks it what to do next ([`HubJob::next`]),
//! performs that one request exactly as described, and hands the raw answer back
//! ([`HubJob::resolve`]); the job decides what the status means. Between requests the
//! job may ask for its progress to be journaled ([`Next::SaveProgress`]), so that a closed
//! tab resumes where it stopped. This is the shape of bdk's chain queries: the core
//! decides URLs, conditional writes and status handling, the runner only moves bytes.

use super::Job;
use crate::collections::CollectionError;
use crate::collections::settings::SettingsError;
use crate::keys::keychain::KeychainError;
use crate::protocol::auth::AuthResponseError;
use std::fmt;

/// The HTTP method of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Method {
    /// `GET`.
    Get,
    /// `POST`.
    Post,
    /// `DELETE`.
    Delete,
}

impl Method {
    /// The method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }
}

/// A conditional request header.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Condition {
    /// `If-Match: <etag>`: only if the file is still the version read.
    IfMatch(String),
    /// `If-None-Match: *`: only if the file does not exist yet.
    IfNoneMatch,
}

impl Condition {
    /// The condition of a write that must replace exactly the version that was read:
    /// `If-Match` of its ETag, or `If-None-Match: *` when there was no file (`etag` is
    /// then `None` and `existed` false). `None` when a file exists but the hub exposed no
    /// ETag: there is nothing to condition on.
    pub fn on_version(existed: bool, etag: Option<&str>) -> Option<Condition> {
        match (existed, etag) {
            (false, _) => Some(Condition::IfNoneMatch),
            (true, Some(e)) => Some(Condition::IfMatch(e.to_string())),
            (true, None) => None,
        }
    }

    /// The header's name and value.
    pub fn header(&self) -> (&'static str, &str) {
        match self {
            Condition::IfMatch(etag) => ("If-Match", etag),
            Condition::IfNoneMatch => ("If-None-Match", "*"),
        }
    }
}

/// One request, fully described: the runner adds nothing and interprets nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubRequest {
    /// The method.
    pub method: Method,
    /// The whole URL.
    pub url: String,
    /// A Gaia token, sent as `Authorization: bearer <token>`.
    pub bearer: Option<String>,
    /// The `Content-Type` of the body.
    pub content_type: Option<String>,
    /// A conditional header.
    pub condition: Option<Condition>,
    /// The body.
    pub body: Option<String>,
}

impl HubRequest {
    /// A `GET` of a public read URL.
    pub fn get(url: String) -> HubRequest {
        HubRequest {
            method: Method::Get,
            url,
            bearer: None,
            content_type: None,
            condition: None,
            body: None,
        }
    }

    /// The headers to send, in order.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let mut h = Vec::new();
        if let Some(ct) = &self.content_type {
            h.push(("Content-Type", ct.clone()));
        }
        if let Some(t) = &self.bearer {
            h.push(("Authorization", format!("bearer {t}")));
        }
        if let Some(c) = &self.condition {
            let (name, value) = c.header();
            h.push((name, value.to_string()));
        }
        h
    }
}

/// What came back, as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubResponse {
    /// The HTTP status.
    pub status: u16,
    /// The `ETag` header, if the hub exposes it.
    pub etag: Option<String>,
    /// The body text.
    pub body: String,
}

/// What a job wants next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Perform this request and [`HubJob::resolve`] its answer.
    Request(HubRequest),
    /// Journal this state of the job (the runner writes it with the settings file's
    /// read → change → conditional write), then ask again.
    SaveProgress(Job),
    /// Nothing left: the job is complete.
    Done,
}

/// Why a job stopped. The variants only moving data raises exist with the `migration`
/// feature, so the page's module does not carry their messages.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JobError {
    /// The hub answered a request with a status the job cannot go on from.
    Refused {
        /// What the job was doing, in words (`"writing collection/a.json"`).
        doing: String,
        /// The status.
        status: u16,
    },
    /// A file the plan relies on is gone (a history version deleted meanwhile).
    Missing {
        /// The file's path.
        path: String,
    },
    /// [`HubJob::resolve`] was called without a request in flight (a runner bug).
    NoRequest,
    /// A file kept changing between Cairn's read and its conditional write: every
    /// attempt met a newer version (412).
    Changed {
        /// The file, in words ("your settings file", a path …).
        file: String,
    },
    /// An answer arrived but is not what was asked for.
    Unreadable {
        /// What was asked, in words ("the listing of …").
        what: String,
    },
    /// The user cancelled; the progress so far is journaled.
    Cancelled,
    /// A file is larger than the hub accepts.
    #[cfg(feature = "migration")]
    TooLarge {
        /// The file.
        file: String,
        /// Its size in bytes.
        size: u64,
        /// The hub's limit in bytes.
        limit: u64,
    },
    /// A copied file read back differently from what was written.
    #[cfg(feature = "migration")]
    Mismatch {
        /// The file.
        file: String,
    },
    /// A hub stopped answering and did not come back within the time a job waits.
    #[cfg(feature = "migration")]
    Unavailable {
        /// Which hub, in words ("the old hub").
        hub: String,
        /// How long the job waited, in seconds.
        waited_s: u64,
    },
    /// "Check hub": the hub refused the probe file Cairn wrote with a token made for the
    /// challenge text the hub announces.
    #[cfg(feature = "migration")]
    ProbeRefused {
        /// The status.
        status: u16,
        /// The hub's own words, when its answer had any (`message` of its JSON error).
        said: Option<String>,
    },
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JobError::Refused { doing, status: 412 } => write!(
                f,
                "the hub refused {doing}: the file changed meanwhile (412)"
            ),
            JobError::Refused { doing, status: 507 } => write!(
                f,
                "the hub refused {doing}: it has no room left for it (507 Insufficient Storage)"
            ),
            JobError::Refused { doing, status } => {
                write!(f, "the hub refused {doing} ({status})")
            }
            #[cfg(feature = "migration")]
            JobError::ProbeRefused { status, said } => {
                write!(f, "the hub refused the write of a probe file ({status})")?;
                if matches!(status, 401 | 403) {
                    f.write_str(": it does not accept a token made for the challenge text its hub_info announces, so apps could not write to it either")?;
                }
                match said {
                    Some(said) => write!(f, ". The hub said: \u{201c}{said}\u{201d}"),
                    None => Ok(()),
                }
            }
            JobError::Missing { path } => write!(f, "the version {path} is gone"),
            JobError::NoRequest => f.write_str("an answer came with no request in flight"),
            JobError::Changed { file } => write!(f, "{file} kept changing while Cairn wrote it"),
            JobError::Unreadable { what } => write!(f, "{what} is unreadable"),
            JobError::Cancelled => f.write_str("cancelled"),
            #[cfg(feature = "migration")]
            JobError::TooLarge { file, size, limit } => write!(
                f,
                "{file} is {size} bytes, more than the hub accepts ({limit} bytes)"
            ),
            #[cfg(feature = "migration")]
            JobError::Mismatch { file } => write!(
                f,
                "{file} read back from the new hub differs from what was copied"
            ),
            #[cfg(feature = "migration")]
            JobError::Unavailable { hub, waited_s } => write!(
                f,
                "{hub} has not answered for {} min {} s; what is done is kept: \
                 press Resume once it is back",
                waited_s / 60,
                waited_s % 60
            ),
        }
    }
}

impl std::error::Error for JobError {}

/// The one transport of every job: performs a [`HubRequest`] exactly as described and
/// returns the raw answer, whatever its status (judging it is the job's part). The
/// browser layer implements it with `fetch`; tests implement it with an in-memory hub.
///
/// Jobs written as `async` functions over a `Hub` ([`super::calls`], the revocation,
/// the sign-in writes) and state-machine jobs driven by [`super::drive`] ([`HubJob`])
/// both reach the network only through it.
pub trait Hub {
    /// The transport's failure (no connection, timeout …), which also carries every
    /// core error a job can stop with, so that a job's `?` needs no conversion table.
    type Error: From<JobError>
        + From<SettingsError>
        + From<CollectionError>
        + From<KeychainError>
        + From<AuthResponseError>
        + fmt::Display;

    /// Performs `request`.
    fn send(&self, request: HubRequest) -> impl Future<Output = Result<HubResponse, Self::Error>>;

    /// Waits `ms` milliseconds (before retrying a file another writer holds).
    fn wait(&self, ms: u32) -> impl Future<Output = ()>;
}

/// What [`Copier::copy`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    /// The status of the read; 0 when `from` gave no answer at all (no connection,
    /// timeout), which a move treats as the old hub being briefly away.
    pub read_status: u16,
    /// The status of the write; `None` when the read failed and nothing was written.
    pub write_status: Option<u16>,
    /// The bytes written.
    pub len: u64,
    /// Their SHA-256.
    pub sha256: [u8; 32],
}

/// What [`Copier::digest`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digested {
    /// The status of the read.
    pub status: u16,
    /// The body's length.
    pub len: u64,
    /// Its SHA-256.
    pub sha256: [u8; 32],
}

/// A transport that also moves a file's body from one URL to another without it
/// passing through the job (in the browser, without it entering wasm memory at all),
/// for moving data between hubs.
pub trait Copier: Hub {
    /// `GET`s `from` and, when that answered 2xx, sends its body as the body of `to`
    /// (`to.body` is ignored). A read that gets no answer is `read_status` 0, not an
    /// error; a write that gets none is an error.
    fn copy(&self, from: &str, to: HubRequest)
    -> impl Future<Output = Result<Copied, Self::Error>>;

    /// `GET`s `url` and hashes its body.
    fn digest(&self, url: &str) -> impl Future<Output = Result<Digested, Self::Error>>;
}

/// A multi-step job over a Gaia hub, without I/O (see the module docs).
pub trait HubJob {
    /// What to do next. Calling it again without [`HubJob::resolve`] in between gives
    /// the same request (a runner may retry a request that failed in transit).
    fn next(&mut self) -> Next;

    /// The answer to the request [`HubJob::next`] gave last. An error ends the run; the
    /// journaled progress stays, so the job can resume later.
    fn resolve(&mut self, response: HubResponse) -> Result<(), JobError>;

    /// The last state saved with [`Next::SaveProgress`] acknowledged: the runner calls
    /// this once the journal write succeeded.
    fn saved(&mut self);

    /// Progress for a progress bar: (done, total).
    fn progress(&self) -> (u64, u64);

    /// The job's journal form at this point (what a cancel or failure leaves behind),
    /// or `None` for a job that is not journaled.
    fn journal_entry(&self) -> Option<Job>;
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn a_write_is_conditioned_on_the_version_read() {
        let c = Condition::on_version(true, Some("\"abc\""));
        assert_eq!(
            c.as_ref().map(Condition::header),
            Some(("If-Match", "\"abc\""))
        );
        let c = Condition::on_version(false, None);
        assert_eq!(
            c.as_ref().map(Condition::header),
            Some(("If-None-Match", "*"))
        );
        assert_eq!(Condition::on_version(true, None), None);
        let r = HubRequest {
            condition: Some(Condition::IfNoneMatch),
            bearer: Some("t".into()),
            content_type: Some("application/json".into()),
            ..HubRequest::get("http://hub.example/x".into())
        };
        assert_eq!(
            r.headers(),
            [
                ("Content-Type", "application/json".to_string()),
                ("Authorization", "bearer t".to_string()),
                ("If-None-Match", "*".to_string()),
            ]
        );
    }
}
