//! Moving a user's data to another hub — the survey that comes before anything is
//! written: which buckets Cairn holds the keys of (the identity bucket, every app it
//! can derive the key of, every collection), every file in each with its size (history
//! versions included), and what it cannot move, with the reason.
//!
//! An app's bucket key is derived from its origin, so Cairn holds it for every origin it
//! knows — from the settings file's connected apps and from the profile's `apps` map.
//! A bucket the profile lists at an address that is not the derived one was made by
//! another wallet's derivation: Cairn has no key for it and says so.

use super::calls::{self, FileWrite};
use super::hub_io::{Copier, Hub, HubRequest, JobError, Method};
use super::key_files::hand_off;
use super::settings_file::SettingsFile;
use super::{Env, Job, Monitor};
use crate::collections::history::is_history_file;
use crate::collections::settings::{LogEntry, Settings};
use crate::collections::{HandOff, HubContext};
use crate::crypto::bulk::Bulk;
use crate::keys::PrivateKey;
use crate::keys::keychain::{Keychain, KeychainError};
use crate::protocol::auth::random_uuid;
use crate::protocol::gaia::{HubInfo, ListedFile, bucket_token};
use crate::protocol::hub_urls::{read_url, store_url};
use crate::protocol::profile::{
    add_app_entry, claim_from_profile_file, profile_file_body, sign_profile_token,
};
use crate::protocol::signin::PROFILE_PATH;
use crate::support::json::{FieldError, Fields, Map, Value};
use crate::support::sorting::sort_by;
use std::collections::{BTreeMap, BTreeSet};
use std::future::poll_fn;
use std::pin::Pin;
use std::task::Poll;

/// What a bucket holds, in the user's words.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BucketKind {
    /// The identity's own bucket (profile, settings).
    Identity,
    /// A connected app's bucket.
    App {
        /// The app's origin.
        origin: String,
        /// Its name, as the settings file knows it (else the origin).
        name: String,
    },
    /// A collection's bucket.
    Collection {
        /// The collection's name.
        name: String,
    },
}

impl BucketKind {
    /// The bucket in words ("your identity", "the app Contacts", "the collection contact").
    pub fn describe(&self) -> String {
        match self {
            BucketKind::Identity => "your identity".to_string(),
            BucketKind::App { name, .. } => format!("the app {name}"),
            BucketKind::Collection { name } => format!("the collection {name}"),
        }
    }
}

/// A bucket Cairn can move: it holds the bucket's key.
#[derive(Debug, Clone)]
pub struct Bucket {
    /// What it is.
    pub kind: BucketKind,
    /// Its address.
    pub address: String,
    /// Its key (never leaves the page; signs the tokens of both hubs).
    pub key: PrivateKey,
}

/// Something that will not be moved, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotMoved {
    /// What (an app's origin).
    pub what: String,
    /// Why, in plain words.
    pub reason: String,
}

/// The last path segment of a bucket URL (`https://hub/read/<address>/` → address).
fn address_of(bucket_url: &str) -> Option<&str> {
    bucket_url
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .filter(|a| !a.is_empty())
}

