//! Gaia protocol pieces that need no I/O (PROTOCOL.md §g, GAIA_HUB.md): challenge text,
//! v1 auth tokens with optional scopes, `iat` and `exp`, association tokens, hub
//! configurations and read URLs.
//!
//! Every hub wire format has its one writer and one reader here, shared by the
//! authenticator (which writes requests and reads answers) and `cairn-hub` (which reads
//! requests and writes answers):
//!
//! | format | type | writer | reader |
//! |---|---|---|---|
//! | scope names | [`ScopeKind`] | [`ScopeKind::as_str`] | [`ScopeKind::from_name`] |
//! | a token's `scopes` claim | [`Scope`] | [`make_v1_token`] | [`token_scopes`] |
//! | `GET /hub_info` answer | [`HubInfo`] | [`HubInfo::to_value`] | [`HubInfo::from_value`] |
//! | `list-files` request | [`ListFilesRequest`] | [`ListFilesRequest::to_value`] | [`ListFilesRequest::from_map`] |
//! | `list-files` answer | [`ListFilesPage`] of [`ListedFile`] | [`ListFilesPage::to_value`] | [`ListFilesPage::from_json`] |
//! | `revoke-all` request | [`RevokeAllRequest`] | [`RevokeAllRequest::to_value`] | [`RevokeAllRequest::from_map`] |
//! | `<address>-auth/authTimestamp` | seconds | [`revocation_time_text`] | [`parse_revocation_time`] |
//!
//! History file names are in [`crate::collections::history`]; the JavaScript coercions
//! the readers of requests apply are in [`crate::support::js`].

use crate::json;
use crate::keys::{PrivateKey, PublicKey};
use crate::protocol::jwt::{self, js_seconds};
use crate::support::encoding::to_hex;
use crate::support::js;
use crate::support::json;
use crate::support::json::{Fields, Map, Number, Value};
use std::fmt;

/// The kinds of scope a v1 token may restrict itself with (GAIA_HUB.md §5): what a
/// request may do (write, delete, write keeping history) to one path or to every path
/// under a prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ScopeKind {
    /// `putFile`: stores to exactly the domain.
    PutFile,
    /// `putFilePrefix`: stores to paths starting with the domain.
    PutFilePrefix,
    /// `deleteFile`: deletes of exactly the domain.
    DeleteFile,
    /// `deleteFilePrefix`: deletes of paths starting with the domain.
    DeleteFilePrefix,
    /// `putFileArchival`: stores and deletes of exactly the domain, keeping history.
    PutFileArchival,
    /// `putFileArchivalPrefix`: stores and deletes under the domain, keeping history.
    PutFileArchivalPrefix,
}

impl ScopeKind {
    /// Every kind, in the real hub's order.
    pub const ALL: [ScopeKind; 6] = [
        ScopeKind::PutFile,
        ScopeKind::PutFilePrefix,
        ScopeKind::DeleteFile,
        ScopeKind::DeleteFilePrefix,
        ScopeKind::PutFileArchival,
        ScopeKind::PutFileArchivalPrefix,
    ];

    /// The name in a token's `scopes` claim (`"putFileArchivalPrefix"` …).
    pub const fn as_str(self) -> &'static str {
        match self {
            ScopeKind::PutFile => "putFile",
            ScopeKind::PutFilePrefix => "putFilePrefix",
            ScopeKind::DeleteFile => "deleteFile",
            ScopeKind::DeleteFilePrefix => "deleteFilePrefix",
            ScopeKind::PutFileArchival => "putFileArchival",
            ScopeKind::PutFileArchivalPrefix => "putFileArchivalPrefix",
        }
    }

    /// The kind named `name` (exact, case-sensitive, as the real hub compares); `None`
    /// for any other text.
    pub fn from_name(name: &str) -> Option<ScopeKind> {
        ScopeKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Whether the domain is a prefix (`…Prefix`) rather than one exact path.
    pub const fn is_prefix(self) -> bool {
        matches!(
            self,
            ScopeKind::PutFilePrefix
                | ScopeKind::DeleteFilePrefix
                | ScopeKind::PutFileArchivalPrefix
        )
    }

    /// Whether this is a `putFileArchival*` scope: a token with one is
    /// archival-restricted (its writes and deletes keep history, its listings hide it).
    pub const fn is_archival(self) -> bool {
        matches!(
            self,
            ScopeKind::PutFileArchival | ScopeKind::PutFileArchivalPrefix
        )
    }

    /// Whether a scope of this kind with `domain` covers `path`: a prefix match
    /// (plain `starts_with`, so `collection` covers `collectionsX.txt`, as on the real
    /// hub) or an exact one.
    pub fn covers(self, domain: &str, path: &str) -> bool {
        if self.is_prefix() {
            path.starts_with(domain)
        } else {
            path == domain
        }
    }
}

