//! Sign-in messages (PROTOCOL.md §b, §c): verifying an app's `authRequest`, building
//! the `authResponse`, and the app side of both (making a request, handling the
//! response) for the demo app and app developers.
//!
//! Everything here is a pure function of its inputs: the clock (`now_ms`) and the
//! random values are passed in, so golden vectors can be reproduced exactly.

use crate::crypto::bulk::{self, Bulk};
use crate::crypto::ecies::{self, EciesError};
use crate::json;
use crate::keys::keychain::{
    Keychain, KeychainError, validate_app_domain, validate_collection_name,
};
use crate::keys::{PrivateKey, PublicKey};
use crate::protocol::gaia::make_association_token;
use crate::protocol::jwt::{self, DecodedToken, JwtError};
use crate::protocol::profile::{
    add_app_entry, default_profile, profile_file_body, sign_profile_token,
};
use crate::support::encoding::to_hex;
use crate::support::http_url::HttpUrl;
use crate::support::json::{Map, Value};
use crate::support::time::next_month_ms;
use std::fmt;

/// authRequest tokens longer than this (64 KiB) are refused unread.
pub const MAX_AUTH_REQUEST_LEN: usize = 64 * 1024;

/// The authResponse `version` Cairn writes: apps gate features on it with a quirky
/// comparison, and "1.4.0" passes every gate (PROTOCOL.md §c).
pub const AUTH_RESPONSE_VERSION: &str = "1.4.0";

/// Why an authRequest was refused. Each check has its own variant; [`Self::kind`]
/// gives a stable machine-readable name.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum AuthRequestError {
    /// Empty input.
    Empty,
    /// The token is larger than 64 KiB.
    TooLarge {
        /// Its length in bytes.
        len: usize,
    },
    /// Not a JWT, or its parts are not base64url JSON.
    Malformed(JwtError),
    /// `alg: none`: the token is not signed.
    Unsigned,
    /// An algorithm other than ES256K.
    WrongAlgorithm(String),
    /// `exp` is present but not a number.
    ExpirationNotNumber,
    /// The request expired.
    Expired {
        /// Its `exp`, in seconds.
        exp: f64,
    },
    /// `iat` is present but not a number.
    IssuedAtNotNumber,
    /// The request claims to be issued in the future.
    IssuedInFuture {
        /// Its `iat`, in seconds.
        iat: f64,
    },
    /// `public_keys` is missing or empty.
    MissingPublicKey,
    /// More than one entry in `public_keys`.
    MultiplePublicKeys,
    /// The public key is not a valid secp256k1 key.
    BadPublicKey,
    /// The signature does not verify with the request's public key.
    BadSignature,
    /// `iss` is not a `did:btc-addr:` DID.
    BadIssuer,
    /// `iss` names a different address than the public key's.
    IssuerMismatch,
    /// A required field is missing or not a string.
    MissingField(&'static str),
    /// `domain_name` is not an http(s) origin.
    BadDomain(String),
    /// `domain_name` is an origin, but not in canonical form (upper case, a default
    /// port, a trailing dot…): the app key is derived from its exact characters.
    NonCanonicalDomain {
        /// The request's `domain_name`.
        domain: String,
        /// The same origin in canonical form.
        canonical: String,
    },
    /// `redirect_uri` is not an absolute http(s) URL.
    BadRedirectUri(String),
    /// `redirect_uri` points to another origin than `domain_name`.
    RedirectCrossOrigin,
    /// `manifest_uri` is not an absolute http(s) URL.
    BadManifestUri(String),
    /// `manifest_uri` points to another origin than `domain_name`.
    ManifestCrossOrigin,
    /// The page that sent the user is not the app the request names.
    OriginMismatch {
        /// The origin the browser reported.
        expected: String,
        /// The request's `domain_name`.
        domain: String,
    },
    /// `scopes` is not an array of strings.
    ScopesMalformed,
    /// A `collection.` scope that is not `collection.<name>` or `collection.<name>.read`.
    BadCollectionScope(String),
}

