//! The HTTP layer (axum): routes, CORS, request logs, per-path locks, and the glue
//! between the pure request logic and [`Storage`].

use crate::auth::{self, AuthError, AuthPolicy};
use crate::config::{Config, MetricsAccess};
use crate::listing::{self, ListError};
use crate::metrics::{Metrics, route_of};
use crate::paths::{self, PathError};
use crate::precondition::{self, PreconditionError};
use crate::storage::{Content, Current, Deleted, Expect, Storage, StorageError, new_history_id};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path as AxPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use cairn_core::json;
use cairn_core::protocol::gaia::{
    HubInfo, ListFilesPage, ListFilesRequest, ListedFile, RevokeAllRequest, challenge_text,
    parse_revocation_time, revocation_time_text,
};
use cairn_core::support::js::truthy as js_truthy;
use cairn_core::support::json::{Map as JsonMap, Value};
use futures::StreamExt;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Largest `list-files` / `revoke-all` body, as on the real hub.
pub const MAX_JSON_BODY: usize = 4096;

/// A refused request's unread body is read and discarded up to the upload limit plus
/// this margin, so that clients still sending it read the answer instead of a reset.
pub const DRAIN_MARGIN: u64 = 4 * 1024 * 1024;

/// How far ahead of the hub's clock a revoke-all `oldestValidTimestamp` may be (seconds).
/// Further ahead, every token of the bucket, even a fresh one, would be refused until
/// that time: the bucket would be locked.
pub const MAX_REVOCATION_LEAD_S: u64 = 300;

/// A request failure, rendered as the real hub renders it.
#[derive(Debug)]
#[non_exhaustive]
pub enum ApiError {
    /// 401 `ValidationError` / `AuthTokenTimestampValidationError`.
    Auth(AuthError),
    /// 403 `BadPathError` "Invalid Path".
    BadPath(PathError),
    /// 404 `DoesNotExist`.
    DoesNotExist(&'static str),
    /// 409 `ConflictError`.
    Conflict(String),
    /// 412 `PreconditionFailedError`.
    Precondition(PreconditionError),
    /// 413 `PayloadTooLargeError`.
    TooLarge(String),
    /// 400 with only a `message` (as the real hub's list-files / revoke-all 400s).
    BadRequest(String),
    /// 408: the client paused sending the body for too long.
    Timeout(String),
    /// 404 for an unknown route.
    NoRoute(String),
    /// 500 `{"message":"Server Error"}`; the detail is logged, not sent.
    Server(String),
    /// 507 `QuotaExceededError`: the bucket's storage quota is used up.
    QuotaExceeded(String),
    /// 429 `TooManyRequestsError` with `Retry-After` (seconds).
    RateLimited(u64),
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Auth(e) => write!(f, "{e}"),
            ApiError::BadPath(e) => write!(f, "bad path: {e}"),
            ApiError::DoesNotExist(m) => f.write_str(m),
            ApiError::Conflict(m)
            | ApiError::TooLarge(m)
            | ApiError::BadRequest(m)
            | ApiError::Timeout(m) => f.write_str(m),
            ApiError::Precondition(e) => write!(f, "{e}"),
            ApiError::NoRoute(m) => write!(f, "no route: {m}"),
            ApiError::Server(m) => write!(f, "server error: {m}"),
            ApiError::QuotaExceeded(m) => f.write_str(m),
            ApiError::RateLimited(s) => write!(f, "rate limited; retry after {s} s"),
        }
    }
}

impl std::error::Error for ApiError {}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        ApiError::Auth(e)
    }
}

impl From<PathError> for ApiError {
    fn from(e: PathError) -> Self {
        ApiError::BadPath(e)
    }
}

impl From<PreconditionError> for ApiError {
    fn from(e: PreconditionError) -> Self {
        ApiError::Precondition(e)
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        ApiError::Server(e.to_string())
    }
}

impl From<ListError> for ApiError {
    fn from(e: ListError) -> Self {
        ApiError::BadRequest(e.to_string())
    }
}