impl fmt::Display for ScopeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ScopeKind {
    type Err = ScopesError;

    fn from_str(name: &str) -> Result<ScopeKind, ScopesError> {
        ScopeKind::from_name(name).ok_or_else(|| ScopesError::UnknownName(name.to_string()))
    }
}

/// The six scope names the real hub recognises ([`ScopeKind::as_str`] of
/// [`ScopeKind::ALL`]).
pub const SCOPE_NAMES: [&str; 6] = [
    ScopeKind::PutFile.as_str(),
    ScopeKind::PutFilePrefix.as_str(),
    ScopeKind::DeleteFile.as_str(),
    ScopeKind::DeleteFilePrefix.as_str(),
    ScopeKind::PutFileArchival.as_str(),
    ScopeKind::PutFileArchivalPrefix.as_str(),
];

/// At most this many scopes may appear in one token.
pub const MAX_SCOPES: usize = 8;

/// The association token lifetime wallet-sdk uses: one year, in seconds.
pub const ASSOCIATION_TOKEN_LIFETIME_S: u64 = 31_536_000;

/// `["gaiahub","0","<server>","blockstack_storage_please_sign"]`, the hub's challenge.
pub fn challenge_text(server_name: &str) -> String {
    challenge_text_for_year("0", server_name)
}

/// The challenge for one of the accepted "years" (`0`, `2018`, `2019`).
pub fn challenge_text_for_year(year: &str, server_name: &str) -> String {
    jwt::json_string(&Value::Array(vec![
        "gaiahub".into(),
        year.into(),
        server_name.into(),
        "blockstack_storage_please_sign".into(),
    ]))
}

/// `GET /hub_info` response body.
#[derive(Debug, Clone, PartialEq)]
pub struct HubInfo {
    /// The text v1 tokens must carry as `gaiaChallenge`.
    pub challenge_text: String,
    /// `"v1"` on every current hub.
    pub latest_auth_version: Option<String>,
    /// Upload limit in MiB.
    pub max_file_upload_size_megabytes: Option<f64>,
    /// Prefix of public read URLs, ending in `/`.
    pub read_url_prefix: String,
}

impl HubInfo {
    /// Reads a `/hub_info` body (other members are ignored).
    pub fn from_value(v: &Value) -> Result<HubInfo, json::FieldError> {
        let f = Fields::of(v, "the hub's /hub_info answer")?;
        Ok(HubInfo {
            challenge_text: f.str("challenge_text")?.to_string(),
            latest_auth_version: f.opt_str("latest_auth_version")?.map(str::to_string),
            max_file_upload_size_megabytes: f.opt(
                "max_file_upload_size_megabytes",
                "a number",
                Value::as_f64,
            )?,
            read_url_prefix: f.str("read_url_prefix")?.to_string(),
        })
    }

    /// The `/hub_info` body a hub sends: `{challenge_text, latest_auth_version?,
    /// max_file_upload_size_megabytes?, read_url_prefix}` in that order (absent members
    /// are left out). The size is written as JS writes it for sizes below 10^21
    /// (`20`, `1.5`); one that is not finite is written `null`, as `JSON.stringify` does.
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("challenge_text".into(), self.challenge_text.as_str().into());
        m.insert_opt("latest_auth_version", self.latest_auth_version.as_deref());
        if let Some(mb) = self.max_file_upload_size_megabytes {
            m.insert("max_file_upload_size_megabytes".into(), js_number_value(mb));
        }
        m.insert(
            "read_url_prefix".into(),
            self.read_url_prefix.as_str().into(),
        );
        Value::Object(m)
    }
}

/// A double as a JSON number, written as JS writes it for magnitudes in [1e-6, 1e21)
/// (and zero); `null` when it is not finite.
fn js_number_value(x: f64) -> Value {
    if x == 0.0 {
        return Value::from(0u64);
    }
    // Rust's `Display` is the shortest text that reads back as `x`, as JS's, but never
    // uses an exponent: only magnitudes JS writes without one are guaranteed equal.
    Number::from_text(&format!("{x}")).map_or(Value::Null, Value::Number)
}

/// The scope name of a [`Scope`]: one of the known kinds, or any other text (a token
/// may carry one, as stacks.js lets apps write it; hubs refuse such a token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeName {
    /// A name the hubs know.
    Known(ScopeKind),
    /// Any other name, written as it is.
    Other(String),
}

