//! authResponse verification for servers: proof of who signed in, without any power
//! to act for them.
//!
//! An app may send the authResponse it received to its server. [`verify_sign_in_response`]
//! makes every check `@stacks/auth`'s `verifyAuthResponse` makes that needs no network
//! (one public key that signed the token, `iss` = `did:btc-addr:` of that key, expiry,
//! issue time) and never touches `private_key`: the app key in it is encrypted to the
//! browser's transit key, which the server does not have, so the server learns the
//! identity address, its public key, the hub and profile URLs — and cannot sign, decrypt
//! or write anything for the user.
//!
//! Replay: a response by itself is bound to nothing. Cairn's authenticator adds two
//! claims the libraries ignore: `aud` (the requesting app's origin, its `domain_name`)
//! and `nonce` (copied from a `nonce` claim of the authRequest). When the server passes
//! its `app_domain` and the `nonce` it issued, they are checked, and a response without
//! them is refused as "not bound to this server".

use crate::keys::PublicKey;
use crate::protocol::auth::{address_from_did, check_signer, time_claim};
use crate::protocol::jwt::{self, JwtError};
use crate::support::encoding::quoted;
use crate::support::http_url::HttpUrl;
use crate::support::json::{Fields, Map, Value};
use std::fmt;

/// Tokens longer than this (64 KiB) are refused unread.
pub const MAX_RESPONSE_LEN: usize = 64 * 1024;

/// What the server expects of an authResponse.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResponseCheck {
    /// The app's origin (e.g. `https://app.example.com`): `aud` must be it. `None`
    /// skips the check (the response can then be replayed to this server).
    pub app_domain: Option<String>,
    /// The nonce the server issued (placed in the authRequest's `nonce` claim): the
    /// response's `nonce` must be it. `None` skips the check.
    pub nonce: Option<String>,
    /// Now, in milliseconds since the epoch.
    pub now_ms: i64,
    /// Allowed clock difference for `iat`, in ms (the libraries allow none; a server
    /// compares with the user's clock, so [`crate::protocol::sign_in_with_stacks::DEFAULT_SKEW_MS`]
    /// is a good value).
    pub skew_ms: i64,
}

/// What a verified authResponse proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedResponse {
    /// The identity address (from `iss`, proven by the signature).
    pub identity_address: String,
    /// The identity's public key that signed the response.
    pub public_key: PublicKey,
    /// The user's Gaia hub (`hubUrl`; `https://hub.blockstack.org` when absent, as the
    /// libraries default).
    pub hub_url: String,
    /// The user's profile URL, if given.
    pub profile_url: Option<String>,
    /// When the response expires (`exp`, in ms), if it does.
    pub expires_at_ms: Option<i64>,
    /// The `aud` claim, if present.
    pub audience: Option<String>,
    /// The `nonce` claim, if present.
    pub nonce: Option<String>,
}

