//! Replication across stores: one `ObjectStore` over several backends (the `[[storage]]`
//! list in the config).
//!
//! - **Writes** go to every backend. The *primary* (the first `required` backend) decides
//!   conditional writes (`PutMode::Create` / `Update`, `CopyMode::Create`); the other
//!   required backends then get the same bytes unconditionally, and the write succeeds
//!   only when every required backend acknowledged it. Optional backends are written in
//!   the background; a failed optional write becomes a repair entry in a journal on the
//!   primary (`.cairn-repair/<ms>-<id>`, naming backend and key), which a background task
//!   ([`Replicated::drain_forever`]) drains oldest first, with back-off per backend, by
//!   copying the primary's current object (or its absence) to the lagging backend.
//! - **Reads** try the backends in the listed order, skipping a backend for a key while
//!   this process has a write to it in flight there or the journal says it lags for that
//!   key (read-your-writes, and reads that never go back to an older version than the
//!   one this process wrote), and skipping a backend that fails or (optional ones) lacks
//!   the key. Reads marked [`Authoritative`] (what a conditional write is decided on) go
//!   to the primary only. ETags and versions are prefixed with the backend's index
//!   (`<i>:<etag>`), so a conditional read or write made with one is sent to the backend
//!   it came from.
//! - **Listings** come from the primary; [`Replicated::missing`] reports what each other
//!   backend lacked in the last listing, and `/metrics` shows it with the repair queue.

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetRange, GetResult, ListResult, MultipartUpload, ObjectMeta,
    ObjectStore, ObjectStoreExt, PutMode, PutMultipartOptions, PutOptions, PutPayload, PutResult,
    UpdateVersion, UploadPart,
};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Where the repair journal lives on the primary (outside every bucket).
pub const REPAIR_DIR: &str = ".cairn-repair";

/// How long a background write to an optional backend may take before it is journaled.
const OPTIONAL_WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// Shortest and longest pause before retrying a backend whose repair failed.
const BACKOFF_MIN: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// How often the journal is read when it was empty.
const DRAIN_IDLE: Duration = Duration::from_millis(500);

/// Shortest time between two comparisons of a listing across backends.
const COMPARE_EVERY: Duration = Duration::from_secs(30);

/// Key stripes that serialise this process's background writes and repairs per key.
const STRIPES: usize = 256;

/// Marks a read that must come from the primary (a conditional write is decided on it):
/// insert into [`GetOptions::extensions`].
#[derive(Debug, Clone, Copy)]
pub struct Authoritative;

/// One backend of a replicated store.
#[derive(Debug, Clone)]
pub struct Backend {
    /// Its name in logs, metrics and the repair journal (stable across restarts).
    pub name: String,
    /// Where it is (for the startup line).
    pub description: String,
    /// The store.
    pub store: Arc<dyn ObjectStore>,
    /// Whether a write must reach it before it is acknowledged.
    pub required: bool,
}

/// Per-backend counters for `/metrics`.
#[derive(Debug, Clone)]
pub struct BackendStats {
    /// The backend's name.
    pub name: String,
    /// Whether it is required.
    pub required: bool,
    /// Failed operations so far.
    pub errors: u64,
    /// Repair entries waiting for it.
    pub queued: u64,
    /// Age of its oldest waiting repair entry (the lag), seconds.
    pub lag_seconds: f64,
    /// Objects the primary had and it lacked, in the last listing.
    pub missing: u64,
    /// Repairs done so far.
    pub repaired: u64,
}

struct Inner {
    backends: Vec<Backend>,
    primary: usize,
    /// (backend, key) → background writes of this process in flight.
    inflight: Mutex<HashMap<(usize, Path), u32>>,
    /// (backend, key) pairs the journal lists (as of its last reading, plus entries this
    /// process added since).
    journaled: Mutex<HashSet<(usize, Path)>>,
    /// Per backend: (entries queued, oldest entry's time in ms).
    queue: Mutex<Vec<(u64, Option<u64>)>>,
    errors: Vec<AtomicU64>,
    repaired: Vec<AtomicU64>,
    missing: Vec<AtomicU64>,
    /// The newest write scheduled per (backend, key) stripe slot: an older background
    /// write that runs after a newer one is skipped.
    scheduled: Mutex<HashMap<(usize, Path), u64>>,
    seq: AtomicU64,
    stripes: Vec<tokio::sync::Mutex<()>>,
    /// Per backend: skipped for reads and optional writes until then (it just failed),
    /// and the pause it got.
    down: Mutex<Vec<(Option<Instant>, Duration)>>,
    /// When a listing was last compared across backends (at most every
    /// [`COMPARE_EVERY`], so listings do not cost every backend a listing too).
    compared: Mutex<Option<Instant>>,
}

