//! The one runner of the core's multi-step jobs ([`cairn_core::jobs`]): it performs each
//! request a job asks for with `fetch`, hands the answer back for the job to judge,
//! writes the journal when the job asks, reports progress, and stops between requests
//! when cancelled — leaving the job's progress journaled so it can resume.

use crate::Error;
use crate::http::{self, HUB_TIMEOUT_MS};
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