/// Why an authResponse was refused. [`Self::kind`] gives a stable name.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ResponseVerifyError {
    /// Empty input.
    Empty,
    /// Longer than [`MAX_RESPONSE_LEN`].
    TooLarge {
        /// Its length in bytes.
        len: usize,
    },
    /// Not a JWT of base64url JSON.
    Malformed(JwtError),
    /// `alg: none`.
    Unsigned,
    /// Not ES256K.
    WrongAlgorithm(String),
    /// `exp` or `iat` is not a number.
    TimeNotNumber(&'static str),
    /// `exp` has passed.
    Expired,
    /// `iat` is after now plus the skew.
    IssuedInFuture,
    /// `public_keys` missing or empty.
    MissingPublicKey,
    /// More than one public key.
    MultiplePublicKeys,
    /// A public key that is not a secp256k1 point.
    BadPublicKey,
    /// The signature does not match the public key.
    BadSignature,
    /// `iss` is not a `did:btc-addr:` DID.
    BadIssuer,
    /// `iss` names another address than the public key's.
    IssuerMismatch,
    /// A required claim is missing.
    MissingField(&'static str),
    /// The response has no `aud` or `nonce` claim to check: it is not bound to this
    /// server (made by an authenticator that does not add them, or for a request
    /// without a nonce).
    NotBound(&'static str),
    /// `aud` is another origin than the server's app.
    AudienceMismatch {
        /// The app domain the server expects.
        expected: String,
        /// The response's `aud`.
        found: String,
    },
    /// `nonce` is not the one the server issued.
    NonceMismatch,
}

impl ResponseVerifyError {
    /// A stable identifier for the failed check.
    pub fn kind(&self) -> &'static str {
        use ResponseVerifyError::*;
        match self {
            Empty => "empty",
            TooLarge { .. } => "too_large",
            Malformed(_) => "malformed",
            Unsigned => "unsigned",
            WrongAlgorithm(_) => "wrong_algorithm",
            TimeNotNumber(_) => "time_not_number",
            Expired => "expired",
            IssuedInFuture => "issued_in_future",
            MissingPublicKey => "missing_public_key",
            MultiplePublicKeys => "multiple_public_keys",
            BadPublicKey => "bad_public_key",
            BadSignature => "bad_signature",
            BadIssuer => "bad_issuer",
            IssuerMismatch => "issuer_mismatch",
            MissingField(_) => "missing_field",
            NotBound(_) => "not_bound",
            AudienceMismatch { .. } => "audience_mismatch",
            NonceMismatch => "nonce_mismatch",
        }
    }
}

impl fmt::Display for ResponseVerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ResponseVerifyError::*;
        match self {
            Empty => f.write_str("the authResponse is empty"),
            TooLarge { len } => write!(
                f,
                "the authResponse is too large ({len} bytes; the limit is {MAX_RESPONSE_LEN})"
            ),
            Malformed(e) => write!(f, "the authResponse is not readable: {e}"),
            Unsigned => f.write_str("the authResponse is not signed (alg \"none\")"),
            WrongAlgorithm(a) => write!(
                f,
                "the authResponse uses the algorithm {}; only ES256K is accepted",
                quoted(a)
            ),
            TimeNotNumber(claim) => write!(f, "the authResponse's {claim} is not a number"),
            Expired => f.write_str("the authResponse has expired; sign in again"),
            IssuedInFuture => {
                f.write_str("the authResponse claims to be issued in the future; check the clocks")
            }
            MissingPublicKey => f.write_str("the authResponse carries no public key"),
            MultiplePublicKeys => {
                f.write_str("the authResponse carries several public keys; only one is supported")
            }
            BadPublicKey => f.write_str("the authResponse's public key is invalid"),
            BadSignature => f.write_str(
                "the authResponse's signature does not match its key: it was altered or forged",
            ),
            BadIssuer => {
                f.write_str("the authResponse's issuer (iss) is not a did:btc-addr identifier")
            }
            IssuerMismatch => {
                f.write_str("the authResponse's issuer (iss) does not match its public key")
            }
            MissingField(k) => write!(f, "the authResponse has no {k}"),
            NotBound(claim) => write!(
                f,
                "the authResponse is not bound to this server: it has no `{claim}` claim (it could be a response made for another app or an earlier sign-in, replayed)"
            ),
            AudienceMismatch { expected, found } => write!(
                f,
                "the authResponse was made for {}, not {}",
                quoted(found),
                quoted(expected)
            ),
            NonceMismatch => f.write_str(
                "the authResponse's nonce is not the one this server issued: it may be a replay",
            ),
        }
    }
}

impl std::error::Error for ResponseVerifyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ResponseVerifyError::Malformed(e) => Some(e),
            _ => None,
        }
    }
}

fn from_signer_error(e: crate::protocol::auth::AuthRequestError) -> ResponseVerifyError {
    use crate::protocol::auth::AuthRequestError as A;
    match e {
        A::MissingPublicKey => ResponseVerifyError::MissingPublicKey,
        A::MultiplePublicKeys => ResponseVerifyError::MultiplePublicKeys,
        A::BadPublicKey => ResponseVerifyError::BadPublicKey,
        A::BadIssuer => ResponseVerifyError::BadIssuer,
        A::IssuerMismatch => ResponseVerifyError::IssuerMismatch,
        A::MissingField(k) => ResponseVerifyError::MissingField(k),
        _ => ResponseVerifyError::BadSignature,
    }
}

fn same_origin(a: &str, b: &str) -> bool {
    match (HttpUrl::parse(a), HttpUrl::parse(b)) {
        (Ok(x), Ok(y)) => x.same_origin(&y),
        _ => a == b,
    }
}