/// The buckets of identity `index` that Cairn can move, and the apps it cannot: from
/// the settings (connected apps, collections and the apps they are granted to) and the
/// profile's `apps` map
/// (`(origin, bucket URL)` pairs). Each address appears once.
pub fn buckets(
    keychain: &Keychain,
    index: u32,
    settings: &Settings,
    profile_apps: &[(String, String)],
) -> Result<(Vec<Bucket>, Vec<NotMoved>), KeychainError> {
    let identity = keychain.identity(index)?;
    let mut out = vec![Bucket {
        kind: BucketKind::Identity,
        address: identity.address.clone(),
        key: identity.key.clone(),
    }];
    let mut not_moved = Vec::new();
    let mut origins: Vec<&str> = settings.apps.iter().map(|a| a.origin.as_str()).collect();
    // Apps holding a collection grant have a key file in their bucket, connected or not.
    origins.extend(
        settings
            .collections
            .values()
            .flat_map(|c| c.grants.iter().map(|g| g.app.as_str())),
    );
    origins.extend(profile_apps.iter().map(|(o, _)| o.as_str()));
    sort_by(&mut origins, |a, b| a.cmp(b));
    origins.dedup();
    for origin in origins {
        let name = settings
            .app(origin)
            .map(|a| a.display_name().to_string())
            .unwrap_or_else(|| origin.to_string());
        let key = match keychain.app_private_key(index, origin) {
            Ok(k) => k,
            Err(e) => {
                not_moved.push(NotMoved {
                    what: origin.to_string(),
                    reason: format!("Cairn cannot derive its key: {e}"),
                });
                continue;
            }
        };
        let address = key.public_key().address();
        let listed = profile_apps
            .iter()
            .find(|(o, _)| o == origin)
            .and_then(|(_, url)| address_of(url));
        if let Some(listed) = listed
            && listed != address
        {
            not_moved.push(NotMoved {
                what: origin.to_string(),
                reason: format!(
                    "its bucket {listed} was made by another wallet, whose key Cairn does not hold"
                ),
            });
            continue;
        }
        out.push(Bucket {
            kind: BucketKind::App {
                origin: origin.to_string(),
                name,
            },
            address,
            key,
        });
    }
    for name in settings.collections.keys() {
        let key = keychain.collection_bucket_key(index, name)?;
        out.push(Bucket {
            kind: BucketKind::Collection { name: name.clone() },
            address: key.public_key().address(),
            key,
        });
    }
    let mut seen: Vec<String> = Vec::new();
    out.retain(|b| {
        let new = !seen.contains(&b.address);
        seen.push(b.address.clone());
        new
    });
    Ok((out, not_moved))
}

/// One bucket's files as the old hub lists them.
#[derive(Debug, Clone)]
pub struct BucketSurvey {
    /// The bucket.
    pub bucket: Bucket,
    /// Its files (history versions included), with sizes.
    pub files: Vec<ListedFile>,
}

/// What a move would copy, before anything is written.
#[derive(Debug, Clone)]
pub struct MoveSurvey {
    /// Every bucket Cairn can move, with its files.
    pub buckets: Vec<BucketSurvey>,
    /// What it cannot move, and why.
    pub not_moved: Vec<NotMoved>,
}

impl MoveSurvey {
    /// Files to copy, history versions included.
    pub fn files(&self) -> u64 {
        self.buckets.iter().map(|b| b.files.len() as u64).sum()
    }

    /// Of those, history versions.
    pub fn history_files(&self) -> u64 {
        self.buckets
            .iter()
            .flat_map(|b| &b.files)
            .filter(|f| is_history_file(&f.name))
            .count() as u64
    }

    /// Bytes to copy.
    pub fn bytes(&self) -> u64 {
        self.buckets
            .iter()
            .flat_map(|b| &b.files)
            .map(|f| f.content_length)
            .sum()
    }
}

/// Lists every bucket of `buckets` on the hub at `hub_url` (challenge `challenge_text`),
/// with sizes, each with a token of its own key.
pub async fn survey<H: Hub>(
    hub: &H,
    hub_url: &str,
    challenge_text: &str,
    buckets: Vec<Bucket>,
    not_moved: Vec<NotMoved>,
) -> Result<MoveSurvey, H::Error> {
    let mut out = Vec::with_capacity(buckets.len());
    for bucket in buckets {
        let token = bucket_token(&bucket.key, challenge_text, hub_url);
        let files = calls::list_entries(hub, hub_url, &bucket.address, &token, true).await?;
        out.push(BucketSurvey { bucket, files });
    }
    Ok(MoveSurvey {
        buckets: out,
        not_moved,
    })
}