impl AuthRequestError {
    /// A stable identifier for the failed check (used as the JS error's `code`).
    pub fn kind(&self) -> &'static str {
        use AuthRequestError::*;
        match self {
            Empty => "empty",
            TooLarge { .. } => "too_large",
            Malformed(JwtError::Base64(_)) => "malformed_base64",
            Malformed(JwtError::Json(_)) => "malformed_json",
            Malformed(_) => "malformed_token",
            Unsigned => "unsigned",
            WrongAlgorithm(_) => "wrong_algorithm",
            ExpirationNotNumber => "expiration_not_number",
            Expired { .. } => "expired",
            IssuedAtNotNumber => "issued_at_not_number",
            IssuedInFuture { .. } => "issued_in_future",
            MissingPublicKey => "missing_public_key",
            MultiplePublicKeys => "multiple_public_keys",
            BadPublicKey => "bad_public_key",
            BadSignature => "bad_signature",
            BadIssuer => "bad_issuer",
            IssuerMismatch => "issuer_mismatch",
            MissingField(_) => "missing_field",
            BadDomain(_) => "bad_domain",
            NonCanonicalDomain { .. } => "non_canonical_domain",
            BadRedirectUri(_) => "bad_redirect_uri",
            RedirectCrossOrigin => "redirect_cross_origin",
            BadManifestUri(_) => "bad_manifest_uri",
            ManifestCrossOrigin => "manifest_cross_origin",
            OriginMismatch { .. } => "origin_mismatch",
            ScopesMalformed => "scopes_malformed",
            BadCollectionScope(_) => "bad_collection_scope",
        }
    }
}

impl fmt::Display for AuthRequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use AuthRequestError::*;
        match self {
            Empty => f.write_str("the sign-in request is empty"),
            TooLarge { len } => write!(
                f,
                "the sign-in request is too large ({len} bytes; the limit is {MAX_AUTH_REQUEST_LEN})"
            ),
            Malformed(e) => write!(f, "the sign-in request is not readable: {e}"),
            Unsigned => f.write_str("the sign-in request is not signed (alg \"none\")"),
            WrongAlgorithm(a) => write!(
                f,
                "the sign-in request uses the signature algorithm {}; only ES256K is accepted",
                crate::support::encoding::quoted(a)
            ),
            ExpirationNotNumber => f.write_str("the sign-in request's expiry time is not a number"),
            Expired { .. } => f.write_str(
                "the sign-in request has expired; go back to the app and start signing in again",
            ),
            IssuedAtNotNumber => f.write_str("the sign-in request's issue time is not a number"),
            IssuedInFuture { .. } => f.write_str(
                "the sign-in request claims to be issued in the future; check your computer's clock",
            ),
            MissingPublicKey => f.write_str("the sign-in request carries no public key"),
            MultiplePublicKeys => {
                f.write_str("the sign-in request carries several public keys; only one is supported")
            }
            BadPublicKey => f.write_str("the sign-in request's public key is invalid"),
            BadSignature => f.write_str(
                "the sign-in request's signature does not match its key: it was altered or forged",
            ),
            BadIssuer => f.write_str("the sign-in request's issuer is not a did:btc-addr identifier"),
            IssuerMismatch => {
                f.write_str("the sign-in request's issuer does not match its public key")
            }
            MissingField(name) => write!(f, "the sign-in request has no {name}"),
            BadDomain(why) => write!(f, "the app's domain is not valid: {why}"),
            NonCanonicalDomain { domain, canonical } => write!(
                f,
                "the app's domain {} is not written the way browsers write it; the app must send it as {canonical}",
                crate::support::encoding::quoted(domain)
            ),
            BadRedirectUri(why) => write!(f, "the app's return address is not valid: {why}"),
            RedirectCrossOrigin => f.write_str(
                "the app's return address is on another site than the app; refusing to send your sign-in there",
            ),
            BadManifestUri(why) => write!(f, "the app's manifest address is not valid: {why}"),
            ManifestCrossOrigin => {
                f.write_str("the app's manifest address is on another site than the app")
            }
            OriginMismatch { expected, domain } => write!(
                f,
                "the request says it comes from {domain}, but it was sent by {expected}"
            ),
            ScopesMalformed => f.write_str("the sign-in request's permissions list is malformed"),
            BadCollectionScope(s) => write!(
                f,
                "the app asks for an unknown kind of collection access: {} (expected collection.<name> or collection.<name>.read)",
                crate::support::encoding::quoted(s)
            ),
        }
    }
}

impl std::error::Error for AuthRequestError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AuthRequestError::Malformed(e) => Some(e),
            _ => None,
        }
    }
}

/// A permission an app asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// `store_write`: a private storage bucket for the app.
    StoreWrite,
    /// `publish_data`: list the app's bucket in the public profile.
    PublishData,
    /// `email`: share the email address.
    Email,
    /// `collection.<name>` (read and write) or `collection.<name>.read`.
    Collection {
        /// The collection name.
        name: String,
        /// True for `.read`.
        read_only: bool,
    },
    /// A scope Cairn does not know; shown to the user, never granted.
    Unknown(String),
}