/// Verifies an authResponse for a server (see the module docs). `private_key` is never
/// read.
pub fn verify_sign_in_response(
    token: &str,
    check: &ResponseCheck,
) -> Result<VerifiedResponse, ResponseVerifyError> {
    let token = token.trim();
    if token.is_empty() {
        return Err(ResponseVerifyError::Empty);
    }
    if token.len() > MAX_RESPONSE_LEN {
        return Err(ResponseVerifyError::TooLarge { len: token.len() });
    }
    let decoded = jwt::decode(token).map_err(ResponseVerifyError::Malformed)?;
    match decoded.alg() {
        Some("ES256K") => {}
        Some(a) if a.eq_ignore_ascii_case("none") => return Err(ResponseVerifyError::Unsigned),
        other => {
            return Err(ResponseVerifyError::WrongAlgorithm(
                other.unwrap_or_default().to_string(),
            ));
        }
    }
    let p = &decoded.payload;
    let now = check.now_ms as f64;
    let exp = time_claim(p, "exp").map_err(|_| ResponseVerifyError::TimeNotNumber("exp"))?;
    if exp.is_some_and(|exp| now > exp * 1000.0) {
        return Err(ResponseVerifyError::Expired);
    }
    let iat = time_claim(p, "iat").map_err(|_| ResponseVerifyError::TimeNotNumber("iat"))?;
    let skew = check.skew_ms.max(0) as f64;
    if iat.is_some_and(|iat| now + skew < iat * 1000.0) {
        return Err(ResponseVerifyError::IssuedInFuture);
    }
    let public_key = check_signer(&decoded).map_err(from_signer_error)?;
    let text = |k: &str| p.get(k).and_then(Value::as_str).map(str::to_string);
    let iss = text("iss").ok_or(ResponseVerifyError::MissingField("iss"))?;
    let identity_address = address_from_did(&iss)
        .ok_or(ResponseVerifyError::BadIssuer)?
        .to_string();
    let audience = text("aud");
    let nonce = text("nonce");
    if let Some(expected) = &check.app_domain {
        let found = audience
            .as_deref()
            .ok_or(ResponseVerifyError::NotBound("aud"))?;
        if !same_origin(expected, found) {
            return Err(ResponseVerifyError::AudienceMismatch {
                expected: expected.clone(),
                found: found.to_string(),
            });
        }
    }
    if let Some(expected) = &check.nonce {
        let found = nonce
            .as_deref()
            .ok_or(ResponseVerifyError::NotBound("nonce"))?;
        if !bool::from(subtle::ConstantTimeEq::ct_eq(
            found.as_bytes(),
            expected.as_bytes(),
        )) {
            return Err(ResponseVerifyError::NonceMismatch);
        }
    }
    Ok(VerifiedResponse {
        identity_address,
        public_key,
        hub_url: text("hubUrl").unwrap_or_else(|| "https://hub.blockstack.org".into()),
        profile_url: text("profile_url"),
        expires_at_ms: exp.map(|e| (e * 1000.0) as i64),
        audience,
        nonce,
    })
}

impl ResponseCheck {
    /// Reads `{appDomain?, nonce?, now?, skewMs?}`; `now` (ms) falls back to
    /// `default_now_ms`, `skewMs` to 5 minutes.
    pub fn from_json(value: &Value, default_now_ms: i64) -> Result<ResponseCheck, String> {
        let f = Fields::of(value, "the authResponse verification options")
            .map_err(|e| e.to_string())?;
        let err = |e: crate::support::json::FieldError| e.to_string();
        Ok(ResponseCheck {
            app_domain: f.opt_str("appDomain").map_err(err)?.map(str::to_string),
            nonce: f.opt_str("nonce").map_err(err)?.map(str::to_string),
            now_ms: f
                .opt("now", "a whole number of milliseconds", Value::as_i64)
                .map_err(err)?
                .unwrap_or(default_now_ms),
            skew_ms: f
                .opt("skewMs", "a whole number of milliseconds", Value::as_i64)
                .map_err(err)?
                .unwrap_or(crate::protocol::sign_in_with_stacks::DEFAULT_SKEW_MS),
        })
    }
}

impl VerifiedResponse {
    /// `{identityAddress, publicKey, hubUrl, profileUrl, expiresAt, audience, nonce}`
    /// (absent values as `null`; `expiresAt` in ms).
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert(
            "identityAddress".into(),
            self.identity_address.as_str().into(),
        );
        m.insert("publicKey".into(), self.public_key.to_hex().into());
        m.insert("hubUrl".into(), self.hub_url.as_str().into());
        let opt = |v: &Option<String>| v.as_deref().map_or(Value::Null, Value::from);
        m.insert("profileUrl".into(), opt(&self.profile_url));
        m.insert(
            "expiresAt".into(),
            self.expires_at_ms.map_or(Value::Null, Value::from),
        );
        m.insert("audience".into(), opt(&self.audience));
        m.insert("nonce".into(), opt(&self.nonce));
        Value::Object(m)
    }
}