/// Files copied between two journal saves (and at most [`SAVE_EVERY_BYTES`]).
pub const SAVE_EVERY: u64 = 25;
/// Files copied at once. One file is four requests in a row (the read, the browser's
/// CORS preflight, the write, the read back) that mostly wait on the hubs and on the
/// browser's network process; a few files in flight keep both busy. At most the
/// browser's six connections per host.
pub const IN_FLIGHT: usize = 4;
/// Bytes of the files in flight at most (one file alone may be larger): a bound on what
/// the browser holds at once while hashing.
pub const IN_FLIGHT_BYTES: u64 = 32 << 20;
/// Bytes copied between two journal saves.
pub const SAVE_EVERY_BYTES: u64 = 8 << 20;
/// Attempts of one file when the new hub asks to slow down (429) or is briefly
/// unavailable (503), with a growing wait.
const BUSY_ATTEMPTS: u32 = 6;
/// How long a move waits in all for an old hub that stopped answering before it stops
/// (to be resumed later from the journal).
pub const OLD_HUB_PATIENCE_MS: u64 = 10 * 60 * 1000;
/// The first wait for an old hub that stopped answering; each next one doubles.
const OUTAGE_FIRST_WAIT_MS: u32 = 1000;
/// The longest single wait for it.
const OUTAGE_MAX_WAIT_MS: u32 = 15_000;

/// How long the old hub has been away, for the waits of [`MoveRun`].
#[derive(Default)]
struct Outage {
    waited_ms: u64,
    next_ms: u32,
}

/// A move's journal entry (`"op": "move"`), in the settings file on the old hub until the
/// switch: what is already on the new hub, verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoveJob {
    /// The new hub's write URL.
    pub new_hub_url: String,
    /// When the move started (ms since the epoch).
    pub started_at: i64,
    /// The files copied and verified, as `<address>/<path>`.
    pub done: BTreeSet<String>,
    /// Bytes copied and verified.
    pub bytes_done: u64,
    /// Whether the switch is done (the new hub holds the settings, profile and key files).
    pub switched: bool,
}

impl MoveJob {
    /// A move to `new_hub_url` starting now.
    pub fn new(new_hub_url: &str, now_ms: i64) -> MoveJob {
        MoveJob {
            new_hub_url: new_hub_url.to_string(),
            started_at: now_ms,
            done: BTreeSet::new(),
            bytes_done: 0,
            switched: false,
        }
    }

    fn key(address: &str, path: &str) -> String {
        format!("{address}/{path}")
    }

    /// Whether a file is already on the new hub.
    pub fn is_done(&self, address: &str, path: &str) -> bool {
        self.done.contains(&Self::key(address, path))
    }

    /// The journal fields: `{newHubUrl, startedAt, done: [...], bytesDone, switched}`.
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("newHubUrl".into(), self.new_hub_url.as_str().into());
        m.insert("startedAt".into(), self.started_at.into());
        m.insert(
            "done".into(),
            Value::Array(self.done.iter().map(|d| d.as_str().into()).collect()),
        );
        m.insert("bytesDone".into(), self.bytes_done.into());
        m.insert("switched".into(), self.switched.into());
        Value::Object(m)
    }

    /// Reads the journal fields.
    pub fn from_value(v: &Value) -> Result<MoveJob, FieldError> {
        let f = Fields::of(v, "a move")?;
        // Inserted one by one: collecting into a set would bring in a sort.
        let mut done = BTreeSet::new();
        for d in f.list("done", "a list of file names", Value::as_str)? {
            done.insert(d.to_string());
        }
        Ok(MoveJob {
            new_hub_url: f.str("newHubUrl")?.to_string(),
            started_at: f.i64("startedAt")?,
            done,
            bytes_done: f
                .opt("bytesDone", "a whole number", Value::as_u64)?
                .unwrap_or(0),
            switched: f
                .opt("switched", "true or false", Value::as_bool)?
                .unwrap_or(false),
        })
    }
}

/// The answer of "Check hub": where its files are read and how large they may be.
#[derive(Debug, Clone, PartialEq)]
pub struct HubCheck {
    /// The hub's `/hub_info`.
    pub info: HubInfo,
}

impl HubCheck {
    /// The size limit in bytes, when the hub states one.
    pub fn limit_bytes(&self) -> Option<u64> {
        self.info
            .max_file_upload_size_megabytes
            .filter(|mb| mb.is_finite() && *mb > 0.0)
            .map(|mb| (mb * 1024.0 * 1024.0) as u64)
    }
}