/// A store that replicates over several backends (see the module docs).
#[derive(Clone)]
pub struct Replicated {
    inner: Arc<Inner>,
}

impl fmt::Debug for Replicated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Replicated")
            .field(
                "backends",
                &self
                    .inner
                    .backends
                    .iter()
                    .map(|b| (&b.name, b.required))
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl fmt::Display for Replicated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("replicated(")?;
        for (i, b) in self.inner.backends.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(
                f,
                "{}={}{}",
                b.name,
                b.description,
                if b.required { " required" } else { "" }
            )?;
        }
        f.write_str(")")
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

fn generic(msg: String) -> object_store::Error {
    object_store::Error::Generic {
        store: "replicated",
        source: msg.into(),
    }
}

fn is_not_found(e: &object_store::Error) -> bool {
    matches!(e, object_store::Error::NotFound { .. })
}

/// `<i>:<tag>` for backend `i`.
fn tag(i: usize, t: Option<String>) -> Option<String> {
    t.map(|t| format!("{i}:{t}"))
}

/// Splits `<i>:<tag>`.
fn untag(t: &str) -> Option<(usize, String)> {
    let (i, rest) = t.split_once(':')?;
    Some((i.parse().ok()?, rest.to_string()))
}

fn tag_meta(i: usize, mut m: ObjectMeta) -> ObjectMeta {
    m.e_tag = tag(i, m.e_tag);
    m.version = tag(i, m.version);
    m
}

impl Replicated {
    /// A replicated store over `backends` (at least one required).
    pub fn new(backends: Vec<Backend>) -> Result<Replicated, String> {
        let primary = backends
            .iter()
            .position(|b| b.required)
            .ok_or("a replicated storage needs at least one backend with required = true")?;
        let mut names = HashSet::new();
        for b in &backends {
            if !names.insert(b.name.clone()) {
                return Err(format!("two storage backends are named {}", b.name));
            }
        }
        let n = backends.len();
        Ok(Replicated {
            inner: Arc::new(Inner {
                backends,
                primary,
                inflight: Mutex::default(),
                journaled: Mutex::default(),
                queue: Mutex::new(vec![(0, None); n]),
                errors: (0..n).map(|_| AtomicU64::new(0)).collect(),
                repaired: (0..n).map(|_| AtomicU64::new(0)).collect(),
                missing: (0..n).map(|_| AtomicU64::new(0)).collect(),
                scheduled: Mutex::default(),
                seq: AtomicU64::new(0),
                stripes: (0..STRIPES).map(|_| tokio::sync::Mutex::new(())).collect(),
                down: Mutex::new(vec![(None, Duration::ZERO); n]),
                compared: Mutex::new(None),
            }),
        })
    }

    /// The backends, in the listed order.
    pub fn backends(&self) -> &[Backend] {
        &self.inner.backends
    }

    /// The primary backend (the first required one).
    pub fn primary(&self) -> &Backend {
        &self.inner.backends[self.inner.primary]
    }