impl ScopeName {
    /// The text in the token.
    pub fn as_str(&self) -> &str {
        match self {
            ScopeName::Known(k) => k.as_str(),
            ScopeName::Other(s) => s,
        }
    }
}

/// One scope entry of a v1 token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// What the scope allows.
    pub name: ScopeName,
    /// The path or path prefix it covers.
    pub domain: String,
}

impl Scope {
    /// A scope entry from a name as text (from an app or a test): a known name becomes
    /// its [`ScopeKind`], any other text is kept to be written as it is.
    pub fn new(scope: &str, domain: &str) -> Self {
        Scope {
            name: ScopeKind::from_name(scope)
                .map_or_else(|| ScopeName::Other(scope.into()), ScopeName::Known),
            domain: domain.into(),
        }
    }

    /// A scope entry of a known kind.
    pub fn of(kind: ScopeKind, domain: &str) -> Self {
        Scope {
            name: ScopeName::Known(kind),
            domain: domain.into(),
        }
    }

    /// The kind, when the name is a known one.
    pub fn kind(&self) -> Option<ScopeKind> {
        match self.name {
            ScopeName::Known(k) => Some(k),
            ScopeName::Other(_) => None,
        }
    }

    /// `{"scope":…,"domain":…}`.
    pub fn to_value(&self) -> Value {
        json!({"scope": self.name.as_str(), "domain": self.domain.as_str()})
    }
}

/// Why a token's `scopes` claim was refused (the real hub answers all of these with a
/// 401 "Failed to parse authentication header.").
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScopesError {
    /// `scopes` is set (truthy) but is not an array.
    NotAList,
    /// More than [`MAX_SCOPES`] entries.
    TooMany(usize),
    /// The entry at this index is not an object.
    NotAnObject(usize),
    /// The entry at this index has no string `scope`.
    NoName(usize),
    /// A scope name the hubs don't know.
    UnknownName(String),
}

impl fmt::Display for ScopesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScopesError::NotAList => f.write_str("the token's `scopes` must be a list"),
            ScopesError::TooMany(n) => write!(
                f,
                "the token has {n} scopes; at most {MAX_SCOPES} are allowed"
            ),
            ScopesError::NotAnObject(i) => {
                write!(
                    f,
                    "scope #{i} of the token must be a {{scope, domain}} object"
                )
            }
            ScopesError::NoName(i) => {
                write!(f, "scope #{i} of the token must have a string `scope`")
            }
            ScopesError::UnknownName(n) => write!(
                f,
                "unknown scope {n:?}: expected one of {}",
                SCOPE_NAMES.join(", ")
            ),
        }
    }
}

impl std::error::Error for ScopesError {}

/// Reads the `scopes` claim of a v1 token payload as the real hub does
/// (`V1Authentication.fromAuthPart`): no scopes when it is falsy (missing, `null`,
/// `false` …); else a list of at most [`MAX_SCOPES`] objects, each with a known string
/// `scope`; the `domain` is JS `String(domain)`, so a missing one is `"undefined"`.
/// The reader of what [`make_v1_token`] writes.
pub fn token_scopes(payload: &Map) -> Result<Vec<(ScopeKind, String)>, ScopesError> {
    let raw = payload.get("scopes");
    if !js::truthy(raw) {
        return Ok(Vec::new());
    }
    let Some(Value::Array(entries)) = raw else {
        return Err(ScopesError::NotAList);
    };
    if entries.len() > MAX_SCOPES {
        return Err(ScopesError::TooMany(entries.len()));
    }
    let mut out = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let Value::Object(obj) = entry else {
            return Err(ScopesError::NotAnObject(i));
        };
        let Some(Value::String(name)) = obj.get("scope") else {
            return Err(ScopesError::NoName(i));
        };
        let kind: ScopeKind = name.parse()?;
        out.push((kind, js::string(obj.get("domain"))));
    }
    Ok(out)
}

/// Options for a v1 Gaia token beyond the key and the challenge.
#[derive(Debug, Clone, Default)]
pub struct V1TokenOptions {
    /// `hubUrl` claim (the hub's write URL).
    pub hub_url: Option<String>,
    /// `associationToken`; `Some("")` writes an empty string as the collections alpha did.
    pub association_token: Option<String>,
    /// Scope restrictions.
    pub scopes: Vec<Scope>,
    /// `iat`, seconds since the epoch (needed to survive a later revoke-all).
    pub iat: Option<u64>,
    /// `exp`, seconds since the epoch.
    pub exp: Option<u64>,
    /// 16 salt bytes; random when `None`.
    pub salt: Option<[u8; 16]>,
}

