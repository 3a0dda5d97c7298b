//! An in-memory Gaia hub behind the core's job transport ([`Hub`]), for testing the
//! jobs' logic natively: files with versions and ETags, `If-Match`/`If-None-Match`,
//! paged `list-files`, `revoke-all` (published at `<address>-auth/authTimestamp`, as the
//! real hub does), deletes, and injected faults (a dead transport after N stores to a
//! bucket, another writer touching a file between a read and a conditional write).
//! Tokens are not checked: auth is the real hub's part, tested against `cairn-hub`.
#![allow(dead_code)]

use cairn_core::collections::CollectionError;
use cairn_core::collections::settings::SettingsError;
use cairn_core::jobs::hub_io::Method;
use cairn_core::jobs::hub_io::{Copied, Digested};
use cairn_core::jobs::{Copier, Hub, HubRequest, HubResponse, JobError};
use cairn_core::keys::keychain::KeychainError;
use cairn_core::protocol::auth::AuthResponseError;
use cairn_core::protocol::gaia::{HubInfo, ListFilesPage, ListedFile};
use cairn_core::support::json::{self, Value};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// Where the in-memory hub pretends to live.
pub(crate) const HUB_URL: &str = "http://hub.test";
/// Its read URL prefix.
pub(crate) const READ_PREFIX: &str = "http://read.test/";
/// Names per listing page (small, so listings span pages).
const PAGE_SIZE: usize = 7;

/// What a job run over [`MemHub`] can fail with.
#[derive(Debug)]
pub(crate) enum TestError {
    /// The transport failed (the injected fault).
    Transport(String),
    /// The job judged an answer.
    Job(JobError),
    /// Any other core error, as text.
    Core(String),
}

impl fmt::Display for TestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TestError::Transport(m) | TestError::Core(m) => f.write_str(m),
            TestError::Job(e) => e.fmt(f),
        }
    }
}

impl From<JobError> for TestError {
    fn from(e: JobError) -> Self {
        TestError::Job(e)
    }
}

macro_rules! core_error {
    ($($t:ty),*) => {$(
        impl From<$t> for TestError {
            fn from(e: $t) -> Self {
                TestError::Core(e.to_string())
            }
        }
    )*};
}
core_error!(
    SettingsError,
    CollectionError,
    KeychainError,
    AuthResponseError
);

/// A stored file.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    /// Its body.
    pub(crate) body: String,
    /// Its version (the ETag is `"v<version>"`).
    pub(crate) version: u64,
}

/// The in-memory hub.
pub(crate) struct MemHub {
    /// Its write URL.
    pub(crate) hub_url: String,
    /// Its read URL prefix.
    pub(crate) read_prefix: String,
    files: RefCell<BTreeMap<(String, String), Stored>>,
    versions: Cell<u64>,
    /// Every request, as (method, URL).
    pub(crate) log: RefCell<Vec<(Method, String)>>,
    /// Stores (successful or not) per bucket address.
    pub(crate) stores: RefCell<BTreeMap<String, usize>>,
    /// Once a bucket (`"*"`: all of them) has had this many stores, every request fails
    /// in transit.
    pub(crate) die_after: RefCell<Option<(String, usize)>>,
    /// Once the hub has answered this many requests, every request fails in transit.
    pub(crate) die_after_requests: Cell<Option<usize>>,
    /// Whether the transport is dead.
    pub(crate) dead: Cell<bool>,
    /// A status every store gets instead of being written (a full hub: 507).
    pub(crate) refuse_stores: Cell<Option<u16>>,
    /// Paths another writer rewrites just before each of Cairn's conditional stores
    /// (with the count of times left).
    pub(crate) interfere: RefCell<BTreeMap<String, usize>>,
}

impl MemHub {
    /// An empty hub at [`HUB_URL`].
    pub(crate) fn new() -> MemHub {
        MemHub::at(HUB_URL, READ_PREFIX)
    }

    /// An empty hub at `hub_url`, read at `read_prefix`.
    pub(crate) fn at(hub_url: &str, read_prefix: &str) -> MemHub {
        MemHub {
            hub_url: hub_url.to_string(),
            read_prefix: read_prefix.to_string(),
            files: RefCell::default(),
            versions: Cell::default(),
            log: RefCell::default(),
            stores: RefCell::default(),
            die_after: RefCell::default(),
            die_after_requests: Cell::default(),
            dead: Cell::default(),
            interfere: RefCell::default(),
            refuse_stores: Cell::default(),
        }
    }

    /// Stores into every bucket so far.
    pub(crate) fn all_stores(&self) -> usize {
        self.stores.borrow().values().sum()
    }

    /// Its `/hub_info`.
    pub(crate) fn info(&self) -> HubInfo {
        HubInfo {
            challenge_text: format!(
                r#"["gaiahub","0","{}","blockstack_storage_please_sign"]"#,
                self.hub_url.trim_start_matches("http://")
            ),
            latest_auth_version: Some("v1".into()),
            max_file_upload_size_megabytes: Some(20.0),
            read_url_prefix: self.read_prefix.clone(),
        }
    }

