//! The storage layer: a thin wrapper over `object_store` that reads and writes the
//! single-object [`envelope`](crate::envelope) format.
//!
//! Atomicity: every file is one object holding content and metadata, written by one
//! `put` (small files) or one multipart upload (large files). On the local filesystem
//! both stage to a hidden `<name>#<n>` file and `rename` it into place, which
//! `object_store` ignores when listing; cloud stores publish objects atomically. A
//! process killed mid-write therefore leaves either the old object or the new one,
//! never a torn file and never content that disagrees with its metadata.

use crate::config::{Config, StorageLocation};
use crate::envelope::{self, EnvelopeError, MAX_TRAILER_LEN, Meta};
use crate::replica::{Authoritative, Backend, Replicated};
use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use md5::{Digest, Md5};
use object_store::buffered::BufWriter;
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::{Path, PathPart};
use object_store::prefix::PrefixStore;
use object_store::{
    GetOptions, GetRange, ObjectMeta, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload,
    UpdateVersion,
};
use percent_encoding::percent_decode_str;
use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::AsyncWriteExt;

/// Objects up to this size are read with a single request.
const SMALL_READ: u64 = 64 * 1024;

/// Upload buffer: smaller files are written with one `put`, larger ones stream as a
/// multipart upload in parts of this size.
const UPLOAD_CAPACITY: usize = 8 * 1024 * 1024;

/// A storage failure.
#[derive(Debug)]
#[non_exhaustive]
pub enum StorageError {
    /// The object is not a valid hub file (foreign or damaged object).
    Corrupt(EnvelopeError),
    /// The backend failed.
    Backend(object_store::Error),
    /// The storage could not be opened.
    Open(String),
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StorageError::Corrupt(e) => write!(f, "corrupt object: {e}"),
            StorageError::Backend(e) => write!(f, "storage error: {e}"),
            StorageError::Open(e) => write!(f, "cannot open storage: {e}"),
        }
    }
}

impl std::error::Error for StorageError {}

impl From<object_store::Error> for StorageError {
    fn from(e: object_store::Error) -> Self {
        StorageError::Backend(e)
    }
}

/// What the hub knows about a stored file.
#[derive(Debug, Clone)]
pub struct FileInfo {
    /// Content type, ETag and content length.
    pub meta: Meta,
    /// When the object was last written.
    pub last_modified: SystemTime,
}

/// A file's content.
pub enum Content {
    /// The whole content, already in memory.
    Whole(Bytes),
    /// A stream of the content.
    Stream(BoxStream<'static, Result<Bytes, object_store::Error>>),
}

/// Turns a storage key (`address/path`) into an object path, percent-encoding the
/// characters object stores dislike so that every valid Gaia path maps to one object.
pub fn key_to_path(key: &str) -> Path {
    Path::from_iter(key.split('/').map(PathPart::from))
}

/// The inverse of [`key_to_path`].
pub fn path_to_key(path: &Path) -> Option<String> {
    let mut out = String::new();
    for (i, part) in path.parts().enumerate() {
        if i > 0 {
            out.push('/');
        }
        out.push_str(&percent_decode_str(part.as_ref()).decode_utf8().ok()?);
    }
    Some(out)
}

/// A bucket's listing sorted by name (duplicates removed): (path in the bucket, last
/// modified).
pub type Listing = Arc<Vec<(String, SystemTime)>>;

/// Default for how long a bucket's sorted listing is reused for the later pages of a
/// listing (`listing_cache_ttl`). Writes through this hub drop it at once; the TTL bounds
/// how stale it can get when something else writes to the same storage (another hub
/// process). The first page of a listing always reads the storage.
pub const DEFAULT_LISTING_TTL: Duration = Duration::from_secs(2);

/// Where the local-disk file locks live, under the storage directory (outside every
/// bucket, so never listed).
pub const LOCK_DIR: &str = ".cairn-locks";

/// Stripes of the local-disk file locks (`<storage>/.cairn-locks/<n>`).
const LOCK_STRIPES: u64 = 1024;

/// How many buckets' listings are kept at most.
const LISTING_CACHE_BUCKETS: usize = 64;

/// Write counters per bucket (hashed into slots): a listing is only cached if no write
/// to its bucket happened while it was read.
const WRITE_SLOTS: usize = 256;

/// Sorted bucket listings kept between the pages of a `list-files` session, so that a
/// page costs a binary search instead of a walk of the whole bucket.
struct ListingCache {
    buckets: Mutex<HashMap<String, (Instant, Listing)>>,
    writes: Vec<AtomicU64>,
    ttl: Duration,
}

/// FNV-1a: stable and cheap.
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

impl ListingCache {
    fn new(ttl: Duration) -> Self {
        ListingCache {
            buckets: Mutex::new(HashMap::new()),
            writes: (0..WRITE_SLOTS).map(|_| AtomicU64::new(0)).collect(),
            ttl,
        }
    }

    fn slot(&self, bucket: &str) -> &AtomicU64 {
        &self.writes[(fnv(bucket) % WRITE_SLOTS as u64) as usize]
    }

    /// Called after every change to an object under `key`.
    fn changed(&self, key: &str) {
        let bucket = key.split('/').next().unwrap_or_default();
        self.slot(bucket).fetch_add(1, Ordering::SeqCst);
        if let Ok(mut m) = self.buckets.lock() {
            m.remove(bucket);
        }
    }

    fn get(&self, bucket: &str) -> Option<Listing> {
        let m = self.buckets.lock().ok()?;
        let (at, listing) = m.get(bucket)?;
        (at.elapsed() < self.ttl).then(|| listing.clone())
    }

    fn put(&self, bucket: &str, listing: Listing, writes_before: u64) {
        let Ok(mut m) = self.buckets.lock() else {
            return;
        };
        if self.slot(bucket).load(Ordering::SeqCst) != writes_before {
            return;
        }
        if m.len() >= LISTING_CACHE_BUCKETS && !m.contains_key(bucket) {
            let ttl = self.ttl;
            m.retain(|_, (at, _)| at.elapsed() < ttl);
            if m.len() >= LISTING_CACHE_BUCKETS
                && let Some(oldest) = m
                    .iter()
                    .min_by_key(|(_, (at, _))| *at)
                    .map(|(k, _)| k.clone())
            {
                m.remove(&oldest);
            }
        }
        m.insert(bucket.to_string(), (Instant::now(), listing));
    }
}

/// How a read-check-write (a conditional or archival write, a revocation) is made
/// atomic against other hub processes writing to the same storage.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Atomicity {
    /// The store's conditional writes: `PutMode::Create` / `PutMode::Update` with the
    /// version read (memory, Azure, GCS, S3 with `aws_conditional_put`). Uploads are
    /// held in memory until they are published with one conditional `put`.
    Conditional,
    /// Local disk: `object_store`'s `LocalFileSystem` has `PutMode::Create` but no
    /// `PutMode::Update`, so the check and the publish (a rename) run under an OS file
    /// lock (`flock`, per key stripe, files under this directory) that every hub process
    /// on the machine takes; the kernel drops it when a process dies, even by `kill -9`.
    FileLock(PathBuf),
    /// Neither: only the in-process per-path lock protects a check and its write, which
    /// is correct for one hub process only. The text says why.
    InProcess(String),
}