    /// Counters per backend, for `/metrics`.
    pub fn stats(&self) -> Vec<BackendStats> {
        let queue = self
            .inner
            .queue
            .lock()
            .map(|q| q.clone())
            .unwrap_or_default();
        let now = now_ms();
        self.inner
            .backends
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let (queued, oldest) = queue.get(i).copied().unwrap_or((0, None));
                BackendStats {
                    name: b.name.clone(),
                    required: b.required,
                    errors: self.inner.errors[i].load(Ordering::Relaxed),
                    queued,
                    lag_seconds: oldest.map_or(0.0, |t| now.saturating_sub(t) as f64 / 1000.0),
                    missing: self.inner.missing[i].load(Ordering::Relaxed),
                    repaired: self.inner.repaired[i].load(Ordering::Relaxed),
                }
            })
            .collect()
    }

    /// Repair entries waiting, all backends together.
    pub fn queue_len(&self) -> u64 {
        self.inner
            .queue
            .lock()
            .map(|q| q.iter().map(|(n, _)| n).sum())
            .unwrap_or(0)
    }

    /// Per backend, what the primary had and it lacked in the last listing.
    pub fn missing(&self) -> Vec<(String, u64)> {
        self.inner
            .backends
            .iter()
            .enumerate()
            .map(|(i, b)| {
                (
                    b.name.clone(),
                    self.inner.missing[i].load(Ordering::Relaxed),
                )
            })
            .collect()
    }

    /// Whether backend `i` is resting after a failure.
    fn is_down(&self, i: usize) -> bool {
        self.inner
            .down
            .lock()
            .ok()
            .and_then(|d| d.get(i).and_then(|x| x.0))
            .is_some_and(|until| until > Instant::now())
    }

    /// Backend `i` answered: it is up.
    fn up(&self, i: usize) {
        if let Ok(mut d) = self.inner.down.lock()
            && let Some(x) = d.get_mut(i)
        {
            *x = (None, Duration::ZERO);
        }
    }

    fn fail(&self, i: usize, what: &str, location: &Path, e: &object_store::Error) {
        self.inner.errors[i].fetch_add(1, Ordering::Relaxed);
        if let Ok(mut d) = self.inner.down.lock()
            && let Some(x) = d.get_mut(i)
        {
            let pause = (x.1 * 2).clamp(BACKOFF_MIN, Duration::from_secs(5));
            *x = (Some(Instant::now() + pause), pause);
        }
        tracing::warn!(
            backend = %self.inner.backends[i].name,
            op = what,
            key = %location,
            error = %e,
            "storage backend failed"
        );
    }

    fn stripe(&self, location: &Path) -> &tokio::sync::Mutex<()> {
        let h = location
            .as_ref()
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
            });
        &self.inner.stripes[(h % STRIPES as u64) as usize]
    }

    /// Whether backend `i` may serve a read of `location` (nothing pending there).
    fn fresh(&self, i: usize, location: &Path) -> bool {
        if i == self.inner.primary {
            return true;
        }
        let key = (i, location.clone());
        let inflight = self
            .inner
            .inflight
            .lock()
            .map(|m| m.get(&key).copied().unwrap_or(0) > 0)
            .unwrap_or(true);
        let journaled = self
            .inner
            .journaled
            .lock()
            .map(|s| s.contains(&key))
            .unwrap_or(true);
        !inflight && !journaled
    }

    /// Marks a write to `location` in flight on every non-primary backend, before the
    /// primary is written: until each has it, reads of that key skip it (so a reader
    /// that saw the new version on the primary cannot then get the old one elsewhere).
    fn begin(&self, location: &Path) -> Vec<(usize, u64)> {
        let mut marks = Vec::new();
        let Ok(mut inflight) = self.inner.inflight.lock() else {
            return marks;
        };
        for i in 0..self.inner.backends.len() {
            if i == self.inner.primary {
                continue;
            }
            let seq = self.inner.seq.fetch_add(1, Ordering::Relaxed) + 1;
            let key = (i, location.clone());
            *inflight.entry(key).or_default() += 1;
            marks.push((i, seq));
        }
        marks
    }

    /// Ends one in-flight mark of (backend `i`, `location`).
    fn end(&self, i: usize, location: &Path, seq: u64) {
        let key = (i, location.clone());
        if let Ok(mut m) = self.inner.inflight.lock()
            && let Some(n) = m.get_mut(&key)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                m.remove(&key);
            }
        }
        if let Ok(mut m) = self.inner.scheduled.lock()
            && m.get(&key).copied() == Some(seq)
        {
            m.remove(&key);
        }
    }

    /// Writes `payload` (or deletes, when `None`) to the non-primary backends after the
    /// primary accepted it (`marks` from [`Replicated::begin`]): required ones now (all
    /// must succeed), optional ones in the background (journaled when they fail).
    /// `primary_tag` is the primary's new ETag.
    async fn fan_out(
        &self,
        location: &Path,
        payload: Option<PutPayload>,
        primary_tag: Option<String>,
        marks: Vec<(usize, u64)>,
    ) -> object_store::Result<()> {
        // These writes are now the newest for the key: an older background write that
        // has not run yet is skipped.
        if let Ok(mut m) = self.inner.scheduled.lock() {
            for (i, seq) in &marks {
                m.insert((*i, location.clone()), *seq);
            }
        }
        let mut required = Vec::new();
        for (i, seq) in marks {
            let b = &self.inner.backends[i];
            if b.required {
                let store = b.store.clone();
                let payload = payload.clone();
                let location = location.clone();
                required.push(async move {
                    let r = match payload {
                        Some(p) => store.put(&location, p).await.map(|_| ()),
                        None => match store.delete(&location).await {
                            Err(e) if is_not_found(&e) => Ok(()),
                            r => r,
                        },
                    };
                    (i, seq, r)
                });
            } else {
                self.spawn_optional(
                    i,
                    location.clone(),
                    payload.clone(),
                    primary_tag.clone(),
                    seq,
                );
            }
        }
        let mut failed = None;
        for (i, seq, r) in futures::future::join_all(required).await {
            match r {
                Ok(()) => self.up(i),
                Err(e) => {
                    self.fail(i, "write", location, &e);
                    self.journal(i, location).await;
                    failed = Some(e);
                }
            }
            self.end(i, location, seq);
        }
        match failed {
            Some(e) => Err(generic(format!(
                "a required storage backend did not acknowledge the write: {e}"
            ))),
            None => Ok(()),
        }
    }

    /// Ends the marks of a write the primary refused.
    fn cancel(&self, location: &Path, marks: Vec<(usize, u64)>) {
        for (i, seq) in marks {
            self.end(i, location, seq);
        }
    }

    /// Starts the background write of `payload` (delete when `None`) to optional backend
    /// `i` (marked in flight as `seq`); journals it if it fails.
    fn spawn_optional(
        &self,
        i: usize,
        location: Path,
        payload: Option<PutPayload>,
        primary_tag: Option<String>,
        seq: u64,
    ) {
        let key = (i, location.clone());
        let this = self.clone();
        tokio::spawn(async move {
            let ok = {
                let _g = this.stripe(&location).lock().await;
                let newest = this
                    .inner
                    .scheduled
                    .lock()
                    .map(|m| m.get(&key).copied() == Some(seq))
                    .unwrap_or(true);
                if newest && this.is_down(i) {
                    // Resting after a failure: the journal brings it up to date later.
                    false
                } else if newest {
                    let store = this.inner.backends[i].store.clone();
                    let op = async {
                        match payload {
                            Some(p) => store.put(&location, p).await.map(|_| ()),
                            None => match store.delete(&location).await {
                                Err(e) if is_not_found(&e) => Ok(()),
                                r => r,
                            },
                        }
                    };
                    let r = match tokio::time::timeout(OPTIONAL_WRITE_TIMEOUT, op).await {
                        Ok(r) => r,
                        Err(_) => Err(generic("timed out".into())),
                    };
                    match r {
                        // Another process may have written the key meanwhile: if the
                        // primary moved on, copy its current state instead.
                        Ok(()) => {
                            this.up(i);
                            this.primary_still(&location, &primary_tag).await
                        }
                        Err(e) => {
                            this.fail(i, "replicate", &location, &e);
                            false
                        }
                    }
                } else {
                    true
                }
            };
            if !ok {
                this.journal(i, &location).await;
            }
            this.end(i, &location, seq);
        });
    }

    /// Whether the primary's object at `location` still has ETag `want` (`None`: is
    /// absent).
    async fn primary_still(&self, location: &Path, want: &Option<String>) -> bool {
        match self.primary().store.head(location).await {
            Ok(m) => m.e_tag.is_some() && m.e_tag == *want,
            Err(e) if is_not_found(&e) => want.is_none(),
            Err(_) => false,
        }
    }

    /// Adds a repair entry for (backend `i`, `location`) to the journal on the primary.
    async fn journal(&self, i: usize, location: &Path) {
        let name = &self.inner.backends[i].name;
        let id = crate::storage::new_history_id();
        let entry = Path::from(format!("{REPAIR_DIR}/{:013}-{id}", now_ms()));
        let body = format!("{name}\n{location}");
        if let Ok(mut s) = self.inner.journaled.lock() {
            s.insert((i, location.clone()));
        }
        if let Ok(mut q) = self.inner.queue.lock()
            && let Some(slot) = q.get_mut(i)
        {
            slot.0 += 1;
            slot.1 = Some(slot.1.unwrap_or_else(now_ms));
        }
        if let Err(e) = self
            .primary()
            .store
            .put(&entry, PutPayload::from(body.into_bytes()))
            .await
        {
            tracing::error!(
                backend = %name,
                key = %location,
                error = %e,
                "cannot journal a repair: the backend stays behind for this key until its next write"
            );
        }
    }

    /// Copies the primary's current state of `location` to backend `i`, until the
    /// primary did not change meanwhile.
    async fn repair(&self, i: usize, location: &Path) -> object_store::Result<()> {
        let _g = self.stripe(location).lock().await;
        let target = self.inner.backends[i].store.clone();
        for _ in 0..5 {
            let (payload, etag) = match self.primary().store.get(location).await {
                Ok(r) => {
                    let etag = r.meta.e_tag.clone();
                    (Some(r.bytes().await?), etag)
                }
                Err(e) if is_not_found(&e) => (None, None),
                Err(e) => return Err(e),
            };
            match payload {
                Some(b) => {
                    target.put(location, PutPayload::from(b)).await?;
                }
                None => match target.delete(location).await {
                    Err(e) if is_not_found(&e) => {}
                    r => r?,
                },
            }
            if self.primary_still(location, &etag).await {
                return Ok(());
            }
        }
        Err(generic(format!("{location} keeps changing")))
    }

    /// Reads the journal: entries oldest first as (entry path, backend index, key).
    async fn read_journal(&self) -> object_store::Result<Vec<(Path, usize, Path, u64)>> {
        let prefix = Path::from(REPAIR_DIR);
        let mut metas: Vec<ObjectMeta> = self
            .primary()
            .store
            .list(Some(&prefix))
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<Result<_, _>>()?;
        metas.sort_unstable_by(|a, b| a.location.cmp(&b.location));
        let mut out = Vec::with_capacity(metas.len());
        for m in metas {
            let ms = m
                .location
                .filename()
                .and_then(|f| f.split('-').next())
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0);
            let body = match self.primary().store.get(&m.location).await {
                Ok(r) => r.bytes().await?,
                Err(e) if is_not_found(&e) => continue,
                Err(e) => return Err(e),
            };
            let parsed = std::str::from_utf8(&body)
                .ok()
                .and_then(|t| t.split_once('\n'))
                .and_then(|(name, key)| {
                    let i = self.inner.backends.iter().position(|b| b.name == name)?;
                    Some((i, Path::from(key)))
                });
            match parsed {
                Some((i, key)) => out.push((m.location, i, key, ms)),
                None => {
                    tracing::warn!(entry = %m.location, "repair entry for no configured backend; left in place");
                }
            }
        }
        Ok(out)
    }

    /// One pass over the journal: repairs what it can (oldest first, skipping backends
    /// in back-off), and refreshes what reads and metrics know about lag. Returns the
    /// entries left.
    pub async fn drain_once(&self, backoff: &mut [(Instant, Duration)]) -> usize {
        let entries = match self.read_journal().await {
            Ok(e) => e,
            Err(e) => {
                self.fail(
                    self.inner.primary,
                    "read repair journal",
                    &Path::from(REPAIR_DIR),
                    &e,
                );
                return usize::MAX;
            }
        };
        let mut left = Vec::new();
        let now = Instant::now();
        for (entry, i, key, ms) in entries {
            if backoff.get(i).is_some_and(|(until, _)| *until > now) {
                left.push((i, key, ms));
                continue;
            }
            match self.repair(i, &key).await {
                Ok(()) => {
                    self.up(i);
                    self.inner.repaired[i].fetch_add(1, Ordering::Relaxed);
                    if let Some(b) = backoff.get_mut(i) {
                        b.1 = Duration::ZERO;
                    }
                    if let Err(e) = self.primary().store.delete(&entry).await
                        && !is_not_found(&e)
                    {
                        self.fail(self.inner.primary, "remove repair entry", &entry, &e);
                    }
                }
                Err(e) => {
                    self.fail(i, "repair", &key, &e);
                    if let Some(b) = backoff.get_mut(i) {
                        b.1 = (b.1 * 2).clamp(BACKOFF_MIN, BACKOFF_MAX);
                        b.0 = Instant::now() + b.1;
                    }
                    left.push((i, key, ms));
                }
            }
        }
        let n = left.len();
        let mut queue = vec![(0u64, None::<u64>); self.inner.backends.len()];
        let mut set = HashSet::new();
        for (i, key, ms) in left {
            if let Some(slot) = queue.get_mut(i) {
                slot.0 += 1;
                slot.1 = Some(slot.1.map_or(ms, |o: u64| o.min(ms)));
            }
            set.insert((i, key));
        }
        if let Ok(mut s) = self.inner.journaled.lock() {
            *s = set;
        }
        if let Ok(mut q) = self.inner.queue.lock() {
            *q = queue;
        }
        n
    }

    /// Drains the repair journal for as long as the process runs.
    pub async fn drain_forever(self) {
        let mut backoff = vec![(Instant::now(), Duration::ZERO); self.inner.backends.len()];
        loop {
            let left = self.drain_once(&mut backoff).await;
            let pause = if left == 0 || left == usize::MAX {
                DRAIN_IDLE
            } else {
                Duration::from_millis(100)
            };
            tokio::time::sleep(pause).await;
        }
    }

    /// Counts, per backend, the primary's objects under `prefix` it lacks.
    async fn compare_listing(&self, prefix: Option<Path>, primary: Vec<ObjectMeta>) {
        let names: HashSet<Path> = primary.into_iter().map(|m| m.location).collect();
        for (i, b) in self.inner.backends.iter().enumerate() {
            if i == self.inner.primary {
                continue;
            }
            let theirs: Result<Vec<ObjectMeta>, _> = b
                .store
                .list(prefix.as_ref())
                .collect::<Vec<_>>()
                .await
                .into_iter()
                .collect();
            match theirs {
                Ok(t) => {
                    let have: HashSet<Path> = t.into_iter().map(|m| m.location).collect();
                    let missing = names.difference(&have).count() as u64;
                    self.inner.missing[i].store(missing, Ordering::Relaxed);
                    if missing > 0 {
                        tracing::info!(
                            backend = %b.name,
                            prefix = %prefix.as_ref().map(|p| p.as_ref()).unwrap_or(""),
                            missing,
                            "backend lacks objects the primary has"
                        );
                    }
                }
                Err(e) => self.fail(i, "list", &prefix.clone().unwrap_or_default(), &e),
            }
        }
    }
}