    /// Puts a file directly (as another app or device would have).
    pub(crate) fn put(&self, address: &str, path: &str, body: &str) {
        let v = self.versions.get() + 1;
        self.versions.set(v);
        self.files.borrow_mut().insert(
            (address.to_string(), path.to_string()),
            Stored {
                body: body.to_string(),
                version: v,
            },
        );
    }

    /// A file's body.
    pub(crate) fn get(&self, address: &str, path: &str) -> Option<String> {
        self.files
            .borrow()
            .get(&(address.to_string(), path.to_string()))
            .map(|s| s.body.clone())
    }

    /// The names in a bucket.
    pub(crate) fn names(&self, address: &str) -> Vec<String> {
        self.files
            .borrow()
            .keys()
            .filter(|(a, _)| a == address)
            .map(|(_, p)| p.clone())
            .collect()
    }

    /// Stores into `address` so far.
    pub(crate) fn stores_to(&self, address: &str) -> usize {
        self.stores.borrow().get(address).copied().unwrap_or(0)
    }

    fn answer(status: u16, etag: Option<String>, body: impl Into<String>) -> HubResponse {
        HubResponse {
            status,
            etag,
            body: body.into(),
        }
    }

    fn handle(&self, r: &HubRequest) -> HubResponse {
        if let Some(rest) = r.url.strip_prefix(self.read_prefix.as_str()) {
            let Some((address, path)) = rest.split_once('/') else {
                return Self::answer(404, None, "");
            };
            return match self
                .files
                .borrow()
                .get(&(address.to_string(), decode(path)))
            {
                Some(f) => Self::answer(200, Some(format!("\"v{}\"", f.version)), &f.body),
                None => Self::answer(404, None, "not found"),
            };
        }
        let Some(rest) = r.url.strip_prefix(self.hub_url.as_str()) else {
            return Self::answer(404, None, "");
        };
        if rest == "/hub_info" {
            return Self::answer(200, None, json::to_string(&self.info().to_value()));
        }
        let (route, rest) = rest
            .trim_start_matches('/')
            .split_once('/')
            .unwrap_or((rest, ""));
        match (r.method, route) {
            (Method::Post, "store") => self.store(r, rest),
            (Method::Post, "list-files") => self.list(r, rest),
            (Method::Post, "revoke-all") => {
                let body: Value = json::from_str(r.body.as_deref().unwrap_or("")).unwrap();
                let t = body["oldestValidTimestamp"].as_i64().unwrap();
                self.put(&format!("{rest}-auth"), "authTimestamp", &t.to_string());
                Self::answer(202, None, "{}")
            }
            (Method::Delete, "delete") => {
                let Some((address, path)) = rest.split_once('/') else {
                    return Self::answer(400, None, "");
                };
                match self
                    .files
                    .borrow_mut()
                    .remove(&(address.to_string(), decode(path)))
                {
                    Some(_) => Self::answer(202, None, ""),
                    None => Self::answer(404, None, ""),
                }
            }
            _ => Self::answer(404, None, ""),
        }
    }

    fn store(&self, r: &HubRequest, rest: &str) -> HubResponse {
        let Some((address, path)) = rest.split_once('/') else {
            return Self::answer(400, None, "");
        };
        let path = decode(path);
        *self
            .stores
            .borrow_mut()
            .entry(address.to_string())
            .or_default() += 1;
        if let Some(status) = self.refuse_stores.get() {
            let said = format!("{{\"message\":\"refused with {status}\",\"error\":\"refused\"}}");
            return Self::answer(status, None, said);
        }
        if r.condition.is_some() {
            let mut interfere = self.interfere.borrow_mut();
            if let Some(left) = interfere.get_mut(&path)
                && *left > 0
            {
                *left -= 1;
                let current = self.get(address, &path);
                drop(interfere);
                if let Some(body) = current {
                    self.put(address, &path, &body);
                }
            }
        }
        let key = (address.to_string(), path.clone());
        let current = self.files.borrow().get(&key).map(|f| f.version);
        if let Some(c) = &r.condition {
            let (name, value) = c.header();
            let ok = match (name, current) {
                ("If-None-Match", None) => true,
                ("If-Match", Some(v)) => value == format!("\"v{v}\""),
                _ => false,
            };
            if !ok {
                return Self::answer(412, None, "precondition failed");
            }
        }
        self.put(address, &path, r.body.as_deref().unwrap_or(""));
        let v = self.versions.get();
        Self::answer(202, Some(format!("\"v{v}\"")), "{}")
    }

