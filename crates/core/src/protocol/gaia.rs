//! Gaia protocol pieces that need no I/O (PROTOCOL.md §g, GAIA_HUB.md): challenge text,
//! v1 auth tokens with optional scopes, `iat` and `exp`, association tokens, hub
//! configurations and read URLs.

use crate::json;
use crate::keys::{PrivateKey, PublicKey};
use crate::protocol::jwt::{self, js_seconds};
use crate::support::encoding::to_hex;
use crate::support::json;
use crate::support::json::{Fields, Map, Value};

/// The six scope names the real hub recognises.
pub const SCOPE_NAMES: [&str; 6] = [
    "putFile",
    "putFilePrefix",
    "deleteFile",
    "deleteFilePrefix",
    "putFileArchival",
    "putFileArchivalPrefix",
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
}

/// One scope entry of a v1 token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// One of [`SCOPE_NAMES`].
    pub scope: String,
    /// The path or path prefix it covers.
    pub domain: String,
}

impl Scope {
    /// Builds a scope entry.
    pub fn new(scope: &str, domain: &str) -> Self {
        Scope {
            scope: scope.into(),
            domain: domain.into(),
        }
    }

    /// `{"scope":…,"domain":…}`.
    pub fn to_value(&self) -> Value {
        json!({"scope": self.scope.as_str(), "domain": self.domain.as_str()})
    }
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
                scopes: vec![Scope::new("putFileArchivalPrefix", "collection")],
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
}
