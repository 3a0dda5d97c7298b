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
use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use md5::{Digest, Md5};
use object_store::buffered::BufWriter;
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::{Path, PathPart};
use object_store::prefix::PrefixStore;
use object_store::{GetOptions, GetRange, ObjectMeta, ObjectStore, ObjectStoreExt, PutPayload};
use percent_encoding::percent_decode_str;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
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

/// How long a bucket's sorted listing is reused for the later pages of a listing.
/// Writes through this hub drop it at once; the TTL bounds how stale it can get when
/// something else writes to the same storage (another hub process).
pub const LISTING_TTL: Duration = Duration::from_secs(30);

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
}

impl ListingCache {
    fn new() -> Self {
        ListingCache {
            buckets: Mutex::new(HashMap::new()),
            writes: (0..WRITE_SLOTS).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    fn slot(&self, bucket: &str) -> &AtomicU64 {
        // FNV-1a: stable and cheap.
        let h = bucket.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        &self.writes[(h % WRITE_SLOTS as u64) as usize]
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
        (at.elapsed() < LISTING_TTL).then(|| listing.clone())
    }

    fn put(&self, bucket: &str, listing: Listing, writes_before: u64) {
        let Ok(mut m) = self.buckets.lock() else {
            return;
        };
        if self.slot(bucket).load(Ordering::SeqCst) != writes_before {
            return;
        }
        if m.len() >= LISTING_CACHE_BUCKETS && !m.contains_key(bucket) {
            m.retain(|_, (at, _)| at.elapsed() < LISTING_TTL);
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

/// The hub's storage.
#[derive(Clone)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    description: String,
    listings: Arc<ListingCache>,
}

impl fmt::Debug for Storage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Storage")
            .field("at", &self.description)
            .finish()
    }
}

fn is_not_found(e: &object_store::Error) -> bool {
    matches!(e, object_store::Error::NotFound { .. })
}

impl Storage {
    /// Wraps an existing object store.
    pub fn from_store(store: Arc<dyn ObjectStore>, description: impl Into<String>) -> Self {
        Storage {
            store,
            description: description.into(),
            listings: Arc::new(ListingCache::new()),
        }
    }

    /// Opens the configured storage and checks that it answers.
    pub async fn open(cfg: &Config) -> Result<Storage, StorageError> {
        let storage = match &cfg.storage {
            StorageLocation::Local(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| {
                    StorageError::Open(format!("cannot create directory {}: {e}", dir.display()))
                })?;
                // with_fsync: the staged file is synced before its rename and the
                // directory after it, so a 202 means the write survives a power cut.
                let fs = LocalFileSystem::new_with_prefix(dir)
                    .map_err(|e| StorageError::Open(format!("{}: {e}", dir.display())))?
                    .with_automatic_cleanup(true)
                    .with_fsync(cfg.fsync);
                let canonical = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.clone());
                Storage::from_store(Arc::new(fs), format!("file://{}", canonical.display()))
            }
            StorageLocation::Memory => Storage::from_store(Arc::new(InMemory::new()), "memory://"),
            StorageLocation::Cloud(url) => {
                let (store, prefix) = object_store::parse_url_opts(url, cfg.storage_options.iter())
                    .map_err(|e| StorageError::Open(format!("{url}: {e}")))?;
                let store: Arc<dyn ObjectStore> = if prefix.as_ref().is_empty() {
                    Arc::from(store)
                } else {
                    Arc::new(PrefixStore::new(store, prefix))
                };
                Storage::from_store(store, url.to_string())
            }
        };
        storage.probe().await?;
        Ok(storage)
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
    async fn read_tail(
        &self,
        path: &Path,
        want: u64,
    ) -> Result<Option<(Bytes, ObjectMeta)>, StorageError> {
        let opts = GetOptions {
            range: Some(GetRange::Suffix(want)),
            ..Default::default()
        };
        match self.store.get_opts(path, opts).await {
            Ok(res) => {
                let meta = res.meta.clone();
                let bytes = res.bytes().await?;
                Ok(Some((bytes, meta)))
            }
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The metadata of the file at `key`, `None` if there is none.
    pub async fn stat(&self, key: &str) -> Result<Option<FileInfo>, StorageError> {
        let path = key_to_path(key);
        let Some((tail, om)) = self.read_tail(&path, MAX_TRAILER_LEN as u64).await? else {
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
            let Some((tail, om)) = self.read_tail(&path, SMALL_READ).await? else {
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
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Starts an upload to `key`; nothing is visible until [`Upload::commit`].
    pub fn upload(&self, key: &str, content_type: &str) -> Upload {
        Upload {
            writer: Some(BufWriter::with_capacity(
                self.store.clone(),
                key_to_path(key),
                UPLOAD_CAPACITY,
            )),
            md5: Md5::new(),
            size: 0,
            content_type: content_type.to_string(),
            sealed: None,
            author: None,
            key: key.to_string(),
            listings: self.listings.clone(),
        }
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

    /// The bucket's listing sorted by name. `fresh` (the first page of a listing) always
    /// reads the storage; later pages reuse the listing read then, unless a file of the
    /// bucket was written through this hub since or [`LISTING_TTL`] passed.
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

/// An upload in progress.
pub struct Upload {
    writer: Option<BufWriter>,
    md5: Md5,
    size: u64,
    content_type: String,
    sealed: Option<String>,
    /// Recorded as the version's `writer` (see `Meta::writer`).
    author: Option<String>,
    /// Where it goes (to drop the bucket's cached listing on commit).
    key: String,
    listings: Arc<ListingCache>,
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
        let Some(w) = self.writer.as_mut() else {
            return Ok(());
        };
        if self.sealed.is_some() {
            return Ok(());
        }
        self.md5.update(&chunk);
        self.size += chunk.len() as u64;
        w.put(chunk).await?;
        Ok(())
    }

    /// Ends the content and appends the metadata trailer; returns the ETag. The object
    /// is still not visible.
    pub async fn seal(&mut self) -> Result<String, StorageError> {
        if let Some(etag) = &self.sealed {
            return Ok(etag.clone());
        }
        let etag = cairn_core::support::encoding::to_hex(&self.md5.clone().finalize());
        let trailer = envelope::encode_trailer(&Meta {
            content_type: self.content_type.clone(),
            etag: etag.clone(),
            size: self.size,
            writer: self.author.clone(),
        });
        if let Some(w) = self.writer.as_mut() {
            w.put(Bytes::from(trailer)).await?;
        }
        self.sealed = Some(etag.clone());
        Ok(etag)
    }

    /// Publishes the object atomically; returns its ETag.
    pub async fn commit(mut self) -> Result<String, StorageError> {
        let etag = self.seal().await?;
        if let Some(mut w) = self.writer.take() {
            let r = w.shutdown().await;
            self.listings.changed(&self.key);
            if let Err(e) = r {
                let _ = w.abort().await;
                return Err(StorageError::Open(format!("upload failed: {e}")));
            }
        }
        Ok(etag)
    }

    /// Abandons the upload; nothing becomes visible.
    pub async fn abort(mut self) {
        if let Some(mut w) = self.writer.take() {
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
        let etag = up.commit().await.unwrap();
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
        up.commit().await.unwrap();
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