/// A JSON answer, written by the core's one JSON layer (`JSON.stringify`'s bytes).
fn json_response(status: StatusCode, body: &Value) -> Response {
    let text = body.to_string();
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        text,
    )
        .into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let err = |status: StatusCode, message: &str, name: &str| {
            json_response(status, &json!({"message": message, "error": name}))
        };
        match &self {
            ApiError::Auth(e) => err(StatusCode::UNAUTHORIZED, e.message(), e.name()),
            ApiError::BadPath(_) => err(StatusCode::FORBIDDEN, "Invalid Path", "BadPathError"),
            ApiError::DoesNotExist(m) => err(StatusCode::NOT_FOUND, m, "DoesNotExist"),
            ApiError::Conflict(m) => err(StatusCode::CONFLICT, m, "ConflictError"),
            ApiError::Precondition(e) => err(
                StatusCode::PRECONDITION_FAILED,
                e.message(),
                "PreconditionFailedError",
            ),
            ApiError::TooLarge(m) => {
                // The body may be partly unread: tell the client not to reuse this
                // connection, or its next request on it fails with a broken pipe.
                let mut r = err(StatusCode::PAYLOAD_TOO_LARGE, m, "PayloadTooLargeError");
                r.headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
                r
            }
            ApiError::BadRequest(m) => {
                json_response(StatusCode::BAD_REQUEST, &json!({"message": m}))
            }
            ApiError::Timeout(m) => {
                // The rest of the body never came: this connection cannot be reused.
                let mut r = err(StatusCode::REQUEST_TIMEOUT, m, "RequestTimeoutError");
                r.headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
                r
            }
            ApiError::NoRoute(what) => (
                StatusCode::NOT_FOUND,
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                )],
                format!("<pre>Cannot {}</pre>", html_escape(what)),
            )
                .into_response(),
            ApiError::QuotaExceeded(m) => {
                let mut r = err(StatusCode::INSUFFICIENT_STORAGE, m, "QuotaExceededError");
                // The body may be partly unread (refused mid-stream).
                r.headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
                r
            }
            ApiError::RateLimited(secs) => {
                let mut r = err(
                    StatusCode::TOO_MANY_REQUESTS,
                    &format!("Too many writes to this bucket; try again in {secs} s"),
                    "TooManyRequestsError",
                );
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(*secs));
                r
            }
            ApiError::Server(detail) => {
                tracing::error!(error = %detail, "request failed");
                json_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &json!({"message": "Server Error"}),
                )
            }
        }
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Shared state of a running hub.
#[derive(Debug)]
pub struct Hub {
    config: Config,
    policy: AuthPolicy,
    storage: Storage,
    read_url_prefix: String,
    locks: Mutex<HashSet<String>>,
    metrics: Metrics,
    /// Write-rate token buckets: bucket address -> (tokens, last refill).
    rates: Mutex<HashMap<String, (f64, Instant)>>,
    /// Quota: bucket address -> (when measured, bytes stored then plus writes since).
    usage: Mutex<HashMap<String, (Instant, u64)>>,
    /// Quota: bucket address -> bytes of its uploads still streaming, so that writes
    /// arriving together cannot each take the same room.
    uploading: Mutex<HashMap<String, u64>>,
}

/// Most buckets whose write rate or usage is tracked at once (beyond, the oldest go).
const MAX_TRACKED_BUCKETS: usize = 10_000;

/// The bytes one upload has streamed so far, counted against its bucket's quota with
/// the other uploads in flight until dropped (then the stored usage counts them).
struct Reservation {
    hub: Arc<Hub>,
    address: String,
    bytes: u64,
}

impl Reservation {
    fn new(hub: Arc<Hub>, address: &str) -> Self {
        Reservation {
            hub,
            address: address.to_string(),
            bytes: 0,
        }
    }

    /// Takes `n` more bytes if this upload and the bucket's others in flight stay within
    /// `room`; otherwise the bytes all of them would need.
    fn grow(&mut self, n: u64, room: u64) -> Result<(), u64> {
        let mut m = self
            .hub
            .uploading
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let all = m.entry(self.address.clone()).or_default();
        let wanted = all.saturating_add(n);
        if wanted > room {
            return Err(wanted);
        }
        *all = wanted;
        self.bytes += n;
        Ok(())
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        let mut m = self
            .hub
            .uploading
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(all) = m.get_mut(&self.address) {
            *all = all.saturating_sub(self.bytes);
            if *all == 0 {
                m.remove(&self.address);
            }
        }
    }
}

/// Holds the per-path lock until dropped.
struct PathLock {
    hub: Arc<Hub>,
    key: String,
}

impl Drop for PathLock {
    fn drop(&mut self) {
        self.hub
            .locks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.key);
    }
}