/// "Check hub": reads the hub's info, then writes, reads back and deletes a probe file
/// in the identity's bucket with a token made for its challenge. Each failure says which
/// step failed.
pub async fn check_hub<H: Hub>(
    hub: &H,
    identity_key: &PrivateKey,
    hub_url: &str,
    probe_name: &str,
) -> Result<HubCheck, H::Error> {
    let info = calls::hub_info(hub, hub_url).await?;
    let address = identity_key.public_key().address();
    let token = bucket_token(identity_key, &info.challenge_text, hub_url);
    let body = format!("Cairn checked this hub at {probe_name}");
    let stored = hub
        .send(HubRequest {
            method: Method::Post,
            url: store_url(hub_url, &address, probe_name),
            bearer: Some(token.clone()),
            content_type: Some("text/plain".to_string()),
            condition: None,
            body: Some(body.clone()),
        })
        .await?;
    if !(200..300).contains(&stored.status) {
        // Its own words say why (a token it does not accept, a full disk …).
        return Err(JobError::ProbeRefused {
            status: stored.status,
            said: calls::hub_said(&stored.body),
        }
        .into());
    }
    let read = read_url(&info.read_url_prefix, &address, probe_name);
    let back = calls::read(hub, &read, "the probe file").await?;
    if back.map(|a| a.body) != Some(body) {
        return Err(JobError::Mismatch {
            file: format!("the probe file at {read}"),
        }
        .into());
    }
    calls::delete(hub, hub_url, &address, probe_name, &token).await?;
    Ok(HubCheck { info })
}

/// Moving the data of one identity from one hub to another.
pub struct MoveRun<'a, H, B> {
    /// Transport, ciphers, keychain, identity.
    pub env: Env<'a, H, B>,
    /// The hub the data is on.
    pub old: &'a HubContext,
    /// The hub it moves to.
    pub new: &'a HubContext,
    /// The new hub's size limit in bytes, if it states one.
    pub new_limit: Option<u64>,
    /// The identity's settings file on the old hub (the journal, until the switch).
    pub settings: &'a SettingsFile,
    /// The screen showing it.
    pub monitor: &'a dyn Monitor,
}

fn owner_token_for(key: &PrivateKey, hub: &HubContext) -> String {
    bucket_token(key, &hub.challenge_text, &hub.hub_url)
}

/// Waits until one of `running` is done, takes it out and gives its output.
async fn first_done<F: Future + Unpin>(running: &mut Vec<F>) -> F::Output {
    poll_fn(|cx| {
        for i in 0..running.len() {
            if let Poll::Ready(out) = Pin::new(&mut running[i]).poll(cx) {
                running.remove(i);
                return Poll::Ready(out);
            }
        }
        Poll::Pending
    })
    .await
}