#[async_trait::async_trait]
impl ObjectStore for Replicated {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        let p = self.inner.primary;
        let mut opts = opts;
        if let PutMode::Update(v) = &opts.mode {
            // The version must be the primary's (from an authoritative read).
            let e = v.e_tag.as_deref().and_then(untag);
            let ver = v.version.as_deref().and_then(untag);
            let from = e.as_ref().or(ver.as_ref()).map(|(i, _)| *i);
            if from != Some(p) {
                return Err(object_store::Error::Precondition {
                    path: location.to_string(),
                    source: "the version is not the primary backend's".into(),
                });
            }
            opts.mode = PutMode::Update(UpdateVersion {
                e_tag: e.map(|(_, t)| t),
                version: ver.map(|(_, t)| t),
            });
        }
        let marks = self.begin(location);
        let r = self
            .primary()
            .store
            .put_opts(location, payload.clone(), opts)
            .await;
        let r = match r {
            Ok(r) => r,
            Err(e) => {
                self.cancel(location, marks);
                if !matches!(
                    e,
                    object_store::Error::Precondition { .. }
                        | object_store::Error::AlreadyExists { .. }
                ) {
                    self.fail(p, "write", location, &e);
                }
                return Err(e);
            }
        };
        self.fan_out(location, Some(payload), r.e_tag.clone(), marks)
            .await?;
        Ok(PutResult {
            e_tag: tag(p, r.e_tag),
            version: tag(p, r.version),
            ..r
        })
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        Ok(Box::new(BufferedUpload {
            store: self.clone(),
            location: location.clone(),
            parts: Vec::new(),
            opts: PutOptions {
                tags: opts.tags,
                attributes: opts.attributes,
                ..Default::default()
            },
        }))
    }

    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        let p = self.inner.primary;
        let mut options = options;
        // A tag from one backend pins the read to that backend.
        let mut pinned = None;
        for t in [&mut options.if_match, &mut options.if_none_match] {
            if let Some((i, inner)) = t.as_deref().and_then(untag) {
                pinned = Some(i);
                *t = Some(inner);
            }
        }
        if let Some((i, inner)) = options.version.as_deref().and_then(untag) {
            pinned = Some(i);
            options.version = Some(inner);
        }
        let order: Vec<usize> = if let Some(i) = pinned {
            vec![i]
        } else if options.extensions.get::<Authoritative>().is_some() {
            vec![p]
        } else {
            let fresh: Vec<usize> = (0..self.inner.backends.len())
                .filter(|i| self.fresh(*i, location))
                .collect();
            let up: Vec<usize> = fresh
                .iter()
                .copied()
                .filter(|i| !self.is_down(*i))
                .collect();
            if up.is_empty() { fresh } else { up }
        };
        let mut last = None;
        for i in order {
            let Some(b) = self.inner.backends.get(i) else {
                continue;
            };
            let mut r = b.store.get_opts(location, options.clone()).await;
            if let (Err(object_store::Error::NotSupported { .. }), Some(GetRange::Suffix(n))) =
                (&r, &options.range)
            {
                // No suffix ranges (Azure): the end of the version its head names.
                let n = *n;
                r = async {
                    let head = b.store.head(location).await?;
                    let opts = GetOptions {
                        range: (head.size > 0)
                            .then(|| GetRange::Bounded(head.size.saturating_sub(n)..head.size)),
                        if_match: head.e_tag.clone(),
                        ..options.clone()
                    };
                    b.store.get_opts(location, opts).await
                }
                .await;
            }
            match r {
                Ok(mut r) => {
                    self.up(i);
                    r.meta = tag_meta(i, r.meta);
                    return Ok(r);
                }
                Err(e) if is_not_found(&e) && !b.required => last = Some(e),
                Err(e @ object_store::Error::NotFound { .. })
                | Err(e @ object_store::Error::Precondition { .. })
                | Err(e @ object_store::Error::NotModified { .. }) => return Err(e),
                Err(e) => {
                    self.fail(i, "read", location, &e);
                    last = Some(e);
                }
            }
        }
        Err(last.unwrap_or_else(|| generic("no storage backend could serve the read".into())))
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        let this = self.clone();
        locations
            .then(move |l| {
                let this = this.clone();
                async move {
                    let l = l?;
                    let p = this.inner.primary;
                    let marks = this.begin(&l);
                    match this.primary().store.delete(&l).await {
                        Ok(()) => {}
                        Err(e) if is_not_found(&e) => {}
                        Err(e) => {
                            this.cancel(&l, marks);
                            this.fail(p, "delete", &l, &e);
                            return Err(e);
                        }
                    }
                    this.fan_out(&l, None, None, marks).await?;
                    Ok(l)
                }
            })
            .boxed()
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        let this = self.clone();
        let prefix = prefix.cloned();
        let p = self.inner.primary;
        futures::stream::once(async move {
            let got: object_store::Result<Vec<ObjectMeta>> = this
                .primary()
                .store
                .list(prefix.as_ref())
                .collect::<Vec<_>>()
                .await
                .into_iter()
                .collect();
            match got {
                Ok(v) => {
                    let due = this.inner.compared.lock().is_ok_and(|mut at| {
                        let due = at.is_none_or(|t| t.elapsed() >= COMPARE_EVERY);
                        if due {
                            *at = Some(Instant::now());
                        }
                        due
                    });
                    if due {
                        let report = this.clone();
                        let (pre, all) = (prefix.clone(), v.clone());
                        tokio::spawn(async move { report.compare_listing(pre, all).await });
                    }
                    futures::stream::iter(v.into_iter().map(move |m| Ok(tag_meta(p, m)))).boxed()
                }
                Err(e) => {
                    this.fail(p, "list", &prefix.unwrap_or_default(), &e);
                    futures::stream::iter([Err(e)]).boxed()
                }
            }
        })
        .flatten()
        .boxed()
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        let p = self.inner.primary;
        let mut r = self.primary().store.list_with_delimiter(prefix).await?;
        r.objects = r.objects.into_iter().map(|m| tag_meta(p, m)).collect();
        Ok(r)
    }

    async fn copy_opts(
        &self,
        from: &Path,
        to: &Path,
        options: CopyOptions,
    ) -> object_store::Result<()> {
        let p = self.inner.primary;
        let marks = self.begin(to);
        if let Err(e) = self.primary().store.copy_opts(from, to, options).await {
            self.cancel(to, marks);
            if !matches!(e, object_store::Error::AlreadyExists { .. }) {
                self.fail(p, "copy", to, &e);
            }
            return Err(e);
        }
        // The others get the primary's object (their copy of `from` may lag).
        let got = async {
            let r = self.primary().store.get(to).await?;
            let tag = r.meta.e_tag.clone();
            Ok::<_, object_store::Error>((r.bytes().await?, tag))
        }
        .await;
        match got {
            Ok((bytes, tag)) => {
                self.fan_out(to, Some(PutPayload::from(bytes)), tag, marks)
                    .await
            }
            Err(e) => {
                // The copy is on the primary: the journal brings the others up to date.
                for (i, _) in &marks {
                    self.journal(*i, to).await;
                }
                self.cancel(to, marks);
                Err(e)
            }
        }
    }
}

