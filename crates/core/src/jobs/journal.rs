//! The journal of unfinished jobs, and its one JSON form.
//!
//! On the hub the journal is the settings document's `"journal"` array. Each entry is an
//! object tagged by `"op"` (`"revoke"` or `"undo"`) followed by the job's own fields.
//! Entries this version cannot read (written by a newer Cairn, or damaged) are kept
//! byte for byte and written back, so reading and saving the settings never loses one.

use crate::collections::Revocation;
use crate::collections::files::UndoJob;
#[cfg(feature = "migration")]
use crate::jobs::migration::MoveJob;
use crate::support::json::{FieldError, Map, Value};

/// The kinds of job, as the journal tags them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum JobKind {
    /// A revocation or downgrade of one app's access to one collection (`"revoke"`).
    Revocation,
    /// An "undo changes since" in one collection (`"undo"`).
    Undo,
    /// A move of all the identity's data to another hub (`"move"`).
    #[cfg(feature = "migration")]
    Move,
}

impl JobKind {
    /// The journal's tag (`"op"`).
    pub fn tag(self) -> &'static str {
        match self {
            JobKind::Revocation => "revoke",
            JobKind::Undo => "undo",
            #[cfg(feature = "migration")]
            JobKind::Move => "move",
        }
    }

    /// The kind a tag names, if any.
    pub fn from_tag(tag: &str) -> Option<JobKind> {
        match tag {
            "revoke" => Some(JobKind::Revocation),
            "undo" => Some(JobKind::Undo),
            #[cfg(feature = "migration")]
            "move" => Some(JobKind::Move),
            _ => None,
        }
    }
}

/// One unfinished job with its progress.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Job {
    /// A revocation or downgrade.
    Revocation(Revocation),
    /// An "undo changes since".
    Undo(UndoJob),
    /// A move to another hub.
    #[cfg(feature = "migration")]
    Move(MoveJob),
}

impl Job {
    /// Its kind.
    pub fn kind(&self) -> JobKind {
        match self {
            Job::Revocation(_) => JobKind::Revocation,
            Job::Undo(_) => JobKind::Undo,
            #[cfg(feature = "migration")]
            Job::Move(_) => JobKind::Move,
        }
    }

    /// Whether `other` is the same job (perhaps at another point of its progress): a
    /// revocation is known by its collection, app and target generation, an undo by its
    /// collection and start time.
    pub fn same_job(&self, other: &Job) -> bool {
        match (self, other) {
            (Job::Revocation(a), Job::Revocation(b)) => {
                a.collection == b.collection && a.app == b.app && a.to_generation == b.to_generation
            }
            (Job::Undo(a), Job::Undo(b)) => {
                a.collection == b.collection && a.started_at == b.started_at
            }
            // One move at a time: a newer one replaces it.
            #[cfg(feature = "migration")]
            (Job::Move(_), Job::Move(_)) => true,
            _ => false,
        }
    }

    /// The journal entry: `{"op": <tag>, …the job's fields}`.
    pub fn to_value(&self) -> Value {
        let fields = match self {
            Job::Revocation(r) => r.to_value(),
            Job::Undo(u) => u.to_value(),
            #[cfg(feature = "migration")]
            Job::Move(m) => m.to_value(),
        };
        let mut m = Map::new();
        m.insert("op".into(), self.kind().tag().into());
        if let Value::Object(inner) = fields {
            for (k, v) in inner {
                m.insert(k, v);
            }
        }
        Value::Object(m)
    }

    /// Reads a journal entry: `Ok(None)` when its tag names no job this version knows.
    pub fn from_value(v: &Value) -> Result<Option<Job>, FieldError> {
        let Some(kind) = v
            .get("op")
            .and_then(Value::as_str)
            .and_then(JobKind::from_tag)
        else {
            return Ok(None);
        };
        Ok(Some(match kind {
            JobKind::Revocation => Job::Revocation(Revocation::from_value(v)?),
            JobKind::Undo => Job::Undo(UndoJob::from_value(v)?),
            #[cfg(feature = "migration")]
            JobKind::Move => Job::Move(MoveJob::from_value(v)?),
        }))
    }
}

/// The settings file's journal: the jobs this version runs, in the order they started,
/// and the entries it cannot read, kept as they were.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Journal {
    jobs: Vec<Job>,
    foreign: Vec<Value>,
}