impl Scope {
    /// Parses one scope string.
    pub fn parse(s: &str) -> Result<Scope, AuthRequestError> {
        Ok(match s {
            "store_write" => Scope::StoreWrite,
            "publish_data" => Scope::PublishData,
            "email" => Scope::Email,
            _ => match s.strip_prefix("collection.") {
                Some(rest) => {
                    let (name, read_only) = match rest.strip_suffix(".read") {
                        Some(n) => (n, true),
                        None => (rest, false),
                    };
                    validate_collection_name(name)
                        .map_err(|_| AuthRequestError::BadCollectionScope(s.to_string()))?;
                    Scope::Collection {
                        name: name.to_string(),
                        read_only,
                    }
                }
                None => Scope::Unknown(s.to_string()),
            },
        })
    }

    /// The scope as it appears in requests.
    pub fn as_string(&self) -> String {
        match self {
            Scope::StoreWrite => "store_write".into(),
            Scope::PublishData => "publish_data".into(),
            Scope::Email => "email".into(),
            Scope::Collection { name, read_only } => {
                format!("collection.{name}{}", if *read_only { ".read" } else { "" })
            }
            Scope::Unknown(s) => s.clone(),
        }
    }
}

/// A verified authRequest.
#[derive(Debug, Clone)]
pub struct AuthRequest {
    /// The token as received.
    pub token: String,
    /// The decoded payload.
    pub payload: Map<String, Value>,
    /// The app's origin; the app key is derived from it.
    pub domain_name: String,
    /// Where the response goes.
    pub redirect_uri: String,
    /// The app's web manifest.
    pub manifest_uri: String,
    /// The transit key the app key is encrypted to.
    pub transit_public_key: PublicKey,
    /// The request's `version`, if any.
    pub version: Option<String>,
    /// Requested scopes in order, duplicates removed.
    pub scopes: Vec<Scope>,
    /// `appDetails.name` (Connect), if present.
    pub app_name: Option<String>,
    /// `appDetails.icon` (Connect), if present.
    pub app_icon: Option<String>,
}

impl AuthRequest {
    /// Whether the app asked for `scope`.
    pub fn has_scope(&self, scope: &Scope) -> bool {
        self.scopes.contains(scope)
    }

    /// The collections the app asks for, with their read-only flag.
    pub fn collections(&self) -> impl Iterator<Item = (&str, bool)> {
        self.scopes.iter().filter_map(|s| match s {
            Scope::Collection { name, read_only } => Some((name.as_str(), *read_only)),
            _ => None,
        })
    }
}

/// A time claim read as JS does: absent, null, false, 0 and "" count as "not set";
/// anything else must be a number.
pub(crate) fn time_claim(payload: &Map<String, Value>, key: &str) -> Result<Option<f64>, ()> {
    match payload.get(key) {
        None | Some(Value::Null) | Some(Value::Bool(false)) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(0.0) => Ok(None),
            Some(x) => Ok(Some(x)),
            None => Err(()),
        },
        Some(_) => Err(()),
    }
}

/// Checks `exp` and `iat` at `now_ms` as `isExpirationDateValid` and
/// `isIssuanceDateValid` do (no clock-skew allowance).
fn check_times(payload: &Map<String, Value>, now_ms: i64) -> Result<(), AuthRequestError> {
    let now = now_ms as f64;
    match time_claim(payload, "exp") {
        Err(()) => return Err(AuthRequestError::ExpirationNotNumber),
        Ok(Some(exp)) if now > exp * 1000.0 => return Err(AuthRequestError::Expired { exp }),
        _ => {}
    }
    match time_claim(payload, "iat") {
        Err(()) => Err(AuthRequestError::IssuedAtNotNumber),
        Ok(Some(iat)) if now < iat * 1000.0 => Err(AuthRequestError::IssuedInFuture { iat }),
        _ => Ok(()),
    }
}