fn now_s() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// `bytes` in MiB, at most 4 decimals, as the real hub's messages print it.
fn megabytes(bytes: u64) -> String {
    let mb = bytes as f64 / (1024.0 * 1024.0);
    let s = format!("{mb:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

impl Hub {
    /// Builds the hub state. `bound` is the address actually listened on, used for the
    /// default read URL prefix.
    pub fn new(config: Config, storage: Storage, bound: SocketAddr) -> Arc<Hub> {
        let read_url_prefix = config
            .read_url
            .clone()
            .unwrap_or_else(|| format!("http://{bound}/read/"));
        let policy = AuthPolicy {
            server_name: config.server_name.clone(),
            require_correct_hub_url: config.require_correct_hub_url,
            valid_hub_urls: config.valid_hub_urls.clone(),
            whitelist: config.whitelist.clone(),
        };
        Arc::new(Hub {
            config,
            policy,
            storage,
            read_url_prefix,
            locks: Mutex::new(HashSet::new()),
            metrics: Metrics::default(),
            rates: Mutex::new(HashMap::new()),
            usage: Mutex::new(HashMap::new()),
            uploading: Mutex::new(HashMap::new()),
        })
    }

    /// Takes one write from the bucket's token bucket, or says when to retry.
    fn check_write_rate(&self, address: &str) -> Result<(), ApiError> {
        let Some((rate, burst)) = self.config.write_rate else {
            return Ok(());
        };
        let burst = burst as f64;
        let now = Instant::now();
        let mut m = self.rates.lock().unwrap_or_else(PoisonError::into_inner);
        if m.len() >= MAX_TRACKED_BUCKETS && !m.contains_key(address) {
            // Buckets that have refilled completely carry no state worth keeping.
            m.retain(|_, (tokens, at)| *tokens + at.elapsed().as_secs_f64() * rate < burst);
            if m.len() >= MAX_TRACKED_BUCKETS {
                m.clear();
            }
        }
        let (tokens, at) = m.entry(address.to_string()).or_insert((burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * rate).min(burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            let wait = ((1.0 - *tokens) / rate).ceil().max(1.0);
            Err(ApiError::RateLimited(wait as u64))
        }
    }

    /// The bucket's stored bytes: measured (a listing) at most every
    /// `listing_cache_ttl`, plus the writes through this process since.
    async fn bucket_usage(&self, address: &str) -> Result<u64, ApiError> {
        let ttl = self.config.listing_cache_ttl;
        if let Some((at, bytes)) = self
            .usage
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(address)
            && at.elapsed() < ttl
        {
            return Ok(*bytes);
        }
        let bytes = self.storage.bucket_bytes(address).await?;
        let mut m = self.usage.lock().unwrap_or_else(PoisonError::into_inner);
        if m.len() >= MAX_TRACKED_BUCKETS {
            m.retain(|_, (at, _)| at.elapsed() < ttl);
            if m.len() >= MAX_TRACKED_BUCKETS {
                m.clear();
            }
        }
        m.insert(address.to_string(), (Instant::now(), bytes));
        Ok(bytes)
    }

    /// Counts `bytes` just written against the bucket's measured usage.
    fn add_usage(&self, address: &str, bytes: u64) {
        if let Some((_, used)) = self
            .usage
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_mut(address)
        {
            *used = used.saturating_add(bytes);
        }
    }

    /// Forgets the bucket's measured usage (after a delete).
    fn forget_usage(&self, address: &str) {
        self.usage
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(address);
    }

    /// How many content bytes a write to `key` may bring under the bucket's quota
    /// (`None`: no quota). A non-archival write frees the file it replaces, so that
    /// file's size counts as room.
    async fn quota_room(
        &self,
        address: &str,
        key: &str,
        archival: bool,
        current: Option<&Current>,
    ) -> Result<Option<u64>, ApiError> {
        let Some(quota) = self.config.quota_bytes else {
            return Ok(None);
        };
        let used = self.bucket_usage(address).await?;
        let freed = if archival {
            0
        } else if let Some(c) = current {
            c.info.meta.size
        } else {
            self.storage
                .stat(key)
                .await
                .ok()
                .flatten()
                .map_or(0, |i| i.meta.size)
        };
        Ok(Some(quota.saturating_add(freed).saturating_sub(used)))
    }

    fn quota_error(&self, room: u64, incoming: u64) -> ApiError {
        ApiError::QuotaExceeded(format!(
            "The bucket's storage quota of {} megabytes is used up: this write needs {} \
             megabytes and {} are left",
            megabytes(self.config.quota_bytes.unwrap_or(0)),
            megabytes(incoming),
            megabytes(room)
        ))
    }

    /// How the storage keeps conditional writes atomic across processes.
    pub fn storage_atomicity(&self) -> &crate::storage::Atomicity {
        self.storage.atomicity()
    }

    /// The read URL prefix announced in `hub_info`.
    pub fn read_url_prefix(&self) -> &str {
        &self.read_url_prefix
    }

    fn try_lock(self: &Arc<Self>, key: String, op: &str) -> Result<PathLock, ApiError> {
        let mut set = self.locks.lock().unwrap_or_else(PoisonError::into_inner);
        if !set.insert(key.clone()) {
            return Err(ApiError::Conflict(format!(
                "Concurrent operation ({op}) attempted on {key}"
            )));
        }
        Ok(PathLock {
            hub: self.clone(),
            key,
        })
    }

    /// The bucket's revocation timestamp (0: never revoked), read from storage on every
    /// call. Not cached: several hub processes may share one storage, and a revocation
    /// made through one must hold at once on all (one small read, see docs/SECURITY.md).
    /// A timestamp that cannot be read or is not a number fails the request: treating
    /// it as "not revoked" would let revoked tokens back in.
    async fn revocation_timestamp(&self, address: &str) -> Result<u64, ApiError> {
        let key = paths::auth_timestamp_key(address);
        let failed = |why: &str| {
            tracing::error!(address, problem = why, "cannot read revocation timestamp");
            ApiError::Auth(AuthError::Validation(format!(
                "Error trying to fetch bucket authentication revocation timestamp: {why}"
            )))
        };
        let fetched = self.storage.read(&key).await.map_err(|e| {
            // The detail (paths, backend messages) goes to the log only.
            tracing::error!(address, error = %e, "revocation timestamp read failed");
            failed("the storage could not be read")
        })?;
        let Some((_, content)) = fetched else {
            return Ok(0);
        };
        let bytes = match content {
            Content::Whole(b) => b,
            // A timestamp is a few bytes; a large object there is not one.
            Content::Stream(_) => return Err(failed("the stored timestamp is not a number")),
        };
        std::str::from_utf8(&bytes)
            .ok()
            .and_then(parse_revocation_time)
            .and_then(|t| u64::try_from(t).ok())
            .ok_or_else(|| failed("the stored timestamp is not a number"))
    }

    fn public_url(&self, address: &str, path: &str) -> String {
        format!("{}{address}/{path}", self.read_url_prefix)
    }
}

/// Builds the router for a hub.
pub fn router(hub: Arc<Hub>) -> Router {
    Router::new()
        .route("/hub_info", get(hub_info))
        .route("/hub_info/", get(hub_info))
        .route("/store/{address}/{*path}", post(store))
        .route("/delete/{address}/{*path}", axum::routing::delete(delete))
        .route("/list-files/{address}", post(list_files))
        .route("/list-files/{address}/", post(list_files))
        .route("/revoke-all/{address}", post(revoke_all))
        .route("/revoke-all/{address}/", post(revoke_all))
        .route(
            "/read/{bucket}/{*path}",
            get(read)
                .head(read)
                .layer(middleware::from_fn(read_safety_headers)),
        )
        .route("/metrics", get(metrics))
        .fallback(no_route)
        .method_not_allowed_fallback(no_route)
        .layer(middleware::from_fn_with_state(hub.clone(), log_requests))
        .layer(middleware::from_fn(cors))
        .with_state(hub)
}

async fn no_route(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::NoRoute(format!("{method} {}", uri.path()))
}

async fn cors(req: Request, next: Next) -> Response {
    let star = HeaderValue::from_static("*");
    if req.method() == Method::OPTIONS {
        let allow_headers = req
            .headers()
            .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
            .cloned()
            .unwrap_or_else(|| {
                HeaderValue::from_static("Authorization,Content-Type,If-Match,If-None-Match")
            });
        let mut res = StatusCode::NO_CONTENT.into_response();
        let h = res.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, star);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("DELETE,POST,GET,OPTIONS,HEAD"),
        );
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, allow_headers);
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("86400"),
        );
        h.insert(
            header::VARY,
            HeaderValue::from_static("Access-Control-Request-Headers"),
        );
        h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
        return res;
    }
    let mut res = next.run(req).await;
    res.headers_mut()
        .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, star);
    res
}