impl fmt::Display for Atomicity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Atomicity::Conditional => f.write_str("conditional writes"),
            Atomicity::FileLock(d) => write!(f, "file locks in {}", d.display()),
            Atomicity::InProcess(why) => write!(f, "in-process locks only ({why})"),
        }
    }
}

/// What a write expects the object to be when it is published.
#[derive(Debug, Clone)]
pub enum Expect {
    /// Anything (plain overwrite).
    Any,
    /// No object.
    Absent,
    /// Exactly this version (from [`Storage::current`]).
    Version(Box<Current>),
}

/// A file's current version, as read for a conditional write.
#[derive(Debug, Clone)]
pub struct Current {
    /// Its metadata.
    pub info: FileInfo,
    /// The backend's version of the object.
    pub version: UpdateVersion,
    /// Its content, when asked for and small.
    pub content: Option<Bytes>,
}

impl Current {
    /// This version's id: from its metadata, or for a file written by an older hub
    /// derived from what every process sees the same (its ETag and version tags).
    pub fn vid(&self) -> String {
        if let Some(id) = &self.info.meta.vid {
            return id.clone();
        }
        let mut seed = format!(
            "{}|{:?}|{:?}",
            self.info.meta.etag, self.version.e_tag, self.version.version
        );
        loop {
            let d1 = Md5::digest(seed.as_bytes());
            let d2 = Md5::digest(d1);
            let bytes: Vec<u8> = d1.iter().chain(d2.iter()).copied().collect();
            if let Some(id) = crate::paths::history_id_from_bytes(&bytes) {
                return id;
            }
            seed.push('+');
        }
    }

    /// The smallest history number this version may be archived under.
    fn min_history_number(&self) -> u64 {
        self.info.meta.hprev.map_or(0, |n| n.saturating_add(1))
    }
}

/// Where archive claims live (outside every bucket, so never listed).
pub const CLAIM_DIR: &str = ".cairn-archive";

/// The claim object of version `vid` of `key`: `.cairn-archive/<md5(key)>.<vid>`.
fn claim_path(key: &str, vid: &str) -> Path {
    Path::from(format!("{CLAIM_DIR}/{}.{vid}", md5_hex(key.as_bytes())))
}

/// The storage key of the history name of `key` archived at `ms` with `id`.
fn history_key(key: &str, ms: u64, id: &str) -> String {
    let (address, path) = key.split_once('/').unwrap_or(("", key));
    crate::paths::object_key(address, &crate::paths::history_path(path, ms, id))
}

/// Where a version is archived: its history key and number, chosen once (the claim).
#[derive(Debug, Clone)]
struct Claim {
    path: Path,
    history: String,
    number: u64,
}

/// The outcome of [`Storage::delete_if`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deleted {
    /// Deleted (or archived).
    Done,
    /// There was no file.
    Missing,
    /// The file changed since it was read; nothing was done.
    Conflict,
}

/// A random history id (10 characters of `[0-9A-Za-z]`).
pub fn new_history_id() -> String {
    loop {
        let mut buf = [0u8; 32];
        if getrandom::fill(&mut buf).is_err() {
            // No OS randomness: fall back to the clock (ids only need to be unique-ish).
            let t = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            buf[..16].copy_from_slice(&t.to_le_bytes());
            buf[16..].copy_from_slice(&t.rotate_left(64).to_le_bytes());
            for b in &mut buf {
                *b %= 248;
            }
        }
        if let Some(id) = crate::paths::history_id_from_bytes(&buf) {
            return id;
        }
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Opens one storage location: the store, its description, and how it keeps a check
/// and its write atomic ([`Atomicity::InProcess`] for cloud stores until probed).
/// `short_retry`: a backend of a replicated storage gives up after two quick retries
/// (the repair journal catches it up), instead of retrying for minutes.
fn open_backend(
    location: &StorageLocation,
    options: &std::collections::BTreeMap<String, String>,
    fsync: bool,
    short_retry: bool,
) -> Result<(Arc<dyn ObjectStore>, String, Atomicity), StorageError> {
    Ok(match location {
        StorageLocation::Local(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| {
                StorageError::Open(format!("cannot create directory {}: {e}", dir.display()))
            })?;
            // with_fsync: the staged file is synced before its rename and the
            // directory after it, so a 202 means the write survives a power cut.
            let fs = LocalFileSystem::new_with_prefix(dir)
                .map_err(|e| StorageError::Open(format!("{}: {e}", dir.display())))?
                .with_automatic_cleanup(true)
                .with_fsync(fsync);
            let canonical = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.clone());
            let locks = canonical.join(LOCK_DIR);
            std::fs::create_dir_all(&locks).map_err(|e| {
                StorageError::Open(format!("cannot create {}: {e}", locks.display()))
            })?;
            (
                Arc::new(fs),
                format!("file://{}", canonical.display()),
                Atomicity::FileLock(locks),
            )
        }
        StorageLocation::Memory => (
            Arc::new(InMemory::new()),
            "memory://".to_string(),
            Atomicity::Conditional,
        ),
        StorageLocation::Cloud(url) => {
            let (store, prefix) = if short_retry {
                cloud_with_short_retry(url, options)
            } else {
                object_store::parse_url_opts(url, options.iter())
            }
            .map_err(|e| StorageError::Open(format!("{url}: {e}")))?;
            let store: Arc<dyn ObjectStore> = if prefix.as_ref().is_empty() {
                Arc::from(store)
            } else {
                Arc::new(PrefixStore::new(store, prefix))
            };
            (
                store,
                url.to_string(),
                Atomicity::InProcess("not probed yet".into()),
            )
        }
    })
}

/// `object_store::parse_url_opts` with a short retry policy (S3, Azure, GCS).
fn cloud_with_short_retry(
    url: &url::Url,
    options: &std::collections::BTreeMap<String, String>,
) -> Result<(Box<dyn ObjectStore>, Path), object_store::Error> {
    use object_store::{BackoffConfig, ObjectStoreScheme, RetryConfig};
    let retry = RetryConfig {
        backoff: BackoffConfig {
            init_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
            base: 2.0,
        },
        max_retries: 2,
        retry_timeout: Duration::from_secs(5),
    };
    let (scheme, path) = ObjectStoreScheme::parse(url)?;
    macro_rules! build {
        ($builder:ty) => {{
            let b = options.iter().fold(
                <$builder>::new().with_url(url.to_string()),
                |b, (k, v)| match k.to_ascii_lowercase().parse() {
                    Ok(k) => b.with_config(k, v),
                    Err(_) => b,
                },
            );
            Box::new(b.with_retry(retry).build()?) as Box<dyn ObjectStore>
        }};
    }
    let store = match scheme {
        ObjectStoreScheme::AmazonS3 => build!(object_store::aws::AmazonS3Builder),
        ObjectStoreScheme::MicrosoftAzure => build!(object_store::azure::MicrosoftAzureBuilder),
        ObjectStoreScheme::GoogleCloudStorage => {
            build!(object_store::gcp::GoogleCloudStorageBuilder)
        }
        _ => return object_store::parse_url_opts(url, options.iter()),
    };
    Ok((store, path))
}