/// The single public key of a token, checked against its signature and `iss` DID
/// (`doSignaturesMatchPublicKeys`, `doPublicKeysMatchIssuer`).
pub(crate) fn check_signer(decoded: &DecodedToken) -> Result<PublicKey, AuthRequestError> {
    let keys = match decoded.payload.get("public_keys") {
        Some(Value::Array(k)) => k,
        _ => return Err(AuthRequestError::MissingPublicKey),
    };
    let key = match keys.as_slice() {
        [] => return Err(AuthRequestError::MissingPublicKey),
        [one] => one.as_str().ok_or(AuthRequestError::BadPublicKey)?,
        _ => return Err(AuthRequestError::MultiplePublicKeys),
    };
    let key = PublicKey::from_hex(key).map_err(|_| AuthRequestError::BadPublicKey)?;
    decoded
        .verify(&key)
        .map_err(|_| AuthRequestError::BadSignature)?;
    let iss = decoded
        .payload
        .get("iss")
        .and_then(Value::as_str)
        .ok_or(AuthRequestError::MissingField("iss"))?;
    let address = address_from_did(iss).ok_or(AuthRequestError::BadIssuer)?;
    if address != key.address() {
        return Err(AuthRequestError::IssuerMismatch);
    }
    Ok(key)
}

/// `getAddressFromDID`: the address of a `did:btc-addr:<address>` DID.
pub fn address_from_did(did: &str) -> Option<&str> {
    let mut parts = did.split(':');
    let (Some(d), Some(kind), Some(addr), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    (d.eq_ignore_ascii_case("did") && kind == "btc-addr" && !addr.is_empty()).then_some(addr)
}

/// The request error for a `domain_name` the keychain refuses.
fn domain_error(e: KeychainError) -> AuthRequestError {
    match e {
        KeychainError::BadAppDomain(why) => AuthRequestError::BadDomain(why),
        KeychainError::NonCanonicalAppDomain { domain, canonical } => {
            AuthRequestError::NonCanonicalDomain { domain, canonical }
        }
        other => AuthRequestError::BadDomain(other.to_string()),
    }
}

/// Parses an absolute http(s) URL with a host and no user information.
fn parse_http_url(text: &str) -> Result<HttpUrl, String> {
    HttpUrl::parse(text).map_err(|e| e.to_string())
}

fn same_origin(a: &HttpUrl, b: &HttpUrl) -> bool {
    a.same_origin(b)
}

fn string_field<'a>(
    payload: &'a Map<String, Value>,
    key: &'static str,
) -> Result<&'a str, AuthRequestError> {
    payload
        .get(key)
        .and_then(Value::as_str)
        .ok_or(AuthRequestError::MissingField(key))
}