fn random_salt() -> [u8; 16] {
    let mut salt = [0u8; 16];
    // A failing RNG would make every salt equal; salts are not secret, so we fall
    // back to zeros rather than failing the whole write.
    let _ = getrandom::fill(&mut salt);
    salt
}

/// The plain token of the bucket of `key` on the hub at `hub_url`: no scopes, no `iat`
/// (what `@stacks/storage` makes for an app; Cairn's own jobs use it for the buckets whose
/// keys it holds).
pub fn bucket_token(key: &PrivateKey, challenge_text: &str, hub_url: &str) -> String {
    make_v1_token(
        key,
        challenge_text,
        &V1TokenOptions {
            hub_url: Some(hub_url.to_string()),
            ..V1TokenOptions::default()
        },
    )
}

/// A v1 Gaia auth token, `v1:<JWT>`, as `@stacks/storage` (and, with scopes, the
/// collections alpha) builds it: `{gaiaChallenge, hubUrl, iss, salt, associationToken?,
/// scopes?, iat?, exp?}`.
pub fn make_v1_token(key: &PrivateKey, challenge_text: &str, opts: &V1TokenOptions) -> String {
    let mut p = Map::new();
    p.insert("gaiaChallenge".into(), challenge_text.into());
    if let Some(h) = &opts.hub_url {
        p.insert("hubUrl".into(), h.as_str().into());
    }
    p.insert("iss".into(), key.public_key().to_hex().into());
    p.insert(
        "salt".into(),
        to_hex(&opts.salt.unwrap_or_else(random_salt)).into(),
    );
    if let Some(a) = &opts.association_token {
        p.insert("associationToken".into(), a.as_str().into());
    }
    if !opts.scopes.is_empty() {
        p.insert(
            "scopes".into(),
            Value::Array(opts.scopes.iter().map(Scope::to_value).collect()),
        );
    }
    if let Some(iat) = opts.iat {
        p.insert("iat".into(), iat.into());
    }
    if let Some(exp) = opts.exp {
        p.insert("exp".into(), exp.into());
    }
    format!("v1:{}", jwt::sign(&Value::Object(p), key))
}

/// The association token an identity key issues for an app key (PROTOCOL.md §g.4):
/// `{childToAssociate, iss, exp, iat, salt}` with fractional seconds as JS writes
/// `Date.now() / 1000`.
pub fn make_association_token(
    identity_key: &PrivateKey,
    app_public_key: &PublicKey,
    now_ms: u64,
    salt: Option<[u8; 16]>,
) -> String {
    let mut p = Map::new();
    p.insert("childToAssociate".into(), app_public_key.to_hex().into());
    p.insert("iss".into(), identity_key.public_key().to_hex().into());
    p.insert(
        "exp".into(),
        js_seconds(now_ms.saturating_add(ASSOCIATION_TOKEN_LIFETIME_S * 1000)),
    );
    p.insert("iat".into(), js_seconds(now_ms));
    p.insert(
        "salt".into(),
        to_hex(&salt.unwrap_or_else(random_salt)).into(),
    );
    jwt::sign(&Value::Object(p), identity_key)
}

/// A client's view of one bucket on a hub (`GaiaHubConfig`), the shape apps store and
/// the collections key file carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubConfig {
    /// Read URL prefix.
    pub url_prefix: String,
    /// Bucket address.
    pub address: String,
    /// `v1:<JWT>` token, or empty for read-only access.
    pub token: String,
    /// Hub write URL.
    pub server: String,
}

impl HubConfig {
    /// `{"url_prefix","address","token","server"}`, as `@stacks/storage` stores it.
    pub fn to_value(&self) -> Value {
        json!({
            "url_prefix": self.url_prefix.as_str(),
            "address": self.address.as_str(),
            "token": self.token.as_str(),
            "server": self.server.as_str(),
        })
    }

    /// Reads a `GaiaHubConfig` object.
    pub fn from_value(v: &Value) -> Result<HubConfig, json::FieldError> {
        let f = Fields::of(v, "the hub configuration")?;
        Ok(HubConfig {
            url_prefix: f.str("url_prefix")?.to_string(),
            address: f.str("address")?.to_string(),
            token: f.str("token")?.to_string(),
            server: f.str("server")?.to_string(),
        })
    }

    /// The public read URL of `path` in this bucket.
    pub fn read_url(&self, path: &str) -> String {
        format!("{}{}/{}", self.url_prefix, self.address, path)
    }