/// A request body that counts the bytes read from it (for `/metrics`).
struct CountingBody {
    inner: Body,
    seen: Arc<AtomicU64>,
}

impl http_body::Body for CountingBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let r = std::pin::Pin::new(&mut self.inner).poll_frame(cx);
        if let std::task::Poll::Ready(Some(Ok(f))) = &r
            && let Some(d) = f.data_ref()
        {
            self.seen.fetch_add(d.len() as u64, Ordering::Relaxed);
        }
        r
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

async fn log_requests(State(hub): State<Arc<Hub>>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let mut segs = path.split('/').skip(1);
    let address = match (segs.next(), segs.next()) {
        (Some("store" | "delete" | "list-files" | "revoke-all" | "read"), Some(a)) => a.to_string(),
        _ => String::new(),
    };
    let received = Arc::new(AtomicU64::new(0));
    let req = req.map(|inner| {
        Body::new(CountingBody {
            inner,
            seen: received.clone(),
        })
    });
    let res = next.run(req).await;
    let took = start.elapsed();
    let sent = res
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .or_else(|| http_body::Body::size_hint(res.body()).exact())
        .unwrap_or(0);
    let sent = if method == Method::HEAD { 0 } else { sent };
    hub.metrics.record(
        route_of(&path),
        method.as_str(),
        res.status().as_u16(),
        took,
        received.load(Ordering::Relaxed),
        sent,
    );
    let ms = took.as_secs_f64() * 1000.0;
    tracing::info!(
        method = %method,
        path = %path,
        status = res.status().as_u16(),
        ms = format!("{ms:.2}"),
        address = %address,
        "request"
    );
    res
}

/// Whether a client at `peer` may read `/metrics`.
fn metrics_allowed(access: MetricsAccess, peer: Option<std::net::IpAddr>) -> bool {
    match access {
        MetricsAccess::Any => true,
        MetricsAccess::Loopback => peer.is_some_and(|ip| match ip {
            std::net::IpAddr::V6(v6) => {
                v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
            }
            v4 => v4.is_loopback(),
        }),
        _ => false,
    }
}

/// `GET /metrics`: Prometheus text format; loopback clients only unless configured.
async fn metrics(State(hub): State<Arc<Hub>>, req: Request) -> Response {
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if !metrics_allowed(hub.config.metrics, peer) {
        return ApiError::NoRoute("GET /metrics".into()).into_response();
    }
    let mut text = hub
        .metrics
        .render(&[(hub.storage.description(), hub.storage.error_count())]);
    if let Some(r) = hub.storage.replicated() {
        text.push_str(&crate::metrics::render_replication(&r.stats()));
    }
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        text,
    )
        .into_response()
}

async fn hub_info(State(hub): State<Arc<Hub>>) -> Response {
    let info = HubInfo {
        challenge_text: challenge_text(&hub.config.server_name),
        latest_auth_version: Some("v1".into()),
        // At most 1048576 (config.rs): exact as a double, written as an integer.
        max_file_upload_size_megabytes: Some(hub.config.max_upload_mb as f64),
        read_url_prefix: hub.read_url_prefix.clone(),
    };
    json_response(StatusCode::OK, &info.to_value())
}

fn check_address(address: &str, method: &str, uri_path: &str) -> Result<(), ApiError> {
    if paths::is_valid_address(address) {
        Ok(())
    } else {
        Err(ApiError::NoRoute(format!("{method} {uri_path}")))
    }
}