/// Verifies an authRequest: the seven library checks (`alg` not none, `exp`, `iat`,
/// one public key that signed it, issuer matches the key, manifest and redirect on
/// the app's origin) plus Cairn's own: `alg` must be ES256K, URLs must be absolute
/// http(s) without user info, a 64 KiB size limit, valid collection scopes, and —
/// when known — the origin of the page that sent the user must be `domain_name`.
/// A leading `blockstack:` is stripped.
pub fn verify_auth_request(
    token: &str,
    expected_origin: Option<&str>,
    now_ms: i64,
) -> Result<AuthRequest, AuthRequestError> {
    let token = token.trim();
    let token = token.strip_prefix("blockstack:").unwrap_or(token);
    if token.is_empty() {
        return Err(AuthRequestError::Empty);
    }
    if token.len() > MAX_AUTH_REQUEST_LEN {
        return Err(AuthRequestError::TooLarge { len: token.len() });
    }
    let decoded = jwt::decode(token).map_err(AuthRequestError::Malformed)?;
    match decoded.alg() {
        Some("ES256K") => {}
        Some(a) if a.eq_ignore_ascii_case("none") => return Err(AuthRequestError::Unsigned),
        Some(a) => return Err(AuthRequestError::WrongAlgorithm(a.to_string())),
        None => return Err(AuthRequestError::WrongAlgorithm(String::new())),
    }
    check_times(&decoded.payload, now_ms)?;
    let transit_public_key = check_signer(&decoded)?;
    let p = &decoded.payload;

    let domain_name = string_field(p, "domain_name")?;
    validate_app_domain(domain_name).map_err(domain_error)?;
    let domain_url = parse_http_url(domain_name).map_err(AuthRequestError::BadDomain)?;

    let manifest_uri = string_field(p, "manifest_uri")?;
    let manifest = parse_http_url(manifest_uri).map_err(AuthRequestError::BadManifestUri)?;
    if !same_origin(&domain_url, &manifest) {
        return Err(AuthRequestError::ManifestCrossOrigin);
    }
    let redirect_uri = string_field(p, "redirect_uri")?;
    let redirect = parse_http_url(redirect_uri).map_err(AuthRequestError::BadRedirectUri)?;
    if !same_origin(&domain_url, &redirect) {
        return Err(AuthRequestError::RedirectCrossOrigin);
    }
    if let Some(expected) = expected_origin {
        let matches = parse_http_url(expected)
            .map(|u| same_origin(&u, &domain_url))
            .unwrap_or(false);
        if !matches {
            return Err(AuthRequestError::OriginMismatch {
                expected: expected.to_string(),
                domain: domain_name.to_string(),
            });
        }
    }

    let scopes = match p.get("scopes") {
        None | Some(Value::Null) => vec![Scope::StoreWrite],
        Some(Value::Array(items)) => {
            let mut out: Vec<Scope> = Vec::with_capacity(items.len());
            for item in items {
                let s = item.as_str().ok_or(AuthRequestError::ScopesMalformed)?;
                let scope = Scope::parse(s)?;
                if !out.contains(&scope) {
                    out.push(scope);
                }
            }
            out
        }
        Some(_) => return Err(AuthRequestError::ScopesMalformed),
    };
    let details = p.get("appDetails");
    let detail = |k: &str| {
        details
            .and_then(|d| d.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    Ok(AuthRequest {
        token: token.to_string(),
        domain_name: domain_name.to_string(),
        redirect_uri: redirect_uri.to_string(),
        manifest_uri: manifest_uri.to_string(),
        transit_public_key,
        version: p.get("version").and_then(Value::as_str).map(str::to_string),
        scopes,
        app_name: detail("name"),
        app_icon: detail("icon"),
        payload: decoded.payload,
    })
}

/// Why an authResponse could not be built or accepted.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum AuthResponseError {
    /// Key derivation failed (bad identity index).
    Keychain(KeychainError),
    /// The token is malformed or fails a check (reuses the request checks).
    Invalid(AuthRequestError),
    /// The `private_key` field could not be decrypted with the transit key.
    PrivateKey(EciesError),
    /// A required field is missing.
    MissingField(&'static str),
    /// The system random number generator failed.
    Randomness,
    /// The app key could not be encrypted to the app's transit key.
    Encrypt(EciesError),
}

impl fmt::Display for AuthResponseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthResponseError::Keychain(e) => e.fmt(f),
            AuthResponseError::Invalid(e) => {
                let text = e.to_string().replace("sign-in request", "sign-in response");
                f.write_str(&text)
            }
            AuthResponseError::PrivateKey(e) => {
                write!(
                    f,
                    "the app key in the sign-in response cannot be decrypted: {e}"
                )
            }
            AuthResponseError::MissingField(k) => write!(f, "the sign-in response has no {k}"),
            AuthResponseError::Randomness => {
                f.write_str("the system random number generator is not available")
            }
            AuthResponseError::Encrypt(e) => {
                write!(f, "the app key could not be encrypted for the app: {e}")
            }
        }
    }
}

impl std::error::Error for AuthResponseError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AuthResponseError::Keychain(e) => Some(e),
            AuthResponseError::Invalid(e) => Some(e),
            AuthResponseError::PrivateKey(e) | AuthResponseError::Encrypt(e) => Some(e),
            _ => None,
        }
    }
}

impl AuthResponseError {
    /// A stable identifier of the failure.
    pub fn kind(&self) -> &'static str {
        match self {
            AuthResponseError::Keychain(_) => "keychain",
            AuthResponseError::Invalid(e) => e.kind(),
            AuthResponseError::PrivateKey(_) => "private_key",
            AuthResponseError::MissingField(_) => "missing_field",
            AuthResponseError::Randomness => "randomness",
            AuthResponseError::Encrypt(_) => "encrypt",
        }
    }
}

/// The random values one authResponse consumes; injectable for golden tests.
#[derive(Debug, Clone)]
pub struct ResponseRandomness {
    /// The response's `jti`.
    pub jti: String,
    /// The profile token's `jti`.
    pub profile_jti: String,
    /// The association token's salt.
    pub association_salt: [u8; 16],
    /// The ECIES ephemeral key for `private_key`.
    pub ephemeral: PrivateKey,
    /// The ECIES IV for `private_key`.
    pub iv: [u8; 16],
}

impl ResponseRandomness {
    /// Fresh values from the system CSPRNG.
    pub fn generate() -> Result<Self, AuthResponseError> {
        let mut salt = [0u8; 16];
        let mut iv = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|_| AuthResponseError::Randomness)?;
        getrandom::fill(&mut iv).map_err(|_| AuthResponseError::Randomness)?;
        Ok(ResponseRandomness {
            jti: random_uuid()?,
            profile_jti: random_uuid()?,
            association_salt: salt,
            ephemeral: PrivateKey::random().map_err(|_| AuthResponseError::Randomness)?,
            iv,
        })
    }
}