/// Holds a local-disk stripe lock until dropped (closing the file releases it).
struct FileLockGuard {
    _file: std::fs::File,
}

/// The hub's storage.
#[derive(Clone)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    description: String,
    listings: Arc<ListingCache>,
    atomicity: Atomicity,
    errors: Arc<AtomicU64>,
    /// Set once the store refused a suffix range read (Azure).
    no_suffix_ranges: Arc<std::sync::atomic::AtomicBool>,
    /// The replicated store behind `store`, for `[[storage]]` lists.
    replicated: Option<Replicated>,
}

impl fmt::Debug for Storage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Storage")
            .field("at", &self.description)
            .field("atomicity", &self.atomicity)
            .finish()
    }
}

/// The `GetOptions` extensions of a read: [`Authoritative`] when a conditional write is
/// decided on it.
fn extensions(authoritative: bool) -> object_store::Extensions {
    let mut x = object_store::Extensions::new();
    if authoritative {
        x.insert(Authoritative);
    }
    x
}

fn is_not_found(e: &object_store::Error) -> bool {
    matches!(e, object_store::Error::NotFound { .. })
}

fn is_conflict(e: &object_store::Error) -> bool {
    matches!(
        e,
        object_store::Error::Precondition { .. } | object_store::Error::AlreadyExists { .. }
    )
}

impl Storage {
    /// Wraps an existing object store that has conditional writes (e.g. `InMemory`).
    pub fn from_store(store: Arc<dyn ObjectStore>, description: impl Into<String>) -> Self {
        Storage::with_atomicity(
            store,
            description,
            Atomicity::Conditional,
            DEFAULT_LISTING_TTL,
        )
    }

    /// Wraps an existing object store, saying how its writes are made atomic.
    pub fn with_atomicity(
        store: Arc<dyn ObjectStore>,
        description: impl Into<String>,
        atomicity: Atomicity,
        listing_ttl: Duration,
    ) -> Self {
        Storage {
            store,
            description: description.into(),
            listings: Arc::new(ListingCache::new(listing_ttl)),
            atomicity,
            errors: Arc::new(AtomicU64::new(0)),
            no_suffix_ranges: Arc::default(),
            replicated: None,
        }
    }

    /// Opens the configured storage and checks that it answers. In multi-process mode,
    /// refuses a storage that cannot make a check and its write atomic across processes.
    pub async fn open(cfg: &Config) -> Result<Storage, StorageError> {
        let ttl = cfg.listing_cache_ttl;
        let mut storage = if cfg.replicas.is_empty() {
            let (store, description, atomicity) =
                open_backend(&cfg.storage, &cfg.storage_options, cfg.fsync, false)?;
            Storage::with_atomicity(store, description, atomicity, ttl)
        } else {
            let mut backends = Vec::new();
            let mut primary_atomicity = None;
            for b in &cfg.replicas {
                // Each backend's own options, over the shared [storage_options].
                let mut options = cfg.storage_options.clone();
                options.extend(b.options.clone());
                let (store, description, atomicity) =
                    open_backend(&b.location, &options, cfg.fsync, true)?;
                if b.required && primary_atomicity.is_none() {
                    primary_atomicity = Some(atomicity);
                }
                backends.push(Backend {
                    name: b.name.clone(),
                    description,
                    store,
                    required: b.required,
                });
            }
            let replicated = Replicated::new(backends).map_err(StorageError::Open)?;
            for b in replicated.backends() {
                let s = Storage::with_atomicity(
                    b.store.clone(),
                    b.description.clone(),
                    Atomicity::Conditional,
                    ttl,
                );
                match s.probe().await {
                    Ok(()) => {}
                    // An optional backend may be down at startup: the journal catches up.
                    Err(e) if !b.required => {
                        tracing::warn!(backend = %b.name, error = %e, "optional storage backend unreachable at startup");
                    }
                    Err(e) => return Err(e),
                }
            }
            let description = replicated.to_string();
            let mut s = Storage::with_atomicity(
                Arc::new(replicated.clone()),
                description,
                primary_atomicity.unwrap_or(Atomicity::InProcess("no primary".into())),
                ttl,
            );
            s.replicated = Some(replicated);
            s
        };
        storage.probe().await?;
        if matches!(storage.atomicity, Atomicity::InProcess(_)) {
            storage.atomicity = storage.probe_conditional().await;
        }
        storage.check_multi_process(cfg.multi_process)?;
        if let Some(r) = &storage.replicated {
            tokio::spawn(r.clone().drain_forever());
        }
        Ok(storage)
    }

    /// The replicated store, when the storage is a `[[storage]]` list.
    pub fn replicated(&self) -> Option<&Replicated> {
        self.replicated.as_ref()
    }

    /// In multi-process mode, refuses a storage that can only keep a check and its
    /// write together inside one process, saying why.
    pub fn check_multi_process(&self, multi_process: bool) -> Result<(), StorageError> {
        match &self.atomicity {
            Atomicity::InProcess(why) if multi_process => Err(StorageError::Open(format!(
                "{}: multi_process = true needs conditional writes (PutMode::Create and \
                 PutMode::Update) to keep If-Match writes, history and revocations correct \
                 across processes, and this storage has none: {why}. For S3 set \
                 storage_options.aws_conditional_put = \"etag\" (AWS S3, MinIO and others \
                 support it); or run a single hub process (multi_process = false)",
                self.description
            ))),
            _ => Ok(()),
        }
    }

    /// How this storage makes conditional writes atomic across processes.
    pub fn atomicity(&self) -> &Atomicity {
        &self.atomicity
    }