    /// `<server>/store/<address>/<path>`.
    pub fn store_url(&self, path: &str) -> String {
        format!(
            "{}/store/{}/{}",
            self.server.trim_end_matches('/'),
            self.address,
            path
        )
    }

    /// `<server>/delete/<address>/<path>`.
    pub fn delete_url(&self, path: &str) -> String {
        format!(
            "{}/delete/{}/{}",
            self.server.trim_end_matches('/'),
            self.address,
            path
        )
    }

    /// `<server>/list-files/<address>`.
    pub fn list_url(&self) -> String {
        format!(
            "{}/list-files/{}",
            self.server.trim_end_matches('/'),
            self.address
        )
    }

    /// The `Authorization` header value.
    pub fn authorization(&self) -> String {
        format!("bearer {}", self.token)
    }
}

/// Reads a bucket's revocation time as Gaia hubs store it (`<address>-auth/authTimestamp`:
/// decimal seconds, possibly with a fraction, surrounding whitespace allowed), floored to
/// whole seconds. `None` for anything else: such a value must never count as "not revoked".
pub fn parse_revocation_time(text: &str) -> Option<i64> {
    let t = text.trim();
    let (whole, frac) = t.split_once('.').unwrap_or((t, "0"));
    let digits = |s: &str| !s.is_empty() && s.len() <= 15 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(frac) {
        return None;
    }
    whole.parse().ok()
}

/// The text a hub stores at `<address>-auth/authTimestamp` for a revoke-all at
/// `seconds`: the decimal seconds. Read back by [`parse_revocation_time`].
pub fn revocation_time_text(seconds: u64) -> String {
    seconds.to_string()
}

/// The body of `POST /revoke-all/<address>`: `{"oldestValidTimestamp": <seconds>}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevokeAllRequest {
    /// Tokens issued (`iat`) before this time, in seconds, are refused from now on.
    pub oldest_valid_timestamp: u64,
}

/// Why a revoke-all body was refused (a 400 on the hubs). The texts are the real
/// hub's messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RevokeAllError {
    /// `oldestValidTimestamp` is missing or falsy (`0`, `""`, `null` …).
    Missing,
    /// `oldestValidTimestamp` is not a whole number ≥ 0 as JS `parseInt` reads it.
    NotAnInteger,
}

impl fmt::Display for RevokeAllError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RevokeAllError::Missing => "Invalid JSON: missing oldestValidTimestamp",
            RevokeAllError::NotAnInteger => {
                "Invalid JSON: oldestValidTimestamp is not a valid integer"
            }
        })
    }
}

impl std::error::Error for RevokeAllError {}

impl RevokeAllRequest {
    /// `{"oldestValidTimestamp": <seconds>}`.
    pub fn to_value(&self) -> Value {
        json!({ "oldestValidTimestamp": self.oldest_valid_timestamp })
    }

    /// Reads the body's members as the real hub does: the value must be truthy, then
    /// JS `parseInt` of it (a number truncated, or a string's leading digits: `"42abc"`
    /// is 42) must be ≥ 0; values past `u64::MAX` count as `u64::MAX`.
    pub fn from_map(body: &Map) -> Result<RevokeAllRequest, RevokeAllError> {
        let raw = body.get("oldestValidTimestamp");
        if !js::truthy(raw) {
            return Err(RevokeAllError::Missing);
        }
        let n = raw
            .and_then(js::parse_int)
            .filter(|n| *n >= 0)
            .ok_or(RevokeAllError::NotAnInteger)?;
        Ok(RevokeAllRequest {
            oldest_valid_timestamp: u64::try_from(n).unwrap_or(u64::MAX),
        })
    }
}

/// The body of `POST /list-files/<address>`: `{"page": <cursor or null>, "stat"?: true}`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListFilesRequest {
    /// The cursor of the page wanted (the previous answer's `page`); `None` for the first.
    pub page: Option<String>,
    /// Ask for each entry's metadata (`stat: true`) instead of names only.
    pub stat: bool,
}

/// Why a `list-files` body was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ListFilesRequestError {
    /// `page` is set (truthy) but is not a string, so it can't be a cursor a hub gave.
    PageNotAString,
}

impl fmt::Display for ListFilesRequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListFilesRequestError::PageNotAString => f.write_str("Invalid page cursor"),
        }
    }
}

impl std::error::Error for ListFilesRequestError {}