impl Journal {
    /// Reads the `"journal"` array. Never fails: an entry that cannot be read is kept
    /// aside unchanged (see the module docs).
    pub fn from_values(entries: &[Value]) -> Journal {
        let mut journal = Journal::default();
        for e in entries {
            match Job::from_value(e) {
                Ok(Some(job)) => journal.jobs.push(job),
                Ok(None) | Err(_) => journal.foreign.push(e.clone()),
            }
        }
        journal
    }

    /// The `"journal"` array: the jobs, then the entries kept aside.
    pub fn to_value(&self) -> Value {
        Value::Array(
            self.jobs
                .iter()
                .map(Job::to_value)
                .chain(self.foreign.iter().cloned())
                .collect(),
        )
    }

    /// The unfinished jobs, in the order they started.
    pub fn jobs(&self) -> &[Job] {
        &self.jobs
    }

    /// The unfinished revocations and downgrades.
    pub fn revocations(&self) -> impl Iterator<Item = &Revocation> {
        self.jobs.iter().filter_map(|j| match j {
            Job::Revocation(r) => Some(r),
            _ => None,
        })
    }

    /// Whether the journal holds an entry tagged `op` (read or kept aside): how a
    /// module without a job's code still sees that it is pending.
    pub fn has_op(&self, op: &str) -> bool {
        self.jobs.iter().any(|j| j.kind().tag() == op)
            || self
                .foreign
                .iter()
                .any(|e| e.get("op").and_then(Value::as_str) == Some(op))
    }

    /// The unfinished undos.
    pub fn undos(&self) -> impl Iterator<Item = &UndoJob> {
        self.jobs.iter().filter_map(|j| match j {
            Job::Undo(u) => Some(u),
            _ => None,
        })
    }

    /// Whether nothing is pending (entries kept aside count: they are someone's work).
    pub fn is_empty(&self) -> bool {
        self.jobs.is_empty() && self.foreign.is_empty()
    }

    /// Records a job's progress: replaces the same job's entry, or appends it.
    pub fn save(&mut self, job: Job) {
        match self.jobs.iter_mut().find(|j| j.same_job(&job)) {
            Some(slot) => *slot = job,
            None => self.jobs.push(job),
        }
    }

    /// Removes a finished (or abandoned) job.
    pub fn remove(&mut self, job: &Job) {
        self.jobs.retain(|j| !j.same_job(job));
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::collections::settings::{AccessMode, Grant, Settings};
    use crate::support::json;

    fn settings_with_grant() -> Settings {
        let mut s = Settings::default();
        s.record_sign_in("https://a.example", Some("A"), None, &[], 1_000);
        s.collections
            .entry("contact".into())
            .or_default()
            .grants
            .push(Grant {
                app: "https://a.example".into(),
                mode: AccessMode::ReadWrite,
                granted_at: 1_000,
                token_salt: "00".into(),
                token_iat: 1,
            });
        s
    }

    #[test]
    fn entries_are_tagged_first_and_read_back_as_the_same_job() {
        let mut s = settings_with_grant();
        let r =
            Revocation::start(&mut s, "contact", "https://a.example", 5_000, true, false).unwrap();
        let text = json::to_string(&s.journal.to_value());
        assert!(
            text.starts_with(r#"[{"op":"revoke","collection":"contact""#),
            "{text}"
        );
        let back = Journal::from_values(json::from_str(&text).unwrap().as_array().unwrap());
        assert_eq!(back, s.journal);
        assert_eq!(back.revocations().next(), Some(&r));
    }

    #[test]
    fn save_replaces_the_same_job_and_remove_forgets_it() {
        let mut s = settings_with_grant();
        let mut r =
            Revocation::start(&mut s, "contact", "https://a.example", 5_000, true, false).unwrap();
        assert_eq!(s.journal.jobs().len(), 1);
        r.files_done = 7;
        s.journal.save(Job::Revocation(r.clone()));
        assert_eq!(
            s.journal.jobs().len(),
            1,
            "saving progress must not add an entry"
        );
        assert_eq!(
            s.journal.revocations().next().map(|r| r.files_done),
            Some(7)
        );
        s.journal.remove(&Job::Revocation(r));
        assert!(s.journal.is_empty());
    }

    #[test]
    fn unknown_and_damaged_entries_are_kept_as_they_were() {
        let text =
            r#"[{"op":"migrate","to":"https://hub.example"},{"op":"revoke","collection":7},null]"#;
        let entries = json::from_str(text).unwrap();
        let journal = Journal::from_values(entries.as_array().unwrap());
        assert!(journal.jobs().is_empty());
        assert!(!journal.is_empty());
        assert_eq!(json::to_string(&journal.to_value()), text);
    }
}
