//! The one runner of the core's multi-step jobs ([`cairn_core::jobs`]): it performs each
//! request a job asks for with `fetch`, hands the answer back for the job to judge,
//! writes the journal when the job asks, reports progress, and stops between requests
//! when cancelled — leaving the job's progress journaled so it can resume.

use crate::http::{self, Answer, HUB_TIMEOUT_MS, Stored};
use crate::wait::sleep;
use crate::{Error, ErrorKind};
use cairn_core::jobs::hub_io::Condition;
use cairn_core::jobs::{HubJob, HubResponse, Job, Next};

/// How a run ended.
#[derive(Debug)]
pub enum RunEnd {
    /// Every step is done (the caller clears the journal entry and logs the job).
    Done,
    /// Stopped by the user (or a lock) between two requests; progress is journaled.
    Cancelled,
    /// A request failed or the hub refused it; progress is journaled when possible.
    Failed(Error),
}

/// Runs `job` to its end. `save` journals a job state (the settings file's read →
/// change → conditional write); `on_progress` gets (done, total) after each answer;
/// `cancelled` is asked before each step.
pub async fn run<J: HubJob>(
    job: &mut J,
    mut save: impl AsyncFnMut(Job) -> Result<(), Error>,
    mut on_progress: impl FnMut(u64, u64),
    cancelled: impl Fn() -> bool,
) -> RunEnd {
    loop {
        if cancelled() {
            keep_progress(job, &mut save).await;
            return RunEnd::Cancelled;
        }
        match job.next() {
            Next::Done => return RunEnd::Done,
            Next::SaveProgress(entry) => match save(entry).await {
                Ok(()) => job.saved(),
                Err(e) => return RunEnd::Failed(e),
            },
            Next::Request(request) => {
                let headers = request.headers();
                let headers: Vec<(&str, &str)> =
                    headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
                let answer = http::fetch(
                    &request.url,
                    request.method.as_str(),
                    &headers,
                    request.body.as_deref(),
                    HUB_TIMEOUT_MS,
                )
                .await;
                let judged = match answer {
                    Ok(a) => job
                        .resolve(HubResponse {
                            status: a.status,
                            etag: a.etag,
                            body: a.body,
                        })
                        .map_err(Error::from),
                    Err(e) => Err(e),
                };
                if let Err(e) = judged {
                    keep_progress(job, &mut save).await;
                    return RunEnd::Failed(e);
                }
                let (done, total) = job.progress();
                on_progress(done, total);
            }
        }
    }
}

/// Journals where a stopped job got to (best effort: the last saved state is the
/// fallback, and every step is safe to repeat).
async fn keep_progress<J: HubJob>(
    job: &mut J,
    save: &mut impl AsyncFnMut(Job) -> Result<(), Error>,
) {
    if let Some(entry) = job.journal_entry()
        && save(entry).await.is_ok()
    {
        job.saved();
    }
}

/// What a change of a file decided, given its current text.
pub enum Rewrite<T> {
    /// Store this body, then return `out`.
    Write {
        /// The new body.
        body: String,
        /// What [`update_file`] returns once the body is stored.
        out: T,
    },
    /// Write nothing; return `out`.
    Keep(T),
}

/// The one read → change → conditional-write loop (settings file, key files,
/// re-encryption): reads `read_url` (not when `may_exist` is false: a missing file would
/// be a 404 in the console), hands the answer (`None`: no file) to `change`, and stores
/// what it decided with `If-Match` of the version read (`If-None-Match: *` when there
/// was none, nothing when the hub gave no ETag). On 412 it starts again from a fresh
/// read, on 409 (another write of the file in flight) after a short wait; after
/// `attempts` tries the file (named `file` in the error) is reported as changing.
#[allow(clippy::too_many_arguments)]
pub async fn update_file<T>(
    read_url: &str,
    store_url: &str,
    token: &str,
    content_type: &str,
    mut may_exist: bool,
    attempts: u32,
    file: &str,
    mut change: impl AsyncFnMut(Option<&Answer>) -> Result<Rewrite<T>, Error>,
) -> Result<T, Error> {
    // The generic part only sequences: reading and the conditional store are plain
    // functions, so the four callers share their code instead of four copies of it.
    for _ in 0..attempts {
        let existing = read_existing(read_url, may_exist).await?;
        may_exist = true;
        let (body, out) = match change(existing.as_ref()).await? {
            Rewrite::Keep(out) => return Ok(out),
            Rewrite::Write { body, out } => (body, out),
        };
        if store_if_unchanged(store_url, token, &body, content_type, existing.as_ref()).await? {
            return Ok(out);
        }
    }
    Err(ErrorKind::Changed {
        file: file.to_string(),
        retried: true,
    }
    .into())
}

/// The file's current version, unless it is known not to exist.
async fn read_existing(read_url: &str, may_exist: bool) -> Result<Option<Answer>, Error> {
    if may_exist {
        http::read(read_url).await
    } else {
        Ok(None)
    }
}

/// Stores `body` if the file is still the version read (`existing`); `Ok(false)` when it
/// changed meanwhile (412) or another write of it was in flight (409, after a short
/// wait): read again and retry.
async fn store_if_unchanged(
    store_url: &str,
    token: &str,
    body: &str,
    content_type: &str,
    existing: Option<&Answer>,
) -> Result<bool, Error> {
    let condition =
        Condition::on_version(existing.is_some(), existing.and_then(|a| a.etag.as_deref()));
    match http::store(
        store_url,
        token,
        body,
        content_type,
        condition.as_ref().map(Condition::header),
    )
    .await
    {
        Ok(Stored::Done) => Ok(true),
        Ok(Stored::Conflict) => Ok(false),
        Err(e) if e.is_conflict() => {
            sleep(200).await;
            Ok(false)
        }
        Err(e) => Err(e),
    }
}