/// Revocation check + header parsing + token validation, in the real hub's order.
async fn authenticate(
    hub: &Hub,
    address: &str,
    headers: &HeaderMap,
) -> Result<auth::V1Auth, ApiError> {
    let oldest = hub.revocation_timestamp(address).await?;
    let parsed = auth::parse_header(header_str(headers, header::AUTHORIZATION))?;
    parsed.validate(address, &hub.policy, oldest, now_s())?;
    Ok(parsed)
}

async fn store(
    State(hub): State<Arc<Hub>>,
    AxPath((address, raw_path)): AxPath<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    check_address(&address, "POST", &format!("/store/{address}/{raw_path}"))?;
    let path = paths::strip_one_trailing_slash(&raw_path).to_string();
    let key = paths::object_key(&address, &path);
    let _lock = hub.try_lock(key.clone(), "store")?;

    let auth = authenticate(&hub, &address, &headers).await?;
    let archival = auth.scopes.check_archival(&address, &path)?;
    auth.scopes.check_write(&address, &path)?;
    paths::validate_path(&path)?;
    hub.check_write_rate(&address)?;

    let content_type = match headers.get(header::CONTENT_TYPE) {
        None => "application/octet-stream".to_string(),
        Some(v) => String::from_utf8_lossy(v.as_bytes()).into_owned(),
    };
    if content_type.chars().count() > crate::envelope::MAX_CONTENT_TYPE_LEN {
        return Err(ApiError::BadRequest(format!(
            "Content-Type is longer than {} characters",
            crate::envelope::MAX_CONTENT_TYPE_LEN
        )));
    }

    // Preconditions: checked now (before the body is read) and again atomically when
    // the upload is published (`Storage::commit`), so they hold against other processes.
    let pre = precondition::parse(
        header_str(&headers, header::IF_MATCH),
        header_str(&headers, header::IF_NONE_MATCH),
    )?;
    let conditional = pre.needs_current() || archival;
    let mut current = if conditional {
        hub.storage.current(&key, false).await?
    } else {
        None
    };
    pre.check(current.as_ref().map(|c| c.info.meta.etag.as_str()))?;

    let max = hub.config.max_upload_bytes();
    let max_mb = hub.config.max_upload_mb;
    if let Some(len) =
        header_str(&headers, header::CONTENT_LENGTH).and_then(|v| v.parse::<u64>().ok())
        && len > max
    {
        return Err(ApiError::TooLarge(format!(
            "Max file upload size is {max_mb} megabytes. Rejected Content-Length of {} megabytes",
            megabytes(len)
        )));
    }

    if archival {
        // The history name must be valid (a name starting with `.` is refused).
        paths::validate_path(&paths::history_path(&path, now_ms(), &new_history_id()))?;
    }
    let room = hub
        .quota_room(&address, &key, archival, current.as_ref())
        .await?;
    if let (Some(room), Some(len)) = (
        room,
        header_str(&headers, header::CONTENT_LENGTH).and_then(|v| v.parse::<u64>().ok()),
    ) && len > room
    {
        return Err(hub.quota_error(room, len));
    }

    // Stream the body into a staged upload; nothing is visible until commit.
    let author = auth
        .payload()
        .get("salt")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty() && s.len() <= 64)
        .map(str::to_string);
    let mut upload = if conditional {
        hub.storage.conditional_upload(&key, &content_type)
    } else {
        hub.storage.upload(&key, &content_type)
    }
    .with_author(author);
    let mut reservation = room.map(|_| Reservation::new(hub.clone(), &address));
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => {
                upload.abort().await;
                return Err(body_error(e));
            }
        };
        let total = upload.size() + chunk.len() as u64;
        if total > max {
            // The rest of the body is drained by the connection layer (serve.rs).
            upload.abort().await;
            tracing::warn!(address = %address, bytes = total, "upload over the size limit");
            return Err(ApiError::TooLarge(format!(
                "Max file upload size is {max_mb} megabytes. Rejected POST body stream of {} megabytes",
                megabytes(total)
            )));
        }
        if let (Some(room), Some(reserved)) = (room, reservation.as_mut())
            && let Err(wanted) = reserved.grow(chunk.len() as u64, room)
        {
            upload.abort().await;
            return Err(hub.quota_error(room, wanted));
        }
        if let Err(e) = upload.push(chunk).await {
            upload.abort().await;
            return Err(e.into());
        }
    }
    let size = upload.size();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let expect = match (&current, conditional) {
            (_, false) => Expect::Any,
            (None, true) => Expect::Absent,
            (Some(c), true) => Expect::Version(Box::new(c.clone())),
        };
        // The replaced version (if any) goes to history, named when it is archived.
        match hub.storage.commit(upload, &expect, archival).await? {
            Ok(etag) => {
                hub.add_usage(&address, size);
                return Ok(json_response(
                    StatusCode::ACCEPTED,
                    &json!({"publicURL": hub.public_url(&address, &path), "etag": etag}),
                ));
            }
            Err(back) => upload = back,
        }
        // Another process changed the file since it was read: read it again.
        let again = async {
            if attempt >= MAX_COMMIT_ATTEMPTS {
                return Err(ApiError::Conflict(format!(
                    "Concurrent operation (store) attempted on {key}"
                )));
            }
            let c = hub.storage.current(&key, false).await?;
            pre.check(c.as_ref().map(|c| c.info.meta.etag.as_str()))?;
            Ok(c)
        }
        .await;
        match again {
            Ok(c) => current = c,
            Err(e) => {
                upload.abort().await;
                return Err(e);
            }
        }
    }
}