impl<H: Copier, B: Bulk> MoveRun<'_, H, B> {
    /// Refuses a plan the new hub cannot take, before anything is written: the first
    /// file over its size limit, by name.
    pub fn check(&self, survey: &MoveSurvey) -> Result<(), JobError> {
        let Some(limit) = self.new_limit else {
            return Ok(());
        };
        for b in &survey.buckets {
            if let Some(f) = b.files.iter().find(|f| f.content_length > limit) {
                return Err(JobError::TooLarge {
                    file: format!("{} in {}", f.name, b.bucket.kind.describe()),
                    size: f.content_length,
                    limit,
                });
            }
        }
        Ok(())
    }

    async fn save(&self, job: &MoveJob) -> Result<(), H::Error> {
        self.settings
            .save_job(self.env.hub, self.env.bulk, &Job::Move(job.clone()))
            .await
            .map(|_| ())
    }

    /// Journals the move; when that fails because the old hub (which holds the journal)
    /// stopped answering, waits for it like a read does and tries again. A failure while
    /// the hub answers is returned at once.
    async fn save_patiently(&self, job: &MoveJob, outage: &mut Outage) -> Result<(), H::Error> {
        loop {
            match self.save(job).await {
                Ok(()) => return Ok(()),
                Err(e)
                    if calls::hub_info(self.env.hub, &self.old.hub_url)
                        .await
                        .is_ok() =>
                {
                    return Err(e);
                }
                Err(_) => self.old_hub_away(outage, "your settings file").await?,
            }
        }
    }

    /// The old hub gave no answer (or a 5xx): waits, growing the wait up to
    /// [`OUTAGE_MAX_WAIT_MS`], saying so, until [`OLD_HUB_PATIENCE_MS`] have passed in
    /// all; Cancel is heard within a second.
    async fn old_hub_away(&self, outage: &mut Outage, file: &str) -> Result<(), JobError> {
        if outage.waited_ms >= OLD_HUB_PATIENCE_MS {
            return Err(JobError::Unavailable {
                hub: "the old hub".into(),
                waited_s: outage.waited_ms / 1000,
            });
        }
        let ms = outage.next_ms.max(OUTAGE_FIRST_WAIT_MS);
        self.monitor.say(&format!(
            "The old hub is not answering. Waiting {} s, then trying {file} again; what \
             is done is kept.",
            ms / 1000
        ));
        let mut left = ms;
        while left > 0 {
            if self.monitor.cancelled() {
                return Err(JobError::Cancelled);
            }
            let slice = left.min(1000);
            self.env.hub.wait(slice).await;
            left -= slice;
        }
        outage.waited_ms += u64::from(ms);
        outage.next_ms = ms.saturating_mul(2).min(OUTAGE_MAX_WAIT_MS);
        Ok(())
    }

    /// Copies every file of `survey` not yet done to the new hub under the same name,
    /// [`IN_FLIGHT`] at a time, reads each back and compares length and SHA-256 before it
    /// counts as done; journals every [`SAVE_EVERY`] files or [`SAVE_EVERY_BYTES`] bytes,
    /// and when stopped. A resumed run skips what the journal has. On an error or a
    /// cancel no file is started; the ones in flight finish (and count when verified),
    /// then the journal is saved.
    pub async fn copy(&self, survey: &MoveSurvey, job: &mut MoveJob) -> Result<(), H::Error> {
        self.check(survey)?;
        let (files, bytes) = (survey.files(), survey.bytes());
        let mut outage = Outage::default();
        self.save_patiently(job, &mut outage).await?;
        let todo: Vec<(&BucketSurvey, &ListedFile)> = survey
            .buckets
            .iter()
            .flat_map(|b| b.files.iter().map(move |f| (b, f)))
            .filter(|(b, f)| !job.is_done(&b.bucket.address, &f.name))
            .collect();
        let start = |i: usize, token: String| {
            let (b, f): (&BucketSurvey, &ListedFile) = todo[i];
            async move { (i, self.copy_one(&b.bucket, f, &token).await) }
        };
        let mut next = 0;
        let mut in_flight = Vec::with_capacity(IN_FLIGHT);
        let mut in_flight_bytes = 0u64;
        // The bucket being started and its token on the new hub.
        let mut current: Option<(&str, String)> = None;
        let mut stop: Option<H::Error> = None;
        let mut cancelled = false;
        let (mut since_save, mut bytes_since_save) = (0u64, 0u64);
        loop {
            while stop.is_none() && in_flight.len() < IN_FLIGHT {
                let Some(&(b, f)) = todo.get(next) else {
                    break;
                };
                if !in_flight.is_empty() && in_flight_bytes + f.content_length > IN_FLIGHT_BYTES {
                    break;
                }
                if self.monitor.cancelled() {
                    cancelled = true;
                    stop = Some(JobError::Cancelled.into());
                    break;
                }
                let address = b.bucket.address.as_str();
                let token = match &current {
                    Some((a, token)) if *a == address => token.clone(),
                    _ => {
                        self.monitor
                            .say(&format!("Copying {}…", b.bucket.kind.describe()));
                        let token = owner_token_for(&b.bucket.key, self.new);
                        current = Some((address, token.clone()));
                        token
                    }
                };
                in_flight_bytes += f.content_length;
                in_flight.push(Box::pin(start(next, token)));
                next += 1;
            }
            if in_flight.is_empty() {
                break;
            }
            let (i, copied) = first_done(&mut in_flight).await;
            let (b, f) = todo[i];
            in_flight_bytes = in_flight_bytes.saturating_sub(f.content_length);
            let copied = match copied {
                Ok(c) => c,
                Err(e) => {
                    // The first error says what stopped it; the rest are its echoes.
                    stop.get_or_insert(e);
                    continue;
                }
            };
            job.done.insert(MoveJob::key(&b.bucket.address, &f.name));
            job.bytes_done += copied;
            since_save += 1;
            bytes_since_save += copied;
            self.monitor.files(job.done.len() as u64, files);
            self.monitor.bytes(job.bytes_done, bytes);
            if stop.is_none() && (since_save >= SAVE_EVERY || bytes_since_save >= SAVE_EVERY_BYTES)
            {
                if let Err(e) = self.save_patiently(job, &mut outage).await {
                    stop = Some(e);
                }
                (since_save, bytes_since_save) = (0, 0);
            }
        }
        match stop {
            None => self.save_patiently(job, &mut outage).await,
            Some(e) if cancelled => {
                self.save(job).await?;
                Err(e)
            }
            Some(e) => {
                // Keep what is done; the error says what stopped it.
                let _ = self.save(job).await;
                Err(e)
            }
        }
    }

    /// One file: copy, read back, compare. Returns the bytes copied (0 for a file that
    /// vanished from the old hub meanwhile: nothing to move).
    async fn copy_one(
        &self,
        bucket: &Bucket,
        f: &ListedFile,
        token: &str,
    ) -> Result<u64, H::Error> {
        let address = bucket.address.as_str();
        let from = read_url(&self.old.read_url_prefix, address, &f.name);
        let content_type = if f.content_type.is_empty() {
            "application/octet-stream".to_string()
        } else {
            f.content_type.clone()
        };
        let (mut busy, mut wait) = (0, 500);
        let mut outage = Outage::default();
        loop {
            let to = HubRequest {
                method: Method::Post,
                url: store_url(&self.new.hub_url, address, &f.name),
                bearer: Some(token.to_string()),
                content_type: Some(content_type.clone()),
                condition: None,
                body: None,
            };
            let c = self.env.hub.copy(&from, to).await?;
            match (c.read_status, c.write_status) {
                (404 | 410, _) => return Ok(0),
                (0 | 500 | 502 | 503 | 504, None) => {
                    self.old_hub_away(&mut outage, &f.name).await?;
                }
                (200..=299, Some(200..=299)) => {
                    let back = self
                        .env
                        .hub
                        .digest(&read_url(&self.new.read_url_prefix, address, &f.name))
                        .await?;
                    if back.status / 100 != 2 || back.len != c.len || back.sha256 != c.sha256 {
                        return Err(JobError::Mismatch {
                            file: f.name.clone(),
                        }
                        .into());
                    }
                    return Ok(c.len);
                }
                (200..=299, Some(429 | 503)) if busy + 1 < BUSY_ATTEMPTS => {
                    busy += 1;
                    self.monitor
                        .say("The new hub asks Cairn to slow down; waiting…");
                    self.env.hub.wait(wait).await;
                    wait = wait.saturating_mul(2);
                }
                (200..=299, Some(413)) => {
                    return Err(JobError::TooLarge {
                        file: f.name.clone(),
                        size: c.len,
                        limit: self.new_limit.unwrap_or(0),
                    }
                    .into());
                }
                (200..=299, Some(status)) => {
                    return Err(JobError::Refused {
                        doing: format!(
                            "the write of {} ({}) to the new hub",
                            f.name,
                            bucket.kind.describe()
                        ),
                        status,
                    }
                    .into());
                }
                (status, _) => {
                    return Err(JobError::Refused {
                        doing: format!(
                            "reading {} ({}) from the old hub",
                            f.name,
                            bucket.kind.describe()
                        ),
                        status,
                    }
                    .into());
                }
            }
        }
    }

    /// After every file is verified: on the new hub, the collection key files get the
    /// new hub's config and fresh tokens, the profile lists the apps' new bucket URLs
    /// (re-signed), and the settings file drops the move from its journal and logs it;
    /// on the old hub the journal records the switch. The caller then points the vault's
    /// config at the new hub.
    pub async fn switch(&self, survey: &MoveSurvey, job: &mut MoveJob) -> Result<(), H::Error> {
        let (hub, bulk) = (self.env.hub, self.env.bulk);
        let identity = self.env.keychain.identity(self.env.index)?;
        let (settings, _) = self.settings.load(hub, bulk).await?;
        self.monitor.say("Giving your apps the new hub's address…");
        let mut grants: BTreeMap<&str, Vec<HandOff>> = BTreeMap::new();
        for (name, state) in &settings.collections {
            for g in &state.grants {
                grants.entry(g.app.as_str()).or_default().push(HandOff {
                    collection: name.clone(),
                    generation: state.generation,
                    grant: g.clone(),
                });
            }
        }
        for (origin, hand_offs) in &grants {
            hand_off(
                hub,
                bulk,
                self.env.keychain,
                self.env.index,
                self.new,
                origin,
                hand_offs,
            )
            .await?;
        }
        self.monitor.say("Updating your profile…");
        let profile_read = read_url(&self.new.read_url_prefix, &identity.address, PROFILE_PATH);
        let new_token = owner_token_for(&identity.key, self.new);
        if let Some(found) = calls::read(hub, &profile_read, "your profile").await?
            && let Some(mut claim) = claim_from_profile_file(&found.body)
        {
            let listed: Vec<String> = claim
                .get("apps")
                .and_then(Value::as_object)
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
            for b in &survey.buckets {
                if let BucketKind::App { origin, .. } = &b.bucket.kind
                    && listed.contains(origin)
                {
                    let url = format!("{}{}/", self.new.read_url_prefix, b.bucket.address);
                    add_app_entry(
                        &mut claim,
                        origin,
                        &url,
                        &b.bucket.key.public_key().to_hex(),
                    );
                }
            }
            let jti = random_uuid()?;
            // Signed by the STX key, as wallet-sdk and Cairn's sign-in sign it: apps verify
            // the profile against that key, not the bucket's.
            let stx = self.env.keychain.stx_key(self.env.index)?;
            let token = sign_profile_token(&claim, &stx, self.monitor.now_ms(), &jti);
            let url = store_url(&self.new.hub_url, &identity.address, PROFILE_PATH);
            let write = FileWrite {
                url: &url,
                token: &new_token,
                content_type: "application/json",
                what: "your profile",
            };
            calls::store(hub, &write, profile_file_body(&token), None).await?;
        }
        self.monitor.say("Moving your settings…");
        let info = HubInfo {
            challenge_text: self.new.challenge_text.clone(),
            latest_auth_version: None,
            max_file_upload_size_megabytes: None,
            read_url_prefix: self.new.read_url_prefix.clone(),
        };
        let on_new = SettingsFile::new(&identity, &self.new.hub_url, &info, true);
        let now = self.monitor.now_ms();
        let entry = Job::Move(job.clone());
        let detail = format!(
            "{} file(s), {} bytes moved from {} to {}",
            job.done.len(),
            job.bytes_done,
            self.old.hub_url,
            self.new.hub_url
        );
        on_new
            .update(hub, bulk, &mut |s| {
                s.journal.remove(&entry);
                s.log.push(LogEntry {
                    at: now,
                    event: "move".into(),
                    collection: None,
                    app: None,
                    detail: Some(detail.clone()),
                });
                Ok(())
            })
            .await?;
        job.switched = true;
        self.save(job).await
    }

    /// "Delete data on the old hub": every file of every bucket, one by one; returns the
    /// files left per bucket by a final listing (all zero when it worked).
    pub async fn delete_old(&self, buckets: &[Bucket]) -> Result<Vec<usize>, H::Error> {
        let hub = self.env.hub;
        let mut lists = Vec::with_capacity(buckets.len());
        for b in buckets {
            let token = owner_token_for(&b.key, self.old);
            let names = calls::list_names(hub, &self.old.hub_url, &b.address, &token).await?;
            lists.push((b, token, names));
        }
        let total: u64 = lists.iter().map(|(_, _, n)| n.len() as u64).sum();
        let mut done = 0;
        for (b, token, names) in &lists {
            self.monitor
                .say(&format!("Deleting {} on the old hub…", b.kind.describe()));
            for name in names {
                if self.monitor.cancelled() {
                    return Err(JobError::Cancelled.into());
                }
                calls::delete(hub, &self.old.hub_url, &b.address, name, token).await?;
                done += 1;
                self.monitor.files(done, total);
            }
        }
        let mut left = Vec::with_capacity(lists.len());
        for (b, token, _) in &lists {
            left.push(
                calls::list_names(hub, &self.old.hub_url, &b.address, token)
                    .await?
                    .len(),
            );
        }
        Ok(left)
    }
}