    fn list(&self, r: &HubRequest, address: &str) -> HubResponse {
        let body: Value = json::from_str(r.body.as_deref().unwrap_or("{}")).unwrap();
        let start: usize = body["page"].as_str().map_or(0, |p| p.parse().unwrap());
        let stat = body["stat"].as_bool().unwrap_or(false);
        let names = self.names(address);
        let end = (start + PAGE_SIZE).min(names.len());
        let files = self.files.borrow();
        let page = ListFilesPage {
            entries: names[start..end]
                .iter()
                .map(|n| {
                    let f = &files[&(address.to_string(), n.clone())];
                    ListedFile {
                        etag: format!("\"v{}\"", f.version),
                        content_length: f.body.len() as u64,
                        content_type: "application/octet-stream".into(),
                        ..ListedFile::named(n)
                    }
                })
                .collect(),
            next: (end < names.len()).then(|| end.to_string()),
        };
        Self::answer(202, None, json::to_string(&page.to_value(stat)))
    }
}

impl Hub for MemHub {
    type Error = TestError;

    async fn send(&self, request: HubRequest) -> Result<HubResponse, TestError> {
        if let Some((address, n)) = self.die_after.borrow().clone()
            && (if address == "*" {
                self.all_stores()
            } else {
                self.stores_to(&address)
            }) >= n
        {
            self.dead.set(true);
        }
        if self
            .die_after_requests
            .get()
            .is_some_and(|n| self.log.borrow().len() >= n)
        {
            self.dead.set(true);
        }
        if self.dead.get() {
            return Err(TestError::Transport("the hub did not answer".into()));
        }
        self.log
            .borrow_mut()
            .push((request.method, request.url.clone()));
        Ok(self.handle(&request))
    }

    async fn wait(&self, _ms: u32) {}
}

/// Percent-decoding of a URL path (the hub's side of `encodeURIComponent`).
fn decode(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&path[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// Runs a future whose every step is ready (the in-memory hub and the software bulk
/// ciphers never wait).
pub(crate) fn block<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("a job waited on something the in-memory hub never does"),
    }
}

/// Two in-memory hubs behind one transport (requests go to the hub whose URLs they
/// start with), which can also copy a file from one to the other: for moving data.
pub(crate) struct TwoHubs {
    /// The hub the data is on.
    pub(crate) old: MemHub,
    /// The hub it moves to.
    pub(crate) new: MemHub,
    /// Waits after which a dead old hub answers again (`None`: never).
    pub(crate) revive_old_after_waits: Cell<Option<u32>>,
    /// Every wait, in ms.
    pub(crate) waited_ms: Cell<u64>,
}

impl TwoHubs {
    /// Two empty hubs.
    pub(crate) fn new() -> TwoHubs {
        TwoHubs {
            old: MemHub::new(),
            new: MemHub::at("http://new-hub.test", "http://new-read.test/files/"),
            revive_old_after_waits: Cell::default(),
            waited_ms: Cell::default(),
        }
    }

    fn route(&self, url: &str) -> &MemHub {
        if url.starts_with(&self.new.hub_url) || url.starts_with(&self.new.read_prefix) {
            &self.new
        } else {
            &self.old
        }
    }
}

impl Hub for TwoHubs {
    type Error = TestError;

    async fn send(&self, request: HubRequest) -> Result<HubResponse, TestError> {
        self.route(&request.url).send(request).await
    }

    async fn wait(&self, ms: u32) {
        self.waited_ms.set(self.waited_ms.get() + u64::from(ms));
        if self.old.dead.get()
            && let Some(n) = self.revive_old_after_waits.get()
        {
            if n <= 1 {
                self.old.dead.set(false);
                self.old.die_after_requests.set(None);
                self.revive_old_after_waits.set(None);
            } else {
                self.revive_old_after_waits.set(Some(n - 1));
            }
        }
    }
}

fn sha256(body: &str) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(body.as_bytes()).into()
}

impl Copier for TwoHubs {
    async fn copy(&self, from: &str, mut to: HubRequest) -> Result<Copied, TestError> {
        // No answer is status 0, as the trait asks.
        let read = match self.send(HubRequest::get(from.to_string())).await {
            Ok(read) => read,
            Err(_) => HubResponse {
                status: 0,
                etag: None,
                body: String::new(),
            },
        };
        if !(200..300).contains(&read.status) {
            return Ok(Copied {
                read_status: read.status,
                write_status: None,
                len: 0,
                sha256: [0; 32],
            });
        }
        to.body = Some(read.body.clone());
        let written = self.send(to).await?;
        Ok(Copied {
            read_status: read.status,
            write_status: Some(written.status),
            len: read.body.len() as u64,
            sha256: sha256(&read.body),
        })
    }

    async fn digest(&self, url: &str) -> Result<Digested, TestError> {
        let read = self.send(HubRequest::get(url.to_string())).await?;
        Ok(Digested {
            status: read.status,
            len: read.body.len() as u64,
            sha256: sha256(&read.body),
        })
    }
}
