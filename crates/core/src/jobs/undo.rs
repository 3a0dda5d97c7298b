//! Rollback, restore and "undo changes since" as a [`HubJob`]: each change of the plan
//! ([`Change`]) becomes a read of the version to bring back and an archival write, or an
//! archival delete, so the replaced version always stays in the file's history.

use super::Job;
use super::hub_io::{HubJob, HubRequest, HubResponse, JobError, Method, Next};
use crate::collections::files::UndoJob;
use crate::collections::history::Change;
use crate::protocol::hub_urls::{delete_url, read_url, store_url};
use std::collections::BTreeMap;

/// The content type written when the listing did not say one.
const DEFAULT_CONTENT_TYPE: &str = "application/json";

/// Where a collection bucket is and the token its changes are written with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketAccess {
    /// The hub's write URL.
    pub hub_url: String,
    /// The hub's read URL prefix (`hub_info.read_url_prefix`).
    pub read_url_prefix: String,
    /// The bucket's address.
    pub address: String,
    /// An archival owner token: every write and delete keeps the replaced version.
    pub archival_token: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum InFlight {
    None,
    Reading,
    Writing,
    Deleting,
}

/// An undo (or a rollback or restore: a plan of one change) being run.
#[derive(Debug, Clone)]
pub struct UndoRun {
    job: UndoJob,
    bucket: BucketAccess,
    content_types: BTreeMap<String, String>,
    journal_every: Option<usize>,
    started: bool,
    save_due: bool,
    fetched: Option<String>,
    in_flight: InFlight,
}

impl UndoRun {
    /// Runs `job` against `bucket`, journaling its progress first and then every
    /// `journal_every` changes (`None`: not journaled, for a single rollback or restore).
    /// `content_types` are the listing's content types by path, for restored versions.
    pub fn new(
        job: UndoJob,
        bucket: BucketAccess,
        content_types: BTreeMap<String, String>,
        journal_every: Option<usize>,
    ) -> UndoRun {
        UndoRun {
            job,
            bucket,
            content_types,
            journal_every: journal_every.map(|n| n.max(1)),
            started: false,
            save_due: false,
            fetched: None,
            in_flight: InFlight::None,
        }
    }

    /// The job with its progress.
    pub fn job(&self) -> &UndoJob {
        &self.job
    }

    /// The request for `change`, given what was read so far.
    fn request_for(&self, change: &Change) -> (HubRequest, InFlight) {
        let b = &self.bucket;
        match change {
            Change::Restore { from, .. } if self.fetched.is_none() => (
                HubRequest::get(read_url(&b.read_url_prefix, &b.address, from)),
                InFlight::Reading,
            ),
            Change::Restore { path, from, .. } => {
                let ct = self
                    .content_types
                    .get(from)
                    .filter(|c| !c.is_empty())
                    .map_or(DEFAULT_CONTENT_TYPE, String::as_str);
                (
                    HubRequest {
                        method: Method::Post,
                        url: store_url(&b.hub_url, &b.address, path),
                        bearer: Some(b.archival_token.clone()),
                        content_type: Some(ct.to_string()),
                        condition: None,
                        body: self.fetched.clone(),
                    },
                    InFlight::Writing,
                )
            }
            Change::Remove { path } => (
                HubRequest {
                    method: Method::Delete,
                    url: delete_url(&b.hub_url, &b.address, path),
                    bearer: Some(b.archival_token.clone()),
                    content_type: None,
                    condition: None,
                    body: None,
                },
                InFlight::Deleting,
            ),
        }
    }

    fn change_done(&mut self) {
        self.job.done += 1;
        self.fetched = None;
        if let Some(every) = self.journal_every
            && self.job.done.is_multiple_of(every)
            && self.job.done < self.job.plan.len()
        {
            self.save_due = true;
        }
    }
}

impl HubJob for UndoRun {
    fn next(&mut self) -> Next {
        // Journal first, so that a closed tab can resume even the first change.
        if self.journal_every.is_some() && (!self.started || self.save_due) {
            return Next::SaveProgress(Job::Undo(self.job.clone()));
        }
        self.started = true;
        let Some(change) = self.job.next().cloned() else {
            self.in_flight = InFlight::None;
            return Next::Done;
        };
        let (request, in_flight) = self.request_for(&change);
        self.in_flight = in_flight;
        Next::Request(request)
    }

    fn resolve(&mut self, response: HubResponse) -> Result<(), JobError> {
        let Some(change) = self.job.next().cloned() else {
            return Err(JobError::NoRequest);
        };
        let in_flight = std::mem::replace(&mut self.in_flight, InFlight::None);
        let status = response.status;
        match (in_flight, &change) {
            (InFlight::Reading, Change::Restore { from, .. }) => match status {
                200..=299 => {
                    self.fetched = Some(response.body);
                    Ok(())
                }
                404 => Err(JobError::Missing { path: from.clone() }),
                _ => Err(JobError::Refused {
                    doing: format!("reading {from}"),
                    status,
                }),
            },
            (InFlight::Writing, Change::Restore { path, .. }) => match status {
                200..=299 => {
                    self.change_done();
                    Ok(())
                }
                _ => Err(JobError::Refused {
                    doing: format!("the write of {path}"),
                    status,
                }),
            },
            // A file already gone counts as deleted.
            (InFlight::Deleting, Change::Remove { path }) => match status {
                200..=299 | 404 => {
                    self.change_done();
                    Ok(())
                }
                _ => Err(JobError::Refused {
                    doing: format!("the deletion of {path}"),
                    status,
                }),
            },
            _ => Err(JobError::NoRequest),
        }
    }