/// A random UUIDv4 string.
pub fn random_uuid() -> Result<String, AuthResponseError> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|_| AuthResponseError::Randomness)?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = to_hex(&b);
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    ))
}

/// What the authenticator knows about the user's hub and profile at sign-in.
#[derive(Debug, Clone, Default)]
pub struct ResponseContext {
    /// The hub's write URL (`hubUrl`).
    pub hub_url: String,
    /// The hub's `read_url_prefix`; `None` when the hub did not answer (then
    /// `profile_url` is null and nothing is published).
    pub read_url_prefix: Option<String>,
    /// The profile claim currently stored in the identity's `profile.json`, if any.
    pub stored_profile: Option<Value>,
    /// The user's email, sent only when the app asked for the `email` scope.
    pub email: Option<String>,
    /// Current time in ms since the epoch.
    pub now_ms: i64,
}

/// A built sign-in: the response token and what the caller must still do.
#[derive(Debug, Clone)]
pub struct SignIn {
    /// The authResponse JWT.
    pub token: String,
    /// The app's private key (derived from the request's `domain_name`).
    pub app_private_key: PrivateKey,
    /// The profile claim after this sign-in (with `apps` entries if published).
    pub profile: Value,
    /// The `profile.json` body to upload to the identity bucket, when `publish_data`
    /// was asked and the hub answered.
    pub profile_file: Option<String>,
}

impl SignIn {
    /// `redirect_uri` with `authResponse=<token>` set, as `updateQueryStringParameter`
    /// does: replaces an existing parameter, no URL-encoding (a JWT is URL-safe).
    pub fn redirect_url(&self, redirect_uri: &str) -> String {
        update_query_parameter(redirect_uri, "authResponse", &self.token)
    }
}