impl ListFilesRequest {
    /// `{"page": <cursor or null>}`, with `"stat": true` after it when asked.
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("page".into(), Value::from(self.page.as_deref()));
        if self.stat {
            m.insert("stat".into(), true.into());
        }
        Value::Object(m)
    }

    /// Reads the body's members as the real hub does: a falsy `page` (missing, `null`,
    /// `""` …) is the first page, a string is a cursor, anything else is refused;
    /// `stat` is JS truthiness.
    pub fn from_map(body: &Map) -> Result<ListFilesRequest, ListFilesRequestError> {
        let page = match body.get("page") {
            p if !js::truthy(p) => None,
            Some(Value::String(c)) => Some(c.clone()),
            _ => return Err(ListFilesRequestError::PageNotAString),
        };
        Ok(ListFilesRequest {
            page,
            stat: js::truthy(body.get("stat")),
        })
    }
}

/// One entry of a `list-files` listing with `stat: true`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedFile {
    /// Path in the bucket.
    pub name: String,
    /// ETag.
    pub etag: String,
    /// Size in bytes.
    pub content_length: u64,
    /// Content type.
    pub content_type: String,
    /// Last modification, seconds since the epoch (as the hub reports it).
    pub last_modified_date: i64,
    /// cairn-hub only: the salt of the token that wrote this version.
    pub writer: Option<String>,
}

impl ListedFile {
    /// An entry of a plain listing: the name, with empty metadata.
    pub fn named(name: &str) -> ListedFile {
        ListedFile {
            name: name.to_string(),
            etag: String::new(),
            content_length: 0,
            content_type: String::new(),
            last_modified_date: 0,
            writer: None,
        }
    }

    /// Reads a `stat: true` listing entry (missing fields: empty, 0 or none).
    pub fn from_value(v: &Value) -> Result<ListedFile, json::FieldError> {
        let f = Fields::of(v, "a file listing entry")?;
        Ok(ListedFile {
            name: f.str("name")?.to_string(),
            etag: f.opt_str("etag")?.unwrap_or_default().to_string(),
            content_length: f
                .opt("contentLength", "a whole number", Value::as_u64)?
                .unwrap_or(0),
            content_type: f.opt_str("contentType")?.unwrap_or_default().to_string(),
            last_modified_date: f
                .opt("lastModifiedDate", "a whole number", Value::as_i64)?
                .unwrap_or(0),
            writer: f.opt_str("writer")?.map(str::to_string),
        })
    }

    /// The `stat: true` entry as the hubs write it: `{"exists":true, "etag",
    /// "contentLength", "contentType", "lastModifiedDate", "name"}`, then cairn-hub's
    /// `"writer"` when known.
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("exists".into(), true.into());
        m.insert("etag".into(), self.etag.as_str().into());
        m.insert("contentLength".into(), self.content_length.into());
        m.insert("contentType".into(), self.content_type.as_str().into());
        m.insert("lastModifiedDate".into(), self.last_modified_date.into());
        m.insert("name".into(), self.name.as_str().into());
        m.insert_opt("writer", self.writer.as_deref());
        Value::Object(m)
    }
}

/// One page of a `list-files` answer: `{"entries": [...], "page": <next cursor or null>}`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListFilesPage {
    /// Entries (stat form; plain names get empty metadata, see [`ListedFile::named`]).
    pub entries: Vec<ListedFile>,
    /// The cursor of the next page, when the listing goes on.
    pub next: Option<String>,
}

/// Why a `list-files` answer could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ListFilesPageError {
    /// The body is not JSON.
    Unreadable,
    /// The body has no `entries` list.
    NoEntries,
}

impl fmt::Display for ListFilesPageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ListFilesPageError::Unreadable => "the hub's listing is unreadable",
            ListFilesPageError::NoEntries => "the hub's listing has no entries",
        })
    }
}

impl std::error::Error for ListFilesPageError {}

impl ListFilesPage {
    /// The answer as the hubs write it: entries as [`ListedFile::to_value`] objects when
    /// the request asked for `stat`, else as their names; `page` is the next cursor or
    /// `null`.
    pub fn to_value(&self, stat: bool) -> Value {
        let entries: Vec<Value> = self
            .entries
            .iter()
            .map(|e| {
                if stat {
                    e.to_value()
                } else {
                    Value::from(e.name.as_str())
                }
            })
            .collect();
        json!({"entries": entries, "page": self.next.as_deref()})
    }

