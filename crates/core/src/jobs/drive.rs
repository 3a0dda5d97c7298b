//! The driver of state-machine jobs ([`HubJob`]): it performs each request the job asks
//! for over the one transport ([`Hub`]), hands the answer back for the job to judge,
//! journals when the job asks, reports progress, and stops between requests when
//! cancelled — leaving the job's progress journaled so it can resume.

use super::Job;
use super::hub_io::{Hub, HubJob, JobError, Next};

/// How a run ended.
#[derive(Debug)]
pub enum RunEnd<E> {
    /// Every step is done (the caller clears the journal entry and logs the job).
    Done,
    /// Stopped by the user (or a lock) between two requests; progress is journaled.
    Cancelled,
    /// A request failed or the hub refused it; progress is journaled when possible.
    Failed(E),
}

/// Runs `job` to its end. `save` journals a job state (the settings file's read →
/// change → conditional write); `on_progress` gets (done, total) after each answer;
/// `cancelled` is asked before each step.
pub async fn drive<H: Hub, J: HubJob>(
    hub: &H,
    job: &mut J,
    mut save: impl AsyncFnMut(Job) -> Result<(), H::Error>,
    mut on_progress: impl FnMut(u64, u64),
    cancelled: impl Fn() -> bool,
) -> RunEnd<H::Error> {
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
                let judged = match hub.send(request).await {
                    Ok(answer) => job.resolve(answer).map_err(H::Error::from),
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
async fn keep_progress<J: HubJob, E>(
    job: &mut J,
    save: &mut impl AsyncFnMut(Job) -> Result<(), E>,
) {
    if let Some(entry) = job.journal_entry()
        && save(entry).await.is_ok()
    {
        job.saved();
    }
}

/// The error a cancelled run reports where one is wanted.
impl<E: From<JobError>> RunEnd<E> {
    /// The run's outcome as a `Result` (a cancel is [`JobError::Cancelled`]).
    pub fn into_result(self) -> Result<(), E> {
        match self {
            RunEnd::Done => Ok(()),
            RunEnd::Cancelled => Err(JobError::Cancelled.into()),
            RunEnd::Failed(e) => Err(e),
        }
    }
}