    /// Backend failures seen so far.
    pub fn error_count(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    fn count<T>(&self, r: Result<T, StorageError>) -> Result<T, StorageError> {
        if matches!(r, Err(StorageError::Backend(_))) {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
        r
    }

    /// Checks whether the store has `PutMode::Create` and `PutMode::Update` (with a
    /// private probe object): [`Atomicity::Conditional`] if it has, else why not.
    async fn probe_conditional(&self) -> Atomicity {
        let path = Path::from(format!(".cairn-hub-cas-probe-{}", new_history_id()));
        let put = |mode: PutMode| {
            let store = self.store.clone();
            let path = path.clone();
            async move {
                store
                    .put_opts(
                        &path,
                        PutPayload::from_static(b"probe"),
                        PutOptions::from(mode),
                    )
                    .await
            }
        };
        let verdict = async {
            let first = put(PutMode::Create)
                .await
                .map_err(|e| format!("create: {e}"))?;
            match put(PutMode::Create).await {
                Err(object_store::Error::AlreadyExists { .. }) => {}
                Ok(_) => return Err("a second PutMode::Create succeeded".to_string()),
                Err(e) => return Err(format!("create over an existing object: {e}")),
            }
            let stale = UpdateVersion {
                e_tag: Some("\"cairn-stale-probe\"".into()),
                version: None,
            };
            match put(PutMode::Update(stale)).await {
                Err(object_store::Error::Precondition { .. }) => {}
                Ok(_) => return Err("PutMode::Update with a wrong ETag succeeded".to_string()),
                Err(e) => return Err(format!("update: {e}")),
            }
            put(PutMode::Update(UpdateVersion::from(first)))
                .await
                .map_err(|e| format!("update: {e}"))?;
            Ok::<(), String>(())
        }
        .await;
        let _ = self.store.delete(&path).await;
        match verdict {
            Ok(()) => Atomicity::Conditional,
            Err(why) => Atomicity::InProcess(why),
        }
    }

    async fn lock_stripe(&self, key: &str) -> Result<Option<FileLockGuard>, StorageError> {
        let Atomicity::FileLock(dir) = &self.atomicity else {
            return Ok(None);
        };
        let file = dir.join(format!("{:04}", fnv(key) % LOCK_STRIPES));
        let file = tokio::task::spawn_blocking(move || {
            let f = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .read(true)
                .write(true)
                .open(&file)
                .map_err(|e| format!("{}: {e}", file.display()))?;
            f.lock()
                .map_err(|e| format!("lock {}: {e}", file.display()))?;
            Ok::<_, String>(f)
        })
        .await
        .map_err(|e| StorageError::Open(format!("lock task failed: {e}")))?
        .map_err(StorageError::Open)?;
        Ok(Some(FileLockGuard { _file: file }))
    }

    /// The object's metadata (`authoritative`: from a replicated store's primary).
    async fn head(&self, path: &Path, authoritative: bool) -> object_store::Result<ObjectMeta> {
        let opts = GetOptions {
            head: true,
            extensions: extensions(authoritative),
            ..Default::default()
        };
        Ok(self.store.get_opts(path, opts).await?.meta)
    }

    /// Where the storage is, for the startup line.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// Checks that the backend answers (missing credentials, unknown bucket, …).
    async fn probe(&self) -> Result<(), StorageError> {
        let probe_path = Path::from(".cairn-hub-probe");
        let probe = self.store.head(&probe_path);
        match tokio::time::timeout(Duration::from_secs(20), probe).await {
            Err(_) => Err(StorageError::Open(format!(
                "{}: no answer within 20 s (check the URL, network and credentials)",
                self.description
            ))),
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) if is_not_found(&e) => Ok(()),
            Ok(Err(e)) => Err(StorageError::Open(format!(
                "{}: {e} (check credentials, e.g. AWS_ACCESS_KEY_ID / AZURE_STORAGE_ACCOUNT_KEY / \
                 GOOGLE_SERVICE_ACCOUNT, or storage_options in the config file)",
                self.description
            ))),
        }
    }

    /// Reads the end of an object: the trailer, and the whole object if it is small.
    /// One suffix-range read where the store has them; Azure Blob has none, so there
    /// (after the first refusal) a `head` and a bounded range read of that same version.
    /// `authoritative`: a conditional write is decided on this read, so on a replicated
    /// store it must come from the primary backend.
    async fn read_tail(
        &self,
        path: &Path,
        want: u64,
        authoritative: bool,
    ) -> Result<Option<(Bytes, ObjectMeta)>, StorageError> {
        if !self.no_suffix_ranges.load(Ordering::Relaxed) {
            let opts = GetOptions {
                range: Some(GetRange::Suffix(want)),
                extensions: extensions(authoritative),
                ..Default::default()
            };
            match self.store.get_opts(path, opts).await {
                Ok(res) => {
                    let meta = res.meta.clone();
                    let bytes = res.bytes().await?;
                    return Ok(Some((bytes, meta)));
                }
                Err(e) if is_not_found(&e) => return Ok(None),
                Err(object_store::Error::NotSupported { .. }) => {
                    self.no_suffix_ranges.store(true, Ordering::Relaxed);
                }
                Err(e) => return Err(e.into()),
            }
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            let head = match self.head(path, authoritative).await {
                Ok(m) => m,
                Err(e) if is_not_found(&e) => return Ok(None),
                Err(e) => return Err(e.into()),
            };
            let opts = GetOptions {
                range: (head.size > 0)
                    .then(|| GetRange::Bounded(head.size.saturating_sub(want)..head.size)),
                if_match: head.e_tag.clone(),
                ..Default::default()
            };
            match self.store.get_opts(path, opts).await {
                Ok(res) => {
                    let meta = res.meta.clone();
                    let bytes = res.bytes().await?;
                    return Ok(Some((bytes, meta)));
                }
                Err(e) if is_not_found(&e) => return Ok(None),
                // Replaced between the two requests: read the new version.
                Err(object_store::Error::Precondition { .. }) if attempt < 5 => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// The metadata of the file at `key`, `None` if there is none.
    pub async fn stat(&self, key: &str) -> Result<Option<FileInfo>, StorageError> {
        let path = key_to_path(key);
        let tail = self.read_tail(&path, MAX_TRAILER_LEN as u64, false).await;
        let Some((tail, om)) = self.count(tail)? else {
            return Ok(None);
        };
        let meta = envelope::decode_trailer(&tail, om.size).map_err(StorageError::Corrupt)?;
        Ok(Some(FileInfo {
            meta,
            last_modified: om.last_modified.into(),
        }))
    }

    /// The file at `key` with its content, `None` if there is none.
    pub async fn read(&self, key: &str) -> Result<Option<(FileInfo, Content)>, StorageError> {
        let path = key_to_path(key);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let tail = self.read_tail(&path, SMALL_READ, false).await;
            let Some((tail, om)) = self.count(tail)? else {
                return Ok(None);
            };
            let meta = envelope::decode_trailer(&tail, om.size).map_err(StorageError::Corrupt)?;
            let info = FileInfo {
                meta,
                last_modified: om.last_modified.into(),
            };
            let size = info.meta.size;
            if tail.len() as u64 == om.size {
                let content = tail.slice(0..usize::try_from(size).unwrap_or(0));
                return Ok(Some((info, Content::Whole(content))));
            }
            // Large file: stream the content range. The object must be the version
            // whose trailer we just read (If-Match on the backend's own version tag);
            // if it was replaced in between, start over.
            let opts = GetOptions {
                range: Some(GetRange::Bounded(0..size)),
                if_match: om.e_tag.clone(),
                ..Default::default()
            };
            match self.store.get_opts(&path, opts).await {
                Ok(res) => return Ok(Some((info, Content::Stream(res.into_stream().boxed())))),
                Err(e) if is_not_found(&e) => return Ok(None),
                Err(object_store::Error::Precondition { .. }) if attempt < 5 => continue,
                Err(e) => return self.count(Err(e.into())),
            }
        }
    }

    /// The current version of `key` for a conditional write (`want_content`: also its
    /// content when the object is small); `None` if there is none.
    pub async fn current(
        &self,
        key: &str,
        want_content: bool,
    ) -> Result<Option<Current>, StorageError> {
        let want = if want_content {
            SMALL_READ
        } else {
            MAX_TRAILER_LEN as u64
        };
        let r = self.read_tail(&key_to_path(key), want, true).await;
        let Some((tail, om)) = self.count(r)? else {
            return Ok(None);
        };
        let meta = envelope::decode_trailer(&tail, om.size).map_err(StorageError::Corrupt)?;
        let content = (want_content && tail.len() as u64 == om.size)
            .then(|| tail.slice(0..usize::try_from(meta.size).unwrap_or(0)));
        Ok(Some(Current {
            info: FileInfo {
                meta,
                last_modified: om.last_modified.into(),
            },
            version: UpdateVersion {
                e_tag: om.e_tag,
                version: om.version,
            },
            content,
        }))
    }

    /// Starts an upload to `key` for a plain overwrite ([`Expect::Any`]): it streams to
    /// the store (staged; a multipart upload for large files) and nothing is visible
    /// until [`Storage::commit`].
    pub fn upload(&self, key: &str, content_type: &str) -> Upload {
        self.new_upload(key, content_type, false)
    }

    /// Starts an upload that will be committed with a condition ([`Expect::Absent`] /
    /// [`Expect::Version`]) or an archive step. On a store with conditional writes it
    /// is held in memory until its one conditional `put`.
    pub fn conditional_upload(&self, key: &str, content_type: &str) -> Upload {
        self.new_upload(key, content_type, true)
    }

    fn new_upload(&self, key: &str, content_type: &str, conditional: bool) -> Upload {
        let sink = if conditional && self.atomicity == Atomicity::Conditional {
            Sink::Buffer(Vec::new())
        } else {
            Sink::Writer(BufWriter::with_capacity(
                self.store.clone(),
                key_to_path(key),
                UPLOAD_CAPACITY,
            ))
        };
        Upload {
            sink: Some(sink),
            md5: Md5::new(),
            size: 0,
            content_type: content_type.to_string(),
            author: None,
            key: key.to_string(),
        }
    }

    /// Publishes `upload` if the object is still what `expect` says, after keeping the
    /// replaced version under its history name when `archive` is set (an archival
    /// write). Atomic against other hub processes (see [`Atomicity`]): `Ok(Err(upload))`
    /// hands the upload back untouched when the object changed since it was read, so
    /// the caller can read it again and retry. On success returns the new ETag.
    ///
    /// History: like the real hub, the history name carries the time the version is
    /// archived (`.history.<ms>.<id>.<name>`, `ms` = now, at least one more than the
    /// number its predecessor was archived under). The name is chosen once per archived
    /// version through a claim object (`.cairn-archive/…`, created if absent, keyed by
    /// the version's id): every process, retry or restart after a crash that archives
    /// that version uses the claimed name, and the copy itself is "create if absent",
    /// so a version lands in history exactly once.
    pub async fn commit(
        &self,
        mut upload: Upload,
        expect: &Expect,
        archive: bool,
    ) -> Result<Result<String, Upload>, StorageError> {
        let key = upload.key.clone();
        let path = key_to_path(&key);
        let archived = match (archive, expect) {
            (true, Expect::Version(c)) => Some(c.as_ref()),
            _ => None,
        };
        // A non-archival conditional write keeps the floor of the version it replaces.
        let inherited = match expect {
            Expect::Version(c) => c.info.meta.hprev,
            _ => None,
        };
        let streamed = matches!(upload.sink, Some(Sink::Writer(_)));
        if streamed && self.atomicity == Atomicity::Conditional {
            // A streamed upload cannot be published conditionally on these stores.
            if !matches!(expect, Expect::Any) || archived.is_some() {
                upload.abort().await;
                return Err(StorageError::Open(
                    "a conditional write needs Storage::conditional_upload".into(),
                ));
            }
            let r = upload.publish(None).await;
            self.listings.changed(&key);
            return self.count(r).map(Ok);
        }
        let r = match &self.atomicity {
            Atomicity::Conditional => {
                let mut claim = None;
                if let Some(c) = archived {
                    let cl = match self.claim(&key, c).await {
                        Ok(cl) => cl,
                        Err(e) => return self.count(Err(e)),
                    };
                    match self.archive_exact(&path, c, &cl).await {
                        Ok(true) => {}
                        Ok(false) => {
                            // That version is gone for good: nobody can archive it now.
                            self.release(&cl).await;
                            return Ok(Err(upload));
                        }
                        Err(e) => return self.count(Err(e)),
                    }
                    claim = Some(cl);
                }
                let mode = match expect {
                    Expect::Any => PutMode::Overwrite,
                    Expect::Absent => PutMode::Create,
                    Expect::Version(c) => PutMode::Update(c.version.clone()),
                };
                let hprev = claim.as_ref().map(|c| c.number).or(inherited);
                let (payload, etag) = upload.payload(hprev);
                let r = self
                    .store
                    .put_opts(&path, payload, PutOptions::from(mode))
                    .await;
                self.listings.changed(&key);
                let r = match r {
                    Ok(_) => Ok(etag),
                    Err(e) if is_conflict(&e) => {
                        if let Some(cl) = &claim {
                            self.release(cl).await;
                        }
                        return Ok(Err(upload));
                    }
                    Err(e) => Err(e.into()),
                };
                if let (Ok(_), Some(cl)) = (&r, &claim) {
                    self.release(cl).await;
                }
                r
            }
            Atomicity::FileLock(_) => {
                let guard = self.lock_stripe(&key).await?;
                match self.still(&path, expect).await {
                    Ok(true) => {}
                    Ok(false) => return Ok(Err(upload)),
                    Err(e) => return self.count(Err(e)),
                }
                let mut claim = None;
                if let Some(c) = archived {
                    // Under the lock the object is the expected version: a hard link
                    // (create if absent) keeps exactly it.
                    let cl = match self.claim(&key, c).await {
                        Ok(cl) => cl,
                        Err(e) => return self.count(Err(e)),
                    };
                    let to = key_to_path(&cl.history);
                    match self.store.copy_if_not_exists(&path, &to).await {
                        Ok(()) => {}
                        Err(e) if is_conflict(&e) => {}
                        Err(e) => return self.count(Err(e.into())),
                    }
                    self.listings.changed(&cl.history);
                    claim = Some(cl);
                }
                let hprev = claim.as_ref().map(|c| c.number).or(inherited);
                let r = upload.publish(hprev).await;
                self.listings.changed(&key);
                drop(guard);
                if let (Ok(_), Some(cl)) = (&r, &claim) {
                    self.release(cl).await;
                }
                r
            }
            Atomicity::InProcess(_) => {
                let mut hprev = inherited;
                if let Some(c) = archived {
                    let cl = match self.claim(&key, c).await {
                        Ok(cl) => cl,
                        Err(e) => return self.count(Err(e)),
                    };
                    let r = self.store.copy(&path, &key_to_path(&cl.history)).await;
                    self.listings.changed(&cl.history);
                    match r {
                        Ok(()) => {}
                        Err(e) if is_not_found(&e) => {}
                        Err(e) => return self.count(Err(e.into())),
                    }
                    hprev = Some(cl.number);
                    self.release(&cl).await;
                }
                let r = upload.publish(hprev).await;
                self.listings.changed(&key);
                r
            }
        };
        self.count(r).map(Ok)
    }

    /// The history name (and number) version `c` of `key` is archived under: the one
    /// in its claim object when there is one (an earlier attempt, another process, or
    /// a process killed before it published), else a new one (archival time now, a
    /// fresh id) claimed with "create if absent".
    async fn claim(&self, key: &str, c: &Current) -> Result<Claim, StorageError> {
        let path = claim_path(key, &c.vid());
        let number = now_ms().max(c.min_history_number());
        let history = history_key(key, number, &new_history_id());
        let mine = Claim {
            path: path.clone(),
            history,
            number,
        };
        let body = format!("{}\n{}", mine.number, mine.history);
        let mode = if matches!(self.atomicity, Atomicity::InProcess(_)) {
            // No "create if absent" here: read first (one process only).
            match self.read_claim(key, &path).await? {
                Some(existing) => return Ok(existing),
                None => PutMode::Overwrite,
            }
        } else {
            PutMode::Create
        };
        match self
            .store
            .put_opts(&path, PutPayload::from(body.into_bytes()), mode.into())
            .await
        {
            Ok(_) => Ok(mine),
            Err(e) if is_conflict(&e) => match self.read_claim(key, &path).await? {
                Some(existing) => Ok(existing),
                // Released in between: that version was replaced meanwhile.
                None => Ok(mine),
            },
            Err(e) => Err(e.into()),
        }
    }

    /// Reads a claim object; a damaged one is an error (never silently replaced).
    async fn read_claim(&self, key: &str, path: &Path) -> Result<Option<Claim>, StorageError> {
        let bytes = match self.store.get(path).await {
            Ok(r) => r.bytes().await?,
            Err(e) if is_not_found(&e) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let text = std::str::from_utf8(&bytes).ok();
        let parsed = text.and_then(|t| t.split_once('\n')).and_then(|(n, h)| {
            let (address, _) = key.split_once('/')?;
            let number = n.parse::<u64>().ok()?;
            let ok = h
                .strip_prefix(address)
                .and_then(|r| r.strip_prefix('/'))
                .is_some_and(crate::paths::is_history_file);
            ok.then(|| Claim {
                path: path.clone(),
                history: h.to_string(),
                number,
            })
        });
        parsed
            .map(Some)
            .ok_or_else(|| StorageError::Open(format!("damaged archive claim {path}")))
    }

    /// Drops a claim once its version is archived and replaced (or gone). Best effort:
    /// a claim left behind names a version that no longer exists and is never used.
    async fn release(&self, claim: &Claim) {
        if let Err(e) = self.store.delete(&claim.path).await
            && !is_not_found(&e)
        {
            tracing::debug!(claim = %claim.path, error = %e, "archive claim not removed");
        }
    }

    /// Whether the object at `path` is still what `expect` says (callers hold the lock).
    async fn still(&self, path: &Path, expect: &Expect) -> Result<bool, StorageError> {
        if matches!(expect, Expect::Any) {
            return Ok(true);
        }
        let head = match self.head(path, true).await {
            Ok(m) => Some(m),
            Err(e) if is_not_found(&e) => None,
            Err(e) => return Err(e.into()),
        };
        Ok(match (expect, head) {
            (Expect::Absent, h) => h.is_none(),
            (Expect::Version(c), Some(m)) => {
                m.e_tag == c.version.e_tag && m.version == c.version.version
            }
            _ => false,
        })
    }

    /// Conditional stores: copies exactly version `c` of `path` to the claimed history
    /// name (create if absent). `false` when `path` is no longer that version.
    async fn archive_exact(
        &self,
        path: &Path,
        c: &Current,
        claim: &Claim,
    ) -> Result<bool, StorageError> {
        let opts = GetOptions {
            if_match: c.version.e_tag.clone(),
            version: c.version.version.clone(),
            ..Default::default()
        };
        let bytes = match self.store.get_opts(path, opts).await {
            Ok(r) => r.bytes().await?,
            Err(e) if is_not_found(&e) || is_conflict(&e) => return Ok(false),
            Err(e) => return Err(e.into()),
        };
        let r = self
            .store
            .put_opts(
                &key_to_path(&claim.history),
                PutPayload::from(bytes),
                PutOptions::from(PutMode::Create),
            )
            .await;
        self.listings.changed(&claim.history);
        match r {
            Ok(_) => Ok(true),
            Err(e) if is_conflict(&e) => Ok(true),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes `key` if it is still version `c` (any version when `None`); with
    /// `archive` (and `c`), moves it to its history name instead (see
    /// [`Storage::commit`] for how the name is chosen once).
    pub async fn delete_if(
        &self,
        key: &str,
        c: Option<&Current>,
        archive: bool,
    ) -> Result<Deleted, StorageError> {
        let path = key_to_path(key);
        let r = async {
            let _guard = self.lock_stripe(key).await?;
            let expect = c.map_or(Expect::Any, |c| Expect::Version(Box::new(c.clone())));
            match self.store.head(&path).await {
                Ok(_) => {}
                Err(e) if is_not_found(&e) => return Ok(Deleted::Missing),
                Err(e) => return Err(e.into()),
            }
            let locked = matches!(self.atomicity, Atomicity::FileLock(_));
            if locked && !self.still(&path, &expect).await? {
                return Ok(Deleted::Conflict);
            }
            let mut claim = None;
            if let (true, Some(c)) = (archive, c) {
                let cl = self.claim(key, c).await?;
                let to = key_to_path(&cl.history);
                self.listings.changed(&cl.history);
                if self.atomicity == Atomicity::Conditional {
                    if !self.archive_exact(&path, c, &cl).await? {
                        self.release(&cl).await;
                        return Ok(Deleted::Conflict);
                    }
                } else if locked {
                    // Under the lock: the hard link keeps exactly the checked version.
                    match self.store.copy_if_not_exists(&path, &to).await {
                        Ok(()) => {}
                        Err(e) if is_conflict(&e) => {}
                        Err(e) if is_not_found(&e) => return Ok(Deleted::Missing),
                        Err(e) => return Err(e.into()),
                    }
                } else {
                    match self.store.copy(&path, &to).await {
                        Ok(()) => {}
                        Err(e) if is_not_found(&e) => return Ok(Deleted::Missing),
                        Err(e) => return Err(e.into()),
                    }
                }
                claim = Some(cl);
            }
            let r = self.store.delete(&path).await;
            self.listings.changed(key);
            if let Some(cl) = &claim {
                self.release(cl).await;
            }
            match r {
                Ok(()) => Ok(Deleted::Done),
                Err(e) if is_not_found(&e) => Ok(Deleted::Missing),
                Err(e) => Err(e.into()),
            }
        }
        .await;
        self.count(r)
    }

    /// Writes a small file in one `put`; returns its ETag.
    pub async fn put_small(
        &self,
        key: &str,
        content: &[u8],
        content_type: &str,
    ) -> Result<String, StorageError> {
        let etag = md5_hex(content);
        let obj = envelope::encode(content, content_type, &etag);
        let r = self
            .store
            .put(&key_to_path(key), PutPayload::from(obj))
            .await;
        self.listings.changed(key);
        r?;
        Ok(etag)
    }

    /// Atomically copies `from` to `to`; `false` if `from` does not exist.
    pub async fn copy(&self, from: &str, to: &str) -> Result<bool, StorageError> {
        let r = self.store.copy(&key_to_path(from), &key_to_path(to)).await;
        self.listings.changed(to);
        match r {
            Ok(()) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Renames `from` to `to` (atomic on the local filesystem); `false` if `from` does
    /// not exist.
    pub async fn rename(&self, from: &str, to: &str) -> Result<bool, StorageError> {
        let r = self
            .store
            .rename(&key_to_path(from), &key_to_path(to))
            .await;
        self.listings.changed(from);
        self.listings.changed(to);
        match r {
            Ok(()) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes `key`; `false` if it did not exist.
    pub async fn delete(&self, key: &str) -> Result<bool, StorageError> {
        let path = key_to_path(key);
        match self.store.head(&path).await {
            Ok(_) => {}
            Err(e) if is_not_found(&e) => return Ok(false),
            Err(e) => return Err(e.into()),
        }
        let r = self.store.delete(&path).await;
        self.listings.changed(key);
        match r {
            Ok(()) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether any object lives under `key/` (i.e. `key` is a "directory").
    pub async fn is_prefix(&self, key: &str) -> Result<bool, StorageError> {
        let path = key_to_path(key);
        let mut s = self.store.list(Some(&path));
        match s.next().await {
            Some(Ok(_)) => Ok(true),
            Some(Err(e)) if is_not_found(&e) => Ok(false),
            Some(Err(e)) => Err(e.into()),
            None => Ok(false),
        }
    }

    /// Every object under `<address>/`, as (path relative to the bucket, object size,
    /// last modified). Unordered.
    pub async fn list_bucket(
        &self,
        address: &str,
    ) -> Result<Vec<(String, SystemTime)>, StorageError> {
        let prefix = key_to_path(address);
        let mut stream = self.store.list(Some(&prefix));
        let mut out = Vec::new();
        let strip = format!("{address}/");
        while let Some(item) = stream.next().await {
            let om = match item {
                Ok(om) => om,
                Err(e) if is_not_found(&e) => continue,
                Err(e) => return Err(e.into()),
            };
            let Some(key) = path_to_key(&om.location) else {
                continue;
            };
            if let Some(name) = key.strip_prefix(&strip) {
                out.push((name.to_string(), om.last_modified.into()));
            }
        }
        Ok(out)
    }

    /// Bytes stored under `<address>/` (objects as stored, history included).
    pub async fn bucket_bytes(&self, address: &str) -> Result<u64, StorageError> {
        let prefix = key_to_path(address);
        let mut stream = self.store.list(Some(&prefix));
        let mut total = 0u64;
        while let Some(item) = stream.next().await {
            match item {
                Ok(om) => total = total.saturating_add(om.size),
                Err(e) if is_not_found(&e) => continue,
                Err(e) => return self.count(Err(e.into())),
            }
        }
        Ok(total)
    }

    /// The bucket's listing sorted by name. `fresh` (the first page of a listing) always
    /// reads the storage; later pages reuse the listing read then, unless a file of the
    /// bucket was written through this hub since or `listing_cache_ttl` passed.
    pub async fn sorted_listing(
        &self,
        address: &str,
        fresh: bool,
    ) -> Result<Listing, StorageError> {
        if !fresh && let Some(l) = self.listings.get(address) {
            return Ok(l);
        }
        let writes_before = self.listings.slot(address).load(Ordering::SeqCst);
        let mut all = self.list_bucket(address).await?;
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all.dedup_by(|a, b| a.0 == b.0);
        let listing: Listing = Arc::new(all);
        self.listings.put(address, listing.clone(), writes_before);
        Ok(listing)
    }
}

/// Lower-case hex MD5.
pub fn md5_hex(data: &[u8]) -> String {
    cairn_core::support::encoding::to_hex(&Md5::digest(data))
}

enum Sink {
    /// Streams to the store (staged; published on shutdown).
    Writer(BufWriter),
    /// Held in memory, published by one conditional put.
    Buffer(Vec<Bytes>),
}

/// An upload in progress.
pub struct Upload {
    sink: Option<Sink>,
    md5: Md5,
    size: u64,
    content_type: String,
    /// Recorded as the version's `writer` (see `Meta::writer`).
    author: Option<String>,
    /// Where it goes.
    key: String,
}

impl Upload {
    /// Bytes received so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Records who writes this version (the token salt).
    pub fn with_author(mut self, author: Option<String>) -> Self {
        self.author = author;
        self
    }

    /// Appends content.
    pub async fn push(&mut self, chunk: Bytes) -> Result<(), StorageError> {
        self.md5.update(&chunk);
        self.size += chunk.len() as u64;
        match self.sink.as_mut() {
            Some(Sink::Writer(w)) => w.put(chunk).await?,
            Some(Sink::Buffer(v)) => v.push(chunk),
            None => {}
        }
        Ok(())
    }

    fn etag(&self) -> String {
        cairn_core::support::encoding::to_hex(&self.md5.clone().finalize())
    }

    /// The metadata trailer of this new version (a fresh version id).
    fn trailer(&self, hprev: Option<u64>) -> Bytes {
        Bytes::from(envelope::encode_trailer(&Meta {
            content_type: self.content_type.clone(),
            etag: self.etag(),
            size: self.size,
            writer: self.author.clone(),
            vid: Some(new_history_id()),
            hprev,
        }))
    }

    /// The whole object for a buffered upload (content and trailer), and its ETag.
    fn payload(&self, hprev: Option<u64>) -> (PutPayload, String) {
        let mut parts: Vec<Bytes> = match &self.sink {
            Some(Sink::Buffer(v)) => v.clone(),
            _ => Vec::new(),
        };
        parts.push(self.trailer(hprev));
        (parts.into_iter().collect(), self.etag())
    }

    /// Appends the trailer and publishes a streamed upload.
    async fn publish(&mut self, hprev: Option<u64>) -> Result<String, StorageError> {
        let etag = self.etag();
        let trailer = self.trailer(hprev);
        if let Some(Sink::Writer(mut w)) = self.sink.take() {
            let r: Result<(), String> = async {
                w.put(trailer).await.map_err(|e| e.to_string())?;
                w.shutdown().await.map_err(|e| e.to_string())
            }
            .await;
            if let Err(e) = r {
                let _ = w.abort().await;
                return Err(StorageError::Open(format!("upload failed: {e}")));
            }
        }
        Ok(etag)
    }

    /// Abandons the upload; nothing becomes visible.
    pub async fn abort(mut self) {
        if let Some(Sink::Writer(mut w)) = self.sink.take() {
            let _ = w.abort().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_object_paths() {
        for k in [
            "1A/a.txt",
            "1A/dir/my file.txt",
            "1A/a#1",
            "1A/100%/x%41",
            "1A/ünï/[x]{y}*?|<>\"~`^\\",
            "1A/.history.1.abcdefghij.x",
        ] {
            let p = key_to_path(k);
            assert_eq!(path_to_key(&p).as_deref(), Some(k), "{k} -> {p}");
        }
    }

    #[tokio::test]
    async fn memory_round_trip() {
        let s = Storage::from_store(Arc::new(InMemory::new()), "memory://");
        assert!(s.stat("1A/x").await.unwrap().is_none());
        let mut up = s.upload("1A/x", "text/plain");
        up.push(Bytes::from_static(b"hel")).await.unwrap();
        up.push(Bytes::from_static(b"lo")).await.unwrap();
        let etag = s
            .commit(up, &Expect::Any, false)
            .await
            .unwrap()
            .ok()
            .unwrap();
        assert_eq!(etag, md5_hex(b"hello"));
        let (info, content) = s.read("1A/x").await.unwrap().unwrap();
        assert_eq!(info.meta.etag, etag);
        match content {
            Content::Whole(b) => assert_eq!(&b[..], b"hello"),
            Content::Stream(_) => panic!("small file should be whole"),
        }
        let aborted = {
            let mut up = s.upload("1A/y", "text/plain");
            up.push(Bytes::from_static(b"zzz")).await.unwrap();
            up
        };
        aborted.abort().await;
        assert!(s.stat("1A/y").await.unwrap().is_none());
        assert_eq!(s.list_bucket("1A").await.unwrap().len(), 1);
        assert!(s.copy("1A/x", "1A/h").await.unwrap());
        assert!(s.delete("1A/x").await.unwrap());
        assert!(!s.delete("1A/x").await.unwrap());
        assert!(s.is_prefix("1A").await.unwrap());
    }

    #[tokio::test]
    async fn multi_process_needs_conditional_writes() {
        // LocalFileSystem has PutMode::Create but not PutMode::Update: as a store
        // without the hub's file locks, it is refused in multi-process mode.
        let dir = tempfile::tempdir().unwrap();
        let fs = LocalFileSystem::new_with_prefix(dir.path()).unwrap();
        let mut s = Storage::with_atomicity(
            Arc::new(fs),
            "plain-local",
            Atomicity::InProcess("not probed".into()),
            DEFAULT_LISTING_TTL,
        );
        s.atomicity = s.probe_conditional().await;
        let Atomicity::InProcess(why) = &s.atomicity else {
            panic!("{:?}", s.atomicity);
        };
        assert!(why.contains("Update"), "{why}");
        assert!(s.check_multi_process(false).is_ok());
        let e = s.check_multi_process(true).unwrap_err().to_string();
        assert!(
            e.contains("multi_process") && e.contains("PutMode::Update"),
            "{e}"
        );
        // The probe object is gone again.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

        let mut m = Storage::with_atomicity(
            Arc::new(InMemory::new()),
            "memory://",
            Atomicity::InProcess("not probed".into()),
            DEFAULT_LISTING_TTL,
        );
        m.atomicity = m.probe_conditional().await;
        assert_eq!(m.atomicity, Atomicity::Conditional);
        assert!(m.check_multi_process(true).is_ok());
    }

    #[tokio::test]
    async fn sorted_listing_is_reused_until_a_write() {
        let s = Storage::from_store(Arc::new(InMemory::new()), "memory://");
        for k in ["1A/c", "1A/a", "1A/b", "2B/z"] {
            s.put_small(k, b"x", "text/plain").await.unwrap();
        }
        let names = |l: &Listing| l.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        let first = s.sorted_listing("1A", true).await.unwrap();
        assert_eq!(names(&first), ["a", "b", "c"]);
        // Later pages reuse it (even if the store changed behind the hub's back) …
        s.store
            .put(
                &key_to_path("1A/d"),
                PutPayload::from(envelope::encode(b"x", "text/plain", &md5_hex(b"x"))),
            )
            .await
            .unwrap();
        assert!(Arc::ptr_eq(
            &first,
            &s.sorted_listing("1A", false).await.unwrap()
        ));
        // … a first page reads again …
        assert_eq!(
            names(&s.sorted_listing("1A", true).await.unwrap()),
            ["a", "b", "c", "d"]
        );
        // … and so does any page after a write through the hub, to any of the bucket's files.
        s.delete("1A/a").await.unwrap();
        assert_eq!(
            names(&s.sorted_listing("1A", false).await.unwrap()),
            ["b", "c", "d"]
        );
        let up = s.upload("1A/e", "text/plain");
        s.commit(up, &Expect::Any, false)
            .await
            .unwrap()
            .ok()
            .unwrap();
        assert_eq!(
            names(&s.sorted_listing("1A", false).await.unwrap()),
            ["b", "c", "d", "e"]
        );
        assert!(s.copy("1A/b", "1A/f").await.unwrap());
        assert!(s.rename("1A/c", "1A/g").await.unwrap());
        assert_eq!(
            names(&s.sorted_listing("1A", false).await.unwrap()),
            ["b", "d", "e", "f", "g"]
        );
        // Other buckets are unaffected.
        assert_eq!(names(&s.sorted_listing("2B", false).await.unwrap()), ["z"]);
    }
}