/// A multipart upload to a replicated store: the parts are kept in memory and written
/// with one replicated `put` when complete (hub uploads are at most `max_upload_mb`).
struct BufferedUpload {
    store: Replicated,
    location: Path,
    parts: Vec<PutPayload>,
    opts: PutOptions,
}

impl fmt::Debug for BufferedUpload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BufferedUpload")
            .field("location", &self.location)
            .finish()
    }
}

#[async_trait::async_trait]
impl MultipartUpload for BufferedUpload {
    fn put_part(&mut self, data: PutPayload) -> UploadPart {
        self.parts.push(data);
        Box::pin(async { Ok(()) })
    }

    async fn complete(&mut self) -> object_store::Result<PutResult> {
        let payload: PutPayload = self
            .parts
            .drain(..)
            .flat_map(|p| p.into_iter().collect::<Vec<Bytes>>())
            .collect();
        self.store
            .put_opts(&self.location, payload, std::mem::take(&mut self.opts))
            .await
    }

    async fn abort(&mut self) -> object_store::Result<()> {
        self.parts.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::memory::InMemory;

    fn backends(n: usize) -> (Replicated, Vec<Arc<InMemory>>) {
        let stores: Vec<Arc<InMemory>> = (0..n).map(|_| Arc::new(InMemory::new())).collect();
        let r = Replicated::new(
            stores
                .iter()
                .enumerate()
                .map(|(i, s)| Backend {
                    name: format!("b{i}"),
                    description: "memory://".into(),
                    store: s.clone(),
                    required: i == 0,
                })
                .collect(),
        )
        .expect("one required");
        (r, stores)
    }

    #[test]
    fn tags_round_trip() {
        assert_eq!(untag("2:abc:d"), Some((2, "abc:d".to_string())));
        assert_eq!(untag("x:abc"), None);
        assert_eq!(tag(1, Some("e".into())).as_deref(), Some("1:e"));
    }

    #[test]
    fn needs_a_required_backend_and_unique_names() {
        let s: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let b = |name: &str, required| Backend {
            name: name.into(),
            description: String::new(),
            store: s.clone(),
            required,
        };
        assert!(Replicated::new(vec![b("a", false)]).is_err());
        assert!(Replicated::new(vec![b("a", true), b("a", false)]).is_err());
        assert!(Replicated::new(vec![b("a", false), b("b", true)]).is_ok());
    }

    #[tokio::test]
    async fn writes_reach_every_backend_and_conditions_use_the_primary() {
        let (r, stores) = backends(2);
        let p = Path::from("a/x");
        let put = r
            .put_opts(&p, PutPayload::from_static(b"1"), PutMode::Create.into())
            .await
            .unwrap();
        assert!(put.e_tag.as_deref().unwrap().starts_with("0:"));
        // Create again: refused by the primary.
        assert!(matches!(
            r.put_opts(&p, PutPayload::from_static(b"2"), PutMode::Create.into())
                .await,
            Err(object_store::Error::AlreadyExists { .. })
        ));
        let v = UpdateVersion::from(put);
        r.put_opts(
            &p,
            PutPayload::from_static(b"2"),
            PutMode::Update(v.clone()).into(),
        )
        .await
        .unwrap();
        // The stale version is refused.
        assert!(matches!(
            r.put_opts(&p, PutPayload::from_static(b"3"), PutMode::Update(v).into())
                .await,
            Err(object_store::Error::Precondition { .. })
        ));
        // The optional backend converges (background write).
        for _ in 0..100 {
            if let Ok(g) = stores[1].get(&p).await
                && g.bytes().await.unwrap() == Bytes::from_static(b"2")
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let got = stores[1].get(&p).await.unwrap().bytes().await.unwrap();
        assert_eq!(got, Bytes::from_static(b"2"));
    }
}