/// Sets `key=value` in a URL's query, keeping any fragment at the end.
pub fn update_query_parameter(uri: &str, key: &str, value: &str) -> String {
    let (base, fragment) = match uri.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (uri, None),
    };
    let (path, query) = match base.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (base, None),
    };
    let mut params: Vec<String> = query
        .map(|q| {
            q.split('&')
                .filter(|kv| !kv.is_empty() && kv.split('=').next() != Some(key))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    params.push(format!("{key}={value}"));
    let mut out = format!("{path}?{}", params.join("&"));
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

/// Builds the authResponse for a verified request (PROTOCOL.md §c), signed by
/// identity `identity_index`'s key, with the app key encrypted to the transit key and
/// an association token for the app key.
pub fn make_auth_response(
    keychain: &Keychain,
    identity_index: u32,
    request: &AuthRequest,
    ctx: &ResponseContext,
    rnd: &ResponseRandomness,
) -> Result<SignIn, AuthResponseError> {
    bulk::now(|b| make_auth_response_async(b, keychain, identity_index, request, ctx, rnd))
}

/// [`make_auth_response`] with the app key's encryption (AES, HMAC) run by `bulk`.
pub async fn make_auth_response_async(
    bulk: &impl Bulk,
    keychain: &Keychain,
    identity_index: u32,
    request: &AuthRequest,
    ctx: &ResponseContext,
    rnd: &ResponseRandomness,
) -> Result<SignIn, AuthResponseError> {
    let identity = keychain
        .identity(identity_index)
        .map_err(AuthResponseError::Keychain)?;
    let app_key = keychain
        .app_private_key(identity_index, &request.domain_name)
        .map_err(AuthResponseError::Keychain)?;
    let app_pub = app_key.public_key();
    let stx = keychain
        .stx_key(identity_index)
        .map_err(AuthResponseError::Keychain)?;

    let mut profile = ctx
        .stored_profile
        .clone()
        .filter(Value::is_object)
        .unwrap_or_else(default_profile);
    let mut profile_file = None;
    if let Some(prefix) = &ctx.read_url_prefix
        && request.has_scope(&Scope::PublishData)
    {
        let bucket_url = format!("{prefix}{}/", app_pub.address());
        add_app_entry(
            &mut profile,
            &request.domain_name,
            &bucket_url,
            &app_pub.to_hex(),
        );
        let token = sign_profile_token(&profile, &stx, ctx.now_ms, &rnd.profile_jti);
        profile_file = Some(profile_file_body(&token));
    }
    let mut response_profile = profile.clone();
    if let Some(obj) = response_profile.as_object_mut() {
        obj.insert(
            "stxAddress".into(),
            json!({
                "testnet": keychain.stx_address(identity_index, false).map_err(AuthResponseError::Keychain)?,
                "mainnet": keychain.stx_address(identity_index, true).map_err(AuthResponseError::Keychain)?,
            }),
        );
    }

    let email = request
        .has_scope(&Scope::Email)
        .then(|| ctx.email.clone())
        .flatten();
    let profile_url = ctx
        .read_url_prefix
        .as_ref()
        .map(|p| format!("{p}{}/profile.json", identity.address));
    let association = make_association_token(
        &identity.key,
        &app_pub,
        u64::try_from(ctx.now_ms).unwrap_or(0),
        Some(rnd.association_salt),
    );
    let private_key = ecies::encrypt_private_key_with_async(
        bulk,
        &request.transit_public_key,
        &app_key,
        &rnd.ephemeral,
        rnd.iv,
    )
    .await
    .map_err(AuthResponseError::Encrypt)?;

    let mut p = Map::new();
    p.insert("jti".into(), rnd.jti.as_str().into());
    p.insert("iat".into(), (ctx.now_ms.div_euclid(1000)).into());
    p.insert(
        "exp".into(),
        (next_month_ms(ctx.now_ms).div_euclid(1000)).into(),
    );
    p.insert("iss".into(), identity.did().into());
    p.insert("private_key".into(), private_key.into());
    p.insert("public_keys".into(), json!([identity.public_key.to_hex()]));
    p.insert("appPrivateKeyFromWalletSalt".into(), Value::Null);
    p.insert("profile".into(), response_profile);
    p.insert("core_token".into(), Value::Null);
    p.insert(
        "email".into(),
        email.map(Value::String).unwrap_or(Value::Null),
    );
    p.insert(
        "profile_url".into(),
        profile_url.map(Value::String).unwrap_or(Value::Null),
    );
    p.insert("hubUrl".into(), ctx.hub_url.as_str().into());
    p.insert("blockstackAPIUrl".into(), Value::Null);
    p.insert("associationToken".into(), association.into());
    p.insert("version".into(), AUTH_RESPONSE_VERSION.into());
    // Binding for servers (response_verify): the libraries ignore both claims.
    p.insert("aud".into(), request.domain_name.as_str().into());
    if let Some(nonce) = request.payload.get("nonce").and_then(Value::as_str) {
        p.insert("nonce".into(), nonce.into());
    }
    let token = jwt::sign(&Value::Object(p), &identity.key);
    Ok(SignIn {
        token,
        app_private_key: app_key,
        profile,
        profile_file,
    })
}

/// Options for an app building an authRequest (`makeAuthRequest`).
#[derive(Debug, Clone, Default)]
pub struct AuthRequestOptions {
    /// The app's origin.
    pub domain_name: String,
    /// Where the authenticator returns; default `<origin>/`.
    pub redirect_uri: Option<String>,
    /// The app manifest; default `<origin>/manifest.json`.
    pub manifest_uri: Option<String>,
    /// Scopes; default `["store_write"]`.
    pub scopes: Vec<String>,
    /// App name for `appDetails` (Connect style).
    pub app_name: Option<String>,
    /// App icon URL for `appDetails`.
    pub app_icon: Option<String>,
    /// Expiry in ms; default one month after `now_ms`.
    pub expires_at_ms: Option<i64>,
    /// Current time in ms.
    pub now_ms: i64,
    /// `jti`; random when `None`.
    pub jti: Option<String>,
    /// A server's nonce, sent as an extra `nonce` claim; Cairn's authenticator echoes
    /// it in the response so the server can check it (`response_verify`).
    pub nonce: Option<String>,
}

/// Builds an authRequest as `@stacks/auth` `makeAuthRequestToken` does, signed by the
/// app's transit key.
pub fn make_auth_request(
    transit: &PrivateKey,
    opts: &AuthRequestOptions,
) -> Result<String, AuthRequestError> {
    let domain = opts.domain_name.as_str();
    validate_app_domain(domain).map_err(domain_error)?;
    let mut p = Map::new();
    if opts.app_name.is_some() || opts.app_icon.is_some() {
        p.insert(
            "appDetails".into(),
            json!({
                "name": opts.app_name.clone().unwrap_or_default(),
                "icon": opts.app_icon.clone().unwrap_or_default(),
            }),
        );
    }
    let jti = match &opts.jti {
        Some(j) => j.clone(),
        None => random_uuid().map_err(|_| AuthRequestError::Empty)?,
    };
    let pubkey = transit.public_key();
    p.insert("jti".into(), jti.into());
    p.insert("iat".into(), opts.now_ms.div_euclid(1000).into());
    p.insert(
        "exp".into(),
        opts.expires_at_ms
            .unwrap_or_else(|| next_month_ms(opts.now_ms))
            .div_euclid(1000)
            .into(),
    );
    p.insert(
        "iss".into(),
        format!("did:btc-addr:{}", pubkey.address()).into(),
    );
    p.insert("public_keys".into(), json!([pubkey.to_hex()]));
    p.insert("domain_name".into(), domain.into());
    p.insert(
        "manifest_uri".into(),
        opts.manifest_uri
            .clone()
            .unwrap_or_else(|| format!("{domain}/manifest.json"))
            .into(),
    );
    p.insert(
        "redirect_uri".into(),
        opts.redirect_uri
            .clone()
            .unwrap_or_else(|| format!("{domain}/"))
            .into(),
    );
    p.insert("version".into(), AUTH_RESPONSE_VERSION.into());
    p.insert("do_not_include_profile".into(), true.into());
    p.insert("supports_hub_url".into(), true.into());
    let scopes = if opts.scopes.is_empty() {
        vec!["store_write".to_string()]
    } else {
        opts.scopes.clone()
    };
    for s in &scopes {
        Scope::parse(s)?;
    }
    p.insert("scopes".into(), json!(scopes));
    p.insert_opt("nonce", opts.nonce.as_deref());
    Ok(jwt::sign(&Value::Object(p), transit))
}

/// What an app learns from a verified authResponse.
#[derive(Debug, Clone)]
pub struct SignedInUser {
    /// The app's private key, decrypted with the transit key.
    pub app_private_key: PrivateKey,
    /// The identity address from the DID.
    pub identity_address: String,
    /// The user's hub write URL.
    pub hub_url: String,
    /// The Gaia association token, if any.
    pub association_token: Option<String>,
    /// The profile object, if any.
    pub profile: Value,
    /// The profile URL, if any.
    pub profile_url: Option<String>,
    /// The email, if shared.
    pub email: Option<String>,
    /// The response's `version`.
    pub version: Option<String>,
    /// The full payload.
    pub payload: Map<String, Value>,
}

/// The app side: verifies an authResponse (`verifyAuthResponse`: times, one signing
/// key, issuer) and decrypts the app key with the transit key.
pub fn handle_auth_response(
    token: &str,
    transit: &PrivateKey,
    now_ms: i64,
) -> Result<SignedInUser, AuthResponseError> {
    let invalid = AuthResponseError::Invalid;
    if token.len() > jwt::MAX_TOKEN_LEN {
        return Err(invalid(AuthRequestError::TooLarge { len: token.len() }));
    }
    let decoded = jwt::decode(token).map_err(|e| invalid(AuthRequestError::Malformed(e)))?;
    match decoded.alg() {
        Some("ES256K") => {}
        Some(a) if a.eq_ignore_ascii_case("none") => {
            return Err(invalid(AuthRequestError::Unsigned));
        }
        other => {
            return Err(invalid(AuthRequestError::WrongAlgorithm(
                other.unwrap_or_default().to_string(),
            )));
        }
    }
    check_times(&decoded.payload, now_ms).map_err(invalid)?;
    check_signer(&decoded).map_err(invalid)?;
    let p = &decoded.payload;
    let field = |k: &'static str| p.get(k).and_then(Value::as_str).map(str::to_string);
    let iss = field("iss").ok_or(AuthResponseError::MissingField("iss"))?;
    let identity_address = address_from_did(&iss)
        .ok_or(invalid(AuthRequestError::BadIssuer))?
        .to_string();
    let encrypted = field("private_key").ok_or(AuthResponseError::MissingField("private_key"))?;
    let app_private_key =
        ecies::decrypt_private_key(transit, &encrypted).map_err(AuthResponseError::PrivateKey)?;
    Ok(SignedInUser {
        app_private_key,
        identity_address,
        hub_url: field("hubUrl").unwrap_or_else(|| "https://hub.blockstack.org".into()),
        association_token: field("associationToken"),
        profile: p.get("profile").cloned().unwrap_or(Value::Null),
        profile_url: field("profile_url"),
        email: field("email"),
        version: field("version"),
        payload: decoded.payload.clone(),
    })
}