    fn saved(&mut self) {
        self.started = true;
        self.save_due = false;
    }

    fn progress(&self) -> (u64, u64) {
        (self.job.done as u64, self.job.plan.len() as u64)
    }

    fn journal_entry(&self) -> Option<Job> {
        self.journal_every.map(|_| Job::Undo(self.job.clone()))
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn bucket() -> BucketAccess {
        BucketAccess {
            hub_url: "http://hub.example".into(),
            read_url_prefix: "http://hub.example/read/".into(),
            address: "1Bucket".into(),
            archival_token: "tok".into(),
        }
    }

    fn plan() -> Vec<Change> {
        vec![
            Change::Restore {
                path: "collection/a b".into(),
                from: "collection/.history.1.x.a b".into(),
                was_deleted: false,
            },
            Change::Remove {
                path: "collection/new".into(),
            },
            Change::Remove {
                path: "collection/gone".into(),
            },
        ]
    }

    fn ok(body: &str) -> HubResponse {
        HubResponse {
            status: 200,
            etag: None,
            body: body.into(),
        }
    }

    fn request(run: &mut UndoRun) -> HubRequest {
        match run.next() {
            Next::Request(r) => r,
            other => panic!("expected a request, got {other:?}"),
        }
    }

    #[test]
    fn journals_first_then_reads_writes_and_deletes_with_the_archival_token() {
        let job = UndoJob::new("contact", 1_000, None, plan(), 2_000);
        let types = BTreeMap::from([(
            "collection/.history.1.x.a b".to_string(),
            "text/plain".to_string(),
        )]);
        let mut run = UndoRun::new(job, bucket(), types, Some(2));
        assert!(matches!(run.next(), Next::SaveProgress(Job::Undo(j)) if j.done == 0));
        run.saved();

        let read = request(&mut run);
        assert_eq!(read.method, Method::Get);
        assert_eq!(
            read.url,
            "http://hub.example/read/1Bucket/collection/.history.1.x.a%20b"
        );
        assert_eq!(
            request(&mut run),
            read,
            "asking again gives the same request"
        );
        run.resolve(ok("old bytes")).unwrap();

        let write = request(&mut run);
        assert_eq!(write.method, Method::Post);
        assert_eq!(
            write.url,
            "http://hub.example/store/1Bucket/collection/a%20b"
        );
        assert_eq!(write.body.as_deref(), Some("old bytes"));
        assert_eq!(write.content_type.as_deref(), Some("text/plain"));
        assert_eq!(write.bearer.as_deref(), Some("tok"));
        run.resolve(ok("")).unwrap();

        let delete = request(&mut run);
        assert_eq!(delete.method, Method::Delete);
        assert_eq!(
            delete.url,
            "http://hub.example/delete/1Bucket/collection/new"
        );
        run.resolve(ok("")).unwrap();
        // Every 2 changes, progress is journaled again.
        assert!(matches!(run.next(), Next::SaveProgress(Job::Undo(j)) if j.done == 2));
        run.saved();

        let delete = request(&mut run);
        // A file already gone counts as deleted.
        run.resolve(HubResponse {
            status: 404,
            etag: None,
            body: String::new(),
        })
        .unwrap();
        assert_eq!(
            delete.url,
            "http://hub.example/delete/1Bucket/collection/gone"
        );
        assert_eq!(run.next(), Next::Done);
        assert_eq!(run.progress(), (3, 3));
    }

    #[test]
    fn statuses_are_decided_here_and_leave_resumable_progress() {
        let job = UndoJob::new("contact", 1_000, None, plan(), 2_000);
        let mut run = UndoRun::new(job, bucket(), BTreeMap::new(), None);
        let read = request(&mut run);
        assert_eq!(read.method, Method::Get);
        let err = run
            .resolve(HubResponse {
                status: 404,
                etag: None,
                body: String::new(),
            })
            .unwrap_err();
        assert_eq!(
            err,
            JobError::Missing {
                path: "collection/.history.1.x.a b".into()
            }
        );
        // Not journaled (a single rollback): nothing to save, and no entry left behind.
        assert_eq!(run.journal_entry(), None);

        let job = UndoJob::new("contact", 1_000, None, plan(), 2_000);
        let mut run = UndoRun::new(job, bucket(), BTreeMap::new(), Some(10));
        assert!(matches!(run.next(), Next::SaveProgress(_)));
        run.saved();
        let _ = request(&mut run);
        run.resolve(ok("v1")).unwrap();
        let _ = request(&mut run);
        let err = run
            .resolve(HubResponse {
                status: 403,
                etag: None,
                body: String::new(),
            })
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "the hub refused the write of collection/a b (403)"
        );
        assert!(matches!(run.journal_entry(), Some(Job::Undo(j)) if j.done == 0));
        assert_eq!(run.resolve(ok("")), Err(JobError::NoRequest));
    }
}