/// How often a write whose file changed under it (another process) is retried.
const MAX_COMMIT_ATTEMPTS: u32 = 8;

/// The error for a request body that could not be read to the end.
fn body_error(e: axum::Error) -> ApiError {
    let inner = e.into_inner();
    if crate::serve::is_body_timeout(&*inner) {
        ApiError::Timeout(format!("Upload interrupted: {inner}"))
    } else {
        ApiError::BadRequest(format!("Upload interrupted: {inner}"))
    }
}

async fn delete(
    State(hub): State<Arc<Hub>>,
    AxPath((address, raw_path)): AxPath<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    check_address(&address, "DELETE", &format!("/delete/{address}/{raw_path}"))?;
    let path = paths::strip_one_trailing_slash(&raw_path).to_string();
    let key = paths::object_key(&address, &path);
    let _lock = hub.try_lock(key.clone(), "delete")?;

    let auth = authenticate(&hub, &address, &headers).await?;
    let archival = auth.scopes.check_archival(&address, &path)?;
    auth.scopes.check_delete(&address, &path)?;
    paths::validate_path(&path)?;
    if archival {
        // The history name must be valid (a name starting with `.` is refused).
        paths::validate_path(&paths::history_path(&path, now_ms(), &new_history_id()))?;
    }
    hub.check_write_rate(&address)?;

    let mut attempt = 0;
    let done = loop {
        attempt += 1;
        let outcome = if archival {
            // Archived (named when it is moved), and only if it is still that version
            // when moved (another process may replace it).
            let Some(c) = hub.storage.current(&key, false).await? else {
                break Deleted::Missing;
            };
            hub.storage.delete_if(&key, Some(&c), true).await?
        } else {
            hub.storage.delete_if(&key, None, false).await?
        };
        match outcome {
            Deleted::Conflict if attempt < MAX_COMMIT_ATTEMPTS => continue,
            Deleted::Conflict => {
                return Err(ApiError::Conflict(format!(
                    "Concurrent operation (delete) attempted on {key}"
                )));
            }
            other => break other,
        }
    };
    hub.forget_usage(&address);
    if done == Deleted::Missing {
        if hub.storage.is_prefix(&key).await? {
            return Err(ApiError::DoesNotExist("Path is not a file"));
        }
        return Err(ApiError::DoesNotExist("File does not exist"));
    }
    let mut res = StatusCode::ACCEPTED.into_response();
    res.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
    Ok(res)
}

/// Reads a small JSON body the way express.json does: parsed only when the request
/// says `application/json`; anything else counts as `{}`.
async fn small_json_body(headers: &HeaderMap, body: Body) -> Result<JsonMap, ApiError> {
    let too_large =
        || ApiError::TooLarge(format!("Request body is larger than {MAX_JSON_BODY} bytes"));
    if header_str(headers, header::CONTENT_LENGTH)
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n > MAX_JSON_BODY as u64)
    {
        return Err(too_large());
    }
    let bytes = axum::body::to_bytes(body, MAX_JSON_BODY)
        .await
        .map_err(|e| {
            let inner = e.into_inner();
            if crate::serve::is_body_timeout(&*inner) {
                ApiError::Timeout(format!("Request body interrupted: {inner}"))
            } else {
                too_large()
            }
        })?;
    let is_json = header_str(headers, header::CONTENT_TYPE)
        .is_some_and(|ct| ct.to_ascii_lowercase().contains("json"));
    if !is_json || bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(JsonMap::new());
    }
    match cairn_core::support::json::from_slice(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Ok(JsonMap::new()),
        Err(_) => Err(ApiError::BadRequest("Invalid JSON".into())),
    }
}

/// How many files' metadata a `list-files` page with `stat` reads at once.
const STAT_CONCURRENCY: usize = 16;