    /// Reads an answer (`stat: true` or plain). `null` entries (what the real hub sends
    /// for a page emptied by history filtering) and entries that are not file records
    /// are skipped, but keep the listing going; an empty page ends it, whatever `page`
    /// says (GAIA_HUB.md §3).
    pub fn from_json(body: &str) -> Result<ListFilesPage, ListFilesPageError> {
        let v = json::from_str(body).map_err(|_| ListFilesPageError::Unreadable)?;
        ListFilesPage::from_value(&v)
    }

    /// [`ListFilesPage::from_json`] of a parsed body.
    pub fn from_value(v: &Value) -> Result<ListFilesPage, ListFilesPageError> {
        let raw = v
            .get("entries")
            .and_then(Value::as_array)
            .ok_or(ListFilesPageError::NoEntries)?;
        let mut entries = Vec::with_capacity(raw.len());
        for e in raw {
            match e {
                Value::String(name) => entries.push(ListedFile::named(name)),
                Value::Object(_) => {
                    if let Ok(f) = ListedFile::from_value(e) {
                        entries.push(f);
                    }
                }
                _ => {}
            }
        }
        let next = match v.get("page") {
            Some(Value::String(p)) if !raw.is_empty() => Some(p.clone()),
            _ => None,
        };
        Ok(ListFilesPage { entries, next })
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn challenge_matches_the_hub_format() {
        assert_eq!(
            challenge_text("hub.blockstack.org"),
            r#"["gaiahub","0","hub.blockstack.org","blockstack_storage_please_sign"]"#
        );
    }

    #[test]
    fn v1_token_has_fields_in_order_and_verifies() {
        let key = PrivateKey::random().unwrap();
        let t = make_v1_token(
            &key,
            &challenge_text("x"),
            &V1TokenOptions {
                hub_url: Some("http://h".into()),
                association_token: Some(String::new()),
                scopes: vec![Scope::of(ScopeKind::PutFileArchivalPrefix, "collection")],
                iat: Some(5),
                ..Default::default()
            },
        );
        let jwt = t.strip_prefix("v1:").unwrap();
        let d = jwt::decode(jwt).unwrap();
        d.verify(&key.public_key()).unwrap();
        let keys: Vec<&str> = d.payload.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "gaiaChallenge",
                "hubUrl",
                "iss",
                "salt",
                "associationToken",
                "scopes",
                "iat"
            ]
        );
    }

    #[test]
    fn revocation_times_are_numbers_or_nothing() {
        assert_eq!(parse_revocation_time("1795215721"), Some(1795215721));
        assert_eq!(parse_revocation_time(" 1000\n"), Some(1000));
        assert_eq!(parse_revocation_time("1000.999"), Some(1000));
        assert_eq!(parse_revocation_time("0"), Some(0));
        for bad in [
            "",
            "abc",
            "-5",
            "1e9",
            "12a",
            "1.",
            ".5",
            "NaN",
            "1 2",
            "9999999999999999",
        ] {
            assert_eq!(parse_revocation_time(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn scope_kinds_have_one_name_each() {
        assert_eq!(SCOPE_NAMES.len(), ScopeKind::ALL.len());
        for k in ScopeKind::ALL {
            assert_eq!(ScopeKind::from_name(k.as_str()), Some(k));
            assert_eq!(k.as_str().parse::<ScopeKind>(), Ok(k));
            assert_eq!(k.is_prefix(), k.as_str().ends_with("Prefix"));
            assert_eq!(k.is_archival(), k.as_str().starts_with("putFileArchival"));
        }
        assert_eq!(ScopeKind::from_name("PutFile"), None);
        assert!(
            "readFile"
                .parse::<ScopeKind>()
                .unwrap_err()
                .to_string()
                .contains("putFileArchivalPrefix")
        );
        assert!(ScopeKind::PutFilePrefix.covers("collection", "collectionsX.txt"));
        assert!(!ScopeKind::PutFile.covers("only.txt", "only.txt.bak"));
        assert_eq!(Scope::new("readFile", "x").kind(), None);
        assert_eq!(
            Scope::new("putFile", "x"),
            Scope::of(ScopeKind::PutFile, "x")
        );
    }

    #[test]
    fn token_scopes_read_what_tokens_carry() {
        let payload = |text: &str| match json::from_str(text) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        assert_eq!(
            token_scopes(&payload(
                r#"{"scopes":[{"scope":"putFile","path":"f0"},{"scope":"putFilePrefix","domain":5},
                {"scope":"deleteFile","domain":null,"extra":1}]}"#
            )),
            Ok(vec![
                (ScopeKind::PutFile, "undefined".into()),
                (ScopeKind::PutFilePrefix, "5".into()),
                (ScopeKind::DeleteFile, "null".into()),
            ])
        );
        assert_eq!(token_scopes(&payload(r#"{"scopes":null}"#)), Ok(vec![]));
        assert_eq!(token_scopes(&payload(r#"{"scopes":0}"#)), Ok(vec![]));
        assert_eq!(
            token_scopes(&payload(r#"{"scopes":{"a":1}}"#)),
            Err(ScopesError::NotAList)
        );
        assert_eq!(
            token_scopes(&payload(r#"{"scopes":[1]}"#)),
            Err(ScopesError::NotAnObject(0))
        );
        assert_eq!(
            token_scopes(&payload(r#"{"scopes":[{"scope":1}]}"#)),
            Err(ScopesError::NoName(0))
        );
        let nine = format!(
            r#"{{"scopes":[{}]}}"#,
            [r#"{"scope":"putFile"}"#; 9].join(",")
        );
        assert_eq!(token_scopes(&payload(&nine)), Err(ScopesError::TooMany(9)));
    }

    #[test]
    fn hub_answers_are_written_as_the_hubs_write_them() {
        let info = HubInfo {
            challenge_text: challenge_text("h"),
            latest_auth_version: Some("v1".into()),
            max_file_upload_size_megabytes: Some(20.0),
            read_url_prefix: "http://h/read/".into(),
        };
        assert_eq!(
            info.to_value().to_string(),
            r#"{"challenge_text":"[\"gaiahub\",\"0\",\"h\",\"blockstack_storage_please_sign\"]","latest_auth_version":"v1","max_file_upload_size_megabytes":20,"read_url_prefix":"http://h/read/"}"#
        );
        assert_eq!(HubInfo::from_value(&info.to_value()), Ok(info));
        assert_eq!(js_number_value(1.5).to_string(), "1.5");
        assert_eq!(js_number_value(f64::NAN).to_string(), "null");

        let page = ListFilesPage {
            entries: vec![ListedFile {
                writer: Some("s".into()),
                ..ListedFile::named("a")
            }],
            next: None,
        };
        assert_eq!(
            page.to_value(true).to_string(),
            r#"{"entries":[{"exists":true,"etag":"","contentLength":0,"contentType":"","lastModifiedDate":0,"name":"a","writer":"s"}],"page":null}"#
        );
        assert_eq!(
            page.to_value(false).to_string(),
            r#"{"entries":["a"],"page":null}"#
        );
        let req = ListFilesRequest {
            page: None,
            stat: false,
        };
        assert_eq!(req.to_value().to_string(), r#"{"page":null}"#);
        let req = ListFilesRequest {
            page: Some("c1.YQ".into()),
            stat: true,
        };
        assert_eq!(
            req.to_value().to_string(),
            r#"{"page":"c1.YQ","stat":true}"#
        );
        assert_eq!(
            RevokeAllRequest {
                oldest_valid_timestamp: 1700000000
            }
            .to_value()
            .to_string(),
            r#"{"oldestValidTimestamp":1700000000}"#
        );
    }

    #[test]
    fn hub_requests_are_read_as_the_node_hub_reads_them() {
        let body = |text: &str| match json::from_str(text) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        let list = |t: &str| ListFilesRequest::from_map(&body(t));
        assert_eq!(list("{}"), Ok(ListFilesRequest::default()));
        assert_eq!(
            list(r#"{"page":"","stat":"yes"}"#),
            Ok(ListFilesRequest {
                page: None,
                stat: true
            })
        );
        assert_eq!(
            list(r#"{"page":5}"#),
            Err(ListFilesRequestError::PageNotAString)
        );
        let revoke = |t: &str| RevokeAllRequest::from_map(&body(t));
        assert_eq!(revoke("{}"), Err(RevokeAllError::Missing));
        assert_eq!(
            revoke(r#"{"oldestValidTimestamp":0}"#),
            Err(RevokeAllError::Missing)
        );
        assert_eq!(
            revoke(r#"{"oldestValidTimestamp":"abc"}"#),
            Err(RevokeAllError::NotAnInteger)
        );
        assert_eq!(
            revoke(r#"{"oldestValidTimestamp":-5}"#),
            Err(RevokeAllError::NotAnInteger)
        );
        assert_eq!(
            revoke(r#"{"oldestValidTimestamp":" 42abc"}"#).map(|r| r.oldest_valid_timestamp),
            Ok(42)
        );
        assert_eq!(
            RevokeAllError::Missing.to_string(),
            "Invalid JSON: missing oldestValidTimestamp"
        );
        assert_eq!(
            parse_revocation_time(&revocation_time_text(1795215721)),
            Some(1795215721)
        );
    }
}