async fn list_files(
    State(hub): State<Arc<Hub>>,
    AxPath(address): AxPath<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    check_address(&address, "POST", &format!("/list-files/{address}"))?;
    let req = small_json_body(&headers, body).await?;
    let auth = authenticate(&hub, &address, &headers).await?;
    let hide_history = auth.scopes.is_archival_restricted();

    let req = ListFilesRequest::from_map(&req).map_err(|_| ListError::BadCursor)?;
    let mut after = match &req.page {
        Some(c) => Some(listing::decode_cursor(c)?),
        None => None,
    };
    let stat = req.stat;

    // The first page reads the bucket; later pages reuse that sorted listing (dropped on
    // any write through the hub).
    let all = hub
        .storage
        .sorted_listing(&address, after.is_none())
        .await?;
    loop {
        let page = listing::page_sorted(
            &all,
            |(n, _)| n.as_str(),
            after.as_deref(),
            hub.config.page_size,
            |n| hide_history && paths::is_history_file(n),
        );
        let entries: Vec<ListedFile> = if stat {
            // The trailers are read concurrently (in order).
            let wanted: Vec<(String, SystemTime)> =
                page.entries.iter().map(|&e| e.clone()).collect();
            let stats: Vec<_> =
                futures::stream::iter(wanted.into_iter().map(|(name, modified)| {
                    let key = paths::object_key(&address, &name);
                    let storage = hub.storage.clone();
                    async move {
                        let r = storage.stat(&key).await;
                        (name, modified, key, r)
                    }
                }))
                .buffered(STAT_CONCURRENCY)
                .collect()
                .await;
            let mut out = Vec::with_capacity(stats.len());
            for (name, modified, key, r) in stats {
                match r {
                    Ok(Some(info)) => {
                        let secs = modified
                            .duration_since(UNIX_EPOCH)
                            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
                            .unwrap_or(0);
                        out.push(ListedFile {
                            name,
                            etag: info.meta.etag,
                            content_length: info.meta.size,
                            content_type: info.meta.content_type,
                            last_modified_date: secs,
                            // Cairn's addition: which token (by salt) wrote this version.
                            writer: info.meta.writer,
                        });
                    }
                    // Deleted since the listing was taken.
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %e, key = %key, "skipping unreadable file"),
                }
            }
            out
        } else {
            page.entries
                .iter()
                .map(|(n, _)| ListedFile::named(n))
                .collect()
        };
        if entries.is_empty() && page.next.is_some() {
            // Every entry on this page vanished; move on rather than return an empty
            // page that clients would take for the end.
            after = page.entries.last().map(|(n, _)| n.clone());
            continue;
        }
        let answer = ListFilesPage {
            entries,
            next: page.next,
        };
        return Ok(json_response(StatusCode::ACCEPTED, &answer.to_value(stat)));
    }
}

async fn revoke_all(
    State(hub): State<Arc<Hub>>,
    AxPath(address): AxPath<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    check_address(&address, "POST", &format!("/revoke-all/{address}"))?;
    let req = small_json_body(&headers, body).await?;
    let ts = RevokeAllRequest::from_map(&req)
        .map_err(|e| ApiError::BadRequest(e.to_string()))?
        .oldest_valid_timestamp;
    // A timestamp far ahead would refuse every token, fresh ones included, until then.
    let now = now_s() as u64;
    if ts > now.saturating_add(MAX_REVOCATION_LEAD_S) {
        return Err(ApiError::BadRequest(format!(
            "Invalid JSON: oldestValidTimestamp {ts} is more than {MAX_REVOCATION_LEAD_S} \
             seconds ahead of the hub's clock ({now})"
        )));
    }

    let key = paths::auth_timestamp_key(&address);
    let _lock = hub.try_lock(key.clone(), "revoke-all")?;
    // Unlike the real hub, revoke-all is subject to revocation itself: a revoked token
    // must not be able to move the bar (see docs/SECURITY.md).
    let current = hub.revocation_timestamp(&address).await?;
    let parsed = auth::parse_header(header_str(&headers, header::AUTHORIZATION))?;
    parsed.validate(&address, &hub.policy, current, now_s())?;
    // Only the bucket key itself, unrestricted, may revoke: a scoped token (e.g. an
    // app's archival collection token) or a delegated one (carrying an association
    // token) is a limited grant and must not be able to lock the owner out.
    if parsed.scopes != auth::Scopes::default() {
        return Err(ApiError::Auth(AuthError::Validation(format!(
            "Address {address} not authorized to revoke tokens: revoke-all needs an \
             unscoped token, and this token has scopes"
        ))));
    }
    if js_truthy(parsed.payload().get("associationToken")) {
        return Err(ApiError::Auth(AuthError::Validation(format!(
            "Address {address} not authorized to revoke tokens: revoke-all needs a token \
             signed by the bucket's own key without an association token"
        ))));
    }

    // Monotonic: a lower value never replaces a higher one, also when several hub
    // processes revoke at once (a conditional write on the timestamp read; retried).
    let mut seen = current;
    let mut attempt = 0;
    while ts > seen {
        attempt += 1;
        let cur = hub.storage.current(&key, true).await?;
        seen = match &cur {
            None => 0,
            Some(c) => c
                .content
                .as_ref()
                .and_then(|b| std::str::from_utf8(b).ok())
                .and_then(parse_revocation_time)
                .and_then(|t| u64::try_from(t).ok())
                .ok_or_else(|| ApiError::Server("unreadable revocation timestamp".into()))?,
        };
        if ts <= seen {
            break;
        }
        let expect = cur.map_or(Expect::Absent, |c| Expect::Version(Box::new(c)));
        let mut up = hub
            .storage
            .conditional_upload(&key, "text/plain; charset=UTF-8");
        up.push(Bytes::from(revocation_time_text(ts))).await?;
        match hub.storage.commit(up, &expect, false).await? {
            Ok(_) => break,
            Err(back) => {
                back.abort().await;
                if attempt >= MAX_COMMIT_ATTEMPTS {
                    return Err(ApiError::Conflict(format!(
                        "Concurrent operation (revoke-all) attempted on {key}"
                    )));
                }
            }
        }
    }
    Ok(json_response(
        StatusCode::ACCEPTED,
        &json!({"status": "success"}),
    ))
}

/// Sent with every `/read/` response: uploaded files are served with the type their
/// uploader chose, so an HTML or SVG file must never run script on the hub's origin
/// (`sandbox` gives it a unique, script-less origin) and browsers must not guess a
/// more dangerous type than the one sent (`nosniff`).
const READ_SAFETY_HEADERS: [(header::HeaderName, &str); 2] = [
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::CONTENT_SECURITY_POLICY, "sandbox"),
];

/// Adds [`READ_SAFETY_HEADERS`] to every `/read/` response, errors included.
async fn read_safety_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    for (name, value) in READ_SAFETY_HEADERS {
        res.headers_mut()
            .insert(name, HeaderValue::from_static(value));
    }
    res
}

fn not_found_file() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        "File not found",
    )
        .into_response()
}

async fn read(
    State(hub): State<Arc<Hub>>,
    method: Method,
    AxPath((bucket, path)): AxPath<(String, String)>,
) -> Response {
    if !paths::is_valid_read_bucket(&bucket) {
        return not_found_file();
    }
    match paths::validate_path(&path) {
        Ok(()) => {}
        Err(PathError::DotDot) => {
            return (StatusCode::BAD_REQUEST, "Could not return file").into_response();
        }
        Err(_) => return not_found_file(),
    }
    let key = paths::object_key(&bucket, &path);
    let result = if method == Method::HEAD {
        hub.storage
            .stat(&key)
            .await
            .map(|o| o.map(|i| (i, Content::Whole(Bytes::new()))))
    } else {
        hub.storage.read(&key).await
    };
    let (info, content) = match result {
        Ok(Some(x)) => x,
        Ok(None) => return not_found_file(),
        Err(e) => {
            tracing::error!(error = %e, key = %key, "read failed");
            return (StatusCode::INTERNAL_SERVER_ERROR, "Could not return file").into_response();
        }
    };
    let content_type = HeaderValue::from_str(&info.meta.content_type)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    let mut builder = Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CONTENT_LENGTH, info.meta.size)
        .header(header::CACHE_CONTROL, "no-cache")
        .header(
            header::LAST_MODIFIED,
            httpdate::fmt_http_date(info.last_modified),
        )
        .header(header::ACCESS_CONTROL_EXPOSE_HEADERS, "Content-Type,ETag");
    for (name, value) in READ_SAFETY_HEADERS {
        builder = builder.header(name, value);
    }
    if let Ok(etag) = HeaderValue::from_str(&info.meta.etag) {
        builder = builder.header(header::ETAG, etag);
    }
    let body = match content {
        _ if method == Method::HEAD => Body::empty(),
        Content::Whole(b) => Body::from(b),
        Content::Stream(s) => Body::from_stream(s),
    };
    builder
        .body(body)
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// A hub listening on a socket.
pub struct Running {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// The shared state.
    pub hub: Arc<Hub>,
    /// The server task.
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Where the hub stores files.
    pub fn hub_storage(&self) -> &str {
        self.hub.storage.description()
    }
}

/// Opens storage, binds the configured address and starts serving in a task.
pub async fn start(config: Config) -> Result<Running, Box<dyn std::error::Error + Send + Sync>> {
    let storage = Storage::open(&config).await?;
    start_with_storage(config, storage).await
}

/// Like [`start`] on an already opened storage (tests: several hubs on one store).
pub async fn start_with_storage(
    config: Config,
    storage: Storage,
) -> Result<Running, Box<dyn std::error::Error + Send + Sync>> {
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.bind))?;
    let addr = listener.local_addr()?;
    let limits = crate::serve::Limits {
        max_connections: config.max_connections,
        header_timeout: config.header_timeout,
        body_timeout: config.body_timeout,
        drain_limit: config.max_upload_bytes().saturating_add(DRAIN_MARGIN),
    };
    let hub = Hub::new(config, storage, addr);
    let app = router(hub.clone());
    let task = tokio::spawn(crate::serve::serve(
        listener,
        app,
        limits,
        shutdown_signal(),
    ));
    Ok(Running { addr, hub, task })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => futures::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = futures::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn megabyte_formatting() {
        assert_eq!(megabytes(22020096), "21");
        assert_eq!(megabytes(1024 * 1024 + 1), "1");
        assert_eq!(megabytes(1572864), "1.5");
    }

    #[test]
    fn metrics_access() {
        let ip = |s: &str| Some(s.parse::<std::net::IpAddr>().unwrap());
        assert!(metrics_allowed(MetricsAccess::Loopback, ip("127.0.0.1")));
        assert!(metrics_allowed(MetricsAccess::Loopback, ip("::1")));
        assert!(metrics_allowed(
            MetricsAccess::Loopback,
            ip("::ffff:127.0.0.1")
        ));
        assert!(!metrics_allowed(MetricsAccess::Loopback, ip("10.0.0.1")));
        assert!(!metrics_allowed(
            MetricsAccess::Loopback,
            ip("::ffff:10.0.0.1")
        ));
        assert!(!metrics_allowed(MetricsAccess::Loopback, None));
        assert!(metrics_allowed(MetricsAccess::Any, ip("10.0.0.1")));
        assert!(!metrics_allowed(MetricsAccess::Off, ip("127.0.0.1")));
    }

    #[test]
    fn history_ids_are_well_formed() {
        for _ in 0..100 {
            let id = new_history_id();
            assert_eq!(id.len(), 10);
            assert!(id.bytes().all(|b| b.is_ascii_alphanumeric()));
        }
    }
}
