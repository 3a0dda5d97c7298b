//! v1 token validation and scopes, step for step as the real hub's
//! `V1Authentication` (GAIA_HUB.md §4–§5). Pure: the caller passes the revocation
//! timestamp and the current time.
//!
//! Legacy (pre-v1) tokens are not implemented; this hub announces
//! `latest_auth_version: "v1"`, so clients never send them.

use cairn_core::keys::PublicKey;
use cairn_core::protocol::gaia::{
    ScopeKind, challenge_text, challenge_text_for_year, token_scopes,
};
use cairn_core::protocol::jwt::{self, DecodedToken};
use cairn_core::support::js::{self, truthy as js_truthy};
use cairn_core::support::json::{self, Map, Value};
use std::fmt;

/// Longest `Authorization` header value looked at.
pub const MAX_HEADER_LEN: usize = 64 * 1024;

const PARSE_FAILURE: &str = "Failed to parse authentication header.";

/// Why a request was not authorized. Every variant is a 401.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthError {
    /// `ValidationError` with the real hub's message.
    Validation(String),
    /// `AuthTokenTimestampValidationError`: `iat` missing or older than the bucket's
    /// revocation timestamp.
    Timestamp(String),
}

impl AuthError {
    /// The error name the real hub puts in `"error"`.
    pub fn name(&self) -> &'static str {
        match self {
            AuthError::Validation(_) => "ValidationError",
            AuthError::Timestamp(_) => "AuthTokenTimestampValidationError",
        }
    }

    /// The message for `"message"`.
    pub fn message(&self) -> &str {
        match self {
            AuthError::Validation(m) | AuthError::Timestamp(m) => m,
        }
    }

    fn parse() -> Self {
        AuthError::Validation(PARSE_FAILURE.to_string())
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name(), self.message())
    }
}

impl std::error::Error for AuthError {}

/// Hub settings that token validation depends on.
#[derive(Debug, Clone, Default)]
pub struct AuthPolicy {
    /// `serverName`, which goes into the challenge text.
    pub server_name: String,
    /// Enforce the token's `hubUrl`.
    pub require_correct_hub_url: bool,
    /// Accepted `hubUrl` values besides `https://<server_name>`.
    pub valid_hub_urls: Vec<String>,
    /// Signing addresses allowed to write; `None` is an open hub.
    pub whitelist: Option<Vec<String>>,
}

impl AuthPolicy {
    /// The three accepted challenge texts (`0`, `2018`, `2019`).
    pub fn challenge_texts(&self) -> [String; 3] {
        [
            challenge_text(&self.server_name),
            challenge_text_for_year("2018", &self.server_name),
            challenge_text_for_year("2019", &self.server_name),
        ]
    }

    fn hub_urls(&self) -> Vec<String> {
        let mut urls = self.valid_hub_urls.clone();
        let own = format!("https://{}", self.server_name);
        if !urls.contains(&own) {
            urls.push(own);
        }
        urls
    }
}

/// Scope restrictions of a token, split by [`ScopeKind`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scopes {
    /// `putFilePrefix` domains.
    pub write_prefixes: Vec<String>,
    /// `putFile` domains.
    pub write_paths: Vec<String>,
    /// `deleteFilePrefix` domains.
    pub delete_prefixes: Vec<String>,
    /// `deleteFile` domains.
    pub delete_paths: Vec<String>,
    /// `putFileArchivalPrefix` domains.
    pub archival_prefixes: Vec<String>,
    /// `putFileArchival` domains.
    pub archival_paths: Vec<String>,
}

fn matches(prefixes: &[String], paths: &[String], path: &str) -> bool {
    prefixes
        .iter()
        .any(|p| ScopeKind::PutFilePrefix.covers(p, path))
        || paths.iter().any(|p| ScopeKind::PutFile.covers(p, path))
}

impl Scopes {
    /// The scopes of the given kinds and domains (as [`token_scopes`] reads them).
    pub fn from_kinds(scopes: impl IntoIterator<Item = (ScopeKind, String)>) -> Scopes {
        let mut s = Scopes::default();
        for (kind, domain) in scopes {
            s.domains_mut(kind).push(domain);
        }
        s
    }

    /// The list that holds the domains of `kind`.
    pub fn domains_mut(&mut self, kind: ScopeKind) -> &mut Vec<String> {
        match kind {
            ScopeKind::PutFile => &mut self.write_paths,
            ScopeKind::PutFilePrefix => &mut self.write_prefixes,
            ScopeKind::DeleteFile => &mut self.delete_paths,
            ScopeKind::DeleteFilePrefix => &mut self.delete_prefixes,
            ScopeKind::PutFileArchival => &mut self.archival_paths,
            ScopeKind::PutFileArchivalPrefix => &mut self.archival_prefixes,
        }
    }

    /// A token with any `putFileArchival*` scope is archival-restricted: its stores and
    /// deletes keep the old version, and its listings hide history files.
    pub fn is_archival_restricted(&self) -> bool {
        !self.archival_prefixes.is_empty() || !self.archival_paths.is_empty()
    }

    /// The archival check run before every store and delete. Returns whether the
    /// token is archival-restricted.
    pub fn check_archival(&self, address: &str, path: &str) -> Result<bool, AuthError> {
        if !self.is_archival_restricted() {
            return Ok(false);
        }
        if matches(&self.archival_prefixes, &self.archival_paths, path) {
            Ok(true)
        } else {
            Err(AuthError::Validation(format!(
                "Address {address} not authorized to modify {path} by scopes"
            )))
        }
    }

    /// The `putFile*` check for stores (unrestricted when there are no such scopes).
    pub fn check_write(&self, address: &str, path: &str) -> Result<(), AuthError> {
        if self.write_prefixes.is_empty() && self.write_paths.is_empty() {
            return Ok(());
        }
        if matches(&self.write_prefixes, &self.write_paths, path) {
            Ok(())
        } else {
            Err(AuthError::Validation(format!(
                "Address {address} not authorized to write to {path} by scopes"
            )))
        }
    }

    /// The `deleteFile*` check for deletes (unrestricted when there are no such scopes).
    pub fn check_delete(&self, address: &str, path: &str) -> Result<(), AuthError> {
        if self.delete_prefixes.is_empty() && self.delete_paths.is_empty() {
            return Ok(());
        }
        if matches(&self.delete_prefixes, &self.delete_paths, path) {
            Ok(())
        } else {
            Err(AuthError::Validation(format!(
                "Address {address} not authorized to delete from {path} by scopes"
            )))
        }
    }
}

/// A parsed (not yet verified) `Authorization: bearer v1:<jwt>` header.
#[derive(Debug, Clone)]
pub struct V1Auth {
    token: DecodedToken,
    /// The token's scopes.
    pub scopes: Scopes,
}

/// JS `String(value)` for JSON values (`undefined` for a missing one):
/// [`cairn_core::support::js::string`].
pub fn js_string(value: Option<&Value>) -> String {
    js::string(value)
}

/// The token's scopes ([`token_scopes`]); any problem is the generic parse failure,
/// as on the real hub.
fn parse_scopes(payload: &Map<String, Value>) -> Result<Scopes, AuthError> {
    token_scopes(payload)
        .map(Scopes::from_kinds)
        .map_err(|_| AuthError::parse())
}

/// Parses the header as `parseAuthHeader` + `V1Authentication.fromAuthPart` do: the
/// lower-cased value must start with `bearer`, the first 7 characters are dropped, the
/// rest must be `v1:<jwt>` with an `iss` claim and valid scopes. Every failure is the
/// generic 401 "Failed to parse authentication header."
pub fn parse_header(header: Option<&str>) -> Result<V1Auth, AuthError> {
    let header = header.ok_or_else(AuthError::parse)?;
    if header.len() > MAX_HEADER_LEN {
        return Err(AuthError::parse());
    }
    let lower_ok = header
        .get(..6)
        .is_some_and(|p| p.eq_ignore_ascii_case("bearer"));
    if !lower_ok {
        return Err(AuthError::parse());
    }
    let auth_part = header.get(7..).ok_or_else(AuthError::parse)?;
    let token = auth_part.strip_prefix("v1:").ok_or_else(AuthError::parse)?;
    let token = jwt::decode(token).map_err(|_| AuthError::parse())?;
    if !js_truthy(token.payload.get("iss")) {
        return Err(AuthError::parse());
    }
    let scopes = parse_scopes(&token.payload)?;
    Ok(V1Auth { token, scopes })
}

fn address_of(hex: Option<&Value>) -> Option<String> {
    let Some(Value::String(s)) = hex else {
        return None;
    };
    PublicKey::from_hex(s).ok().map(|k| k.address())
}

impl V1Auth {
    /// The token payload.
    pub fn payload(&self) -> &Map<String, Value> {
        &self.token.payload
    }

    /// `isAuthenticationValid` + the whitelist check. `oldest_valid_timestamp` is the
    /// bucket's revocation timestamp (0: never revoked); `now_s` is the current time in
    /// seconds. Returns the signing address (the association token's issuer, if any).
    pub fn validate(
        &self,
        address: &str,
        policy: &AuthPolicy,
        oldest_valid_timestamp: u64,
        now_s: f64,
    ) -> Result<String, AuthError> {
        let p = &self.token.payload;

        // 2. Revocation.
        if oldest_valid_timestamp > 0 {
            let iat = p.get("iat");
            if !js_truthy(iat) {
                return Err(AuthError::Timestamp(format!(
                    "Gaia bucket requires auth token issued after {oldest_valid_timestamp} but \
                     this token has no creation timestamp. This token may have been revoked by the user."
                )));
            }
            let too_old = match js::number(iat) {
                Some(x) => x < oldest_valid_timestamp as f64,
                // Not a number: stricter than JS (which would let it through).
                None => true,
            };
            if too_old {
                return Err(AuthError::Timestamp(format!(
                    "Gaia bucket requires auth token issued after {oldest_valid_timestamp} but \
                     this token was issued {}. This token may have been revoked by the user.",
                    js_string(iat)
                )));
            }
        }

        // 3. Bucket address from the (compressed) issuer key.
        let Some(issuer_address) = address_of(p.get("iss")) else {
            return Err(AuthError::Validation(
                "Failed to verify supplied authentication JWT".into(),
            ));
        };
        if issuer_address != address {
            return Err(AuthError::Validation(
                "Address not allowed to write on this path".into(),
            ));
        }

        // 4. Claimed hub URL.
        if policy.require_correct_hub_url {
            let claimed = match p.get("hubUrl") {
                Some(Value::String(s)) if !s.is_empty() => s.as_str(),
                _ => {
                    return Err(AuthError::Validation(
                        "Authentication must provide a claimed hub. You may need to update stacks.js."
                            .into(),
                    ));
                }
            };
            let claimed = claimed.strip_suffix('/').unwrap_or(claimed);
            let urls = policy.hub_urls();
            if !urls.iter().any(|u| u == claimed) {
                return Err(AuthError::Validation(format!(
                    "Auth token's claimed hub url '{claimed}' not found in this hubs set: {}",
                    json::to_string(&Value::from(urls.clone()))
                )));
            }
        }

        // 6. Signature.
        let Some(Value::String(iss)) = p.get("iss") else {
            return Err(AuthError::Validation(
                "Failed to verify supplied authentication JWT".into(),
            ));
        };
        let verified = PublicKey::from_hex(iss)
            .ok()
            .is_some_and(|k| self.token.verify(&k).is_ok());
        if !verified {
            return Err(AuthError::Validation(
                "Failed to verify supplied authentication JWT".into(),
            ));
        }

        // 7. Challenge text.
        let texts = policy.challenge_texts();
        let challenge_ok =
            matches!(p.get("gaiaChallenge"), Some(Value::String(c)) if texts.contains(c));
        if !challenge_ok {
            return Err(AuthError::Validation(format!(
                "Invalid gaiaChallenge text in supplied JWT: \"{}\" not found in {}",
                js_string(p.get("gaiaChallenge")),
                json::to_string(&Value::from(texts.to_vec()))
            )));
        }

        // 8. Expiry.
        let exp = p.get("exp");
        if js_truthy(exp) && js::number(exp).is_some_and(|e| e < now_s) {
            return Err(AuthError::Validation(format!(
                "Expired authentication token: expire time of {} (secs since epoch)",
                js_string(exp)
            )));
        }

        // 9. Association token.
        let signing_address = if js_truthy(p.get("associationToken")) {
            check_association_token(p.get("associationToken"), address, now_s)?
        } else {
            address.to_string()
        };

        // 10. Whitelist.
        if let Some(list) = &policy.whitelist
            && !list.contains(&signing_address)
        {
            return Err(AuthError::Validation(format!(
                "Address {signing_address} not authorized for writes"
            )));
        }
        Ok(signing_address)
    }
}

/// Checks an association token for `bearer_address` (GAIA_HUB.md §5.4); returns the
/// address of its issuer.
pub fn check_association_token(
    token: Option<&Value>,
    bearer_address: &str,
    now_s: f64,
) -> Result<String, AuthError> {
    let v = |m: &str| AuthError::Validation(m.to_string());
    let Some(Value::String(token)) = token else {
        return Err(v(
            "checkAssociationToken: Failed to decode association token in JWT",
        ));
    };
    let decoded = jwt::decode(token)
        .map_err(|_| v("checkAssociationToken: Failed to decode association token in JWT"))?;
    let p = &decoded.payload;
    if !js_truthy(p.get("iss")) {
        return Err(v("Must provide `iss` claim in association JWT."));
    }
    if !js_truthy(p.get("childToAssociate")) {
        return Err(v(
            "Must provide `childToAssociate` claim in association JWT.",
        ));
    }
    if !js_truthy(p.get("exp")) {
        return Err(v("Must provide `exp` claim in association JWT."));
    }
    let issuer = match p.get("iss") {
        Some(Value::String(s)) => PublicKey::from_hex(s).ok(),
        _ => None,
    };
    let verified = issuer.as_ref().is_some_and(|k| decoded.verify(k).is_ok());
    let Some(issuer) = issuer.filter(|_| verified) else {
        return Err(v("Failed to verify association JWT: invalid issuer"));
    };
    let exp = p.get("exp");
    if js::number(exp).is_some_and(|e| e < now_s) {
        return Err(AuthError::Validation(format!(
            "Expired association token: expire time of {} (secs since epoch)",
            js_string(exp)
        )));
    }
    let child = p.get("childToAssociate");
    if address_of(child).as_deref() != Some(bearer_address) {
        return Err(AuthError::Validation(format!(
            "Association token child key {} does not match {bearer_address}",
            js_string(child)
        )));
    }
    Ok(issuer.address())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_core::keys::PrivateKey;
    use cairn_core::protocol::gaia::{
        Scope, V1TokenOptions, make_association_token, make_v1_token,
    };

    const NOW: f64 = 1_700_000_000.0;

    fn policy() -> AuthPolicy {
        AuthPolicy {
            server_name: "hub.test".into(),
            ..Default::default()
        }
    }

    fn token(key: &PrivateKey, opts: V1TokenOptions) -> String {
        format!(
            "bearer {}",
            make_v1_token(key, &challenge_text("hub.test"), &opts)
        )
    }

    fn ok(header: &str, address: &str, p: &AuthPolicy, ts: u64) -> Result<String, AuthError> {
        parse_header(Some(header))?.validate(address, p, ts, NOW)
    }

    #[test]
    fn plain_token_is_accepted_for_its_own_bucket_only() {
        let k = PrivateKey::random().unwrap();
        let addr = k.public_key().address();
        let h = token(&k, V1TokenOptions::default());
        assert_eq!(ok(&h, &addr, &policy(), 0).unwrap(), addr);
        let other = PrivateKey::random().unwrap().public_key().address();
        assert_eq!(
            ok(&h, &other, &policy(), 0).unwrap_err().message(),
            "Address not allowed to write on this path"
        );
        // Capital B works.
        let cap = h.replacen("bearer", "Bearer", 1);
        assert!(ok(&cap, &addr, &policy(), 0).is_ok());
    }

    #[test]
    fn header_parse_failures() {
        for h in [
            None,
            Some(""),
            Some("basic abc"),
            Some("bearer"),
            Some("bearer v2:abc"),
            Some("bearer legacytoken"),
            Some("bearer v1:not.a.jwt"),
            Some("bearer v1:"),
        ] {
            let e = parse_header(h).unwrap_err();
            assert_eq!(e.message(), PARSE_FAILURE);
            assert_eq!(e.name(), "ValidationError");
        }
    }

    #[test]
    fn scopes_are_validated_at_parse_time() {
        let k = PrivateKey::random().unwrap();
        let nine = vec![Scope::new("putFile", "a"); 9];
        let h = token(
            &k,
            V1TokenOptions {
                scopes: nine,
                ..Default::default()
            },
        );
        assert_eq!(parse_header(Some(&h)).unwrap_err().message(), PARSE_FAILURE);
        let unknown = vec![Scope::new("readFile", "a")];
        let h = token(
            &k,
            V1TokenOptions {
                scopes: unknown,
                ..Default::default()
            },
        );
        assert!(parse_header(Some(&h)).is_err());
        let eight = vec![Scope::new("putFilePrefix", "a"); 8];
        let h = token(
            &k,
            V1TokenOptions {
                scopes: eight,
                ..Default::default()
            },
        );
        assert_eq!(
            parse_header(Some(&h)).unwrap().scopes.write_prefixes.len(),
            8
        );
    }

    #[test]
    fn scope_rules() {
        let s = Scopes {
            write_prefixes: vec!["collection".into()],
            write_paths: vec!["only.txt".into()],
            ..Default::default()
        };
        assert!(s.check_write("A", "collectionsX.txt").is_ok());
        assert!(s.check_write("A", "only.txt").is_ok());
        assert_eq!(
            s.check_write("A", "only.txt.bak").unwrap_err().message(),
            "Address A not authorized to write to only.txt.bak by scopes"
        );
        // No delete scopes: deletes are unrestricted.
        assert!(s.check_delete("A", "anything").is_ok());
        assert_eq!(s.check_archival("A", "x"), Ok(false));

        let a = Scopes {
            archival_prefixes: vec!["collection".into()],
            write_prefixes: vec!["public/".into()],
            ..Default::default()
        };
        assert!(a.is_archival_restricted());
        assert_eq!(
            a.check_archival("A", "public/a.txt").unwrap_err().message(),
            "Address A not authorized to modify public/a.txt by scopes"
        );
        assert_eq!(a.check_archival("A", "collection/m.txt"), Ok(true));
        assert!(a.check_write("A", "collection/m.txt").is_err());

        let d = Scopes {
            delete_paths: vec!["x".into()],
            ..Default::default()
        };
        assert!(d.check_delete("A", "x").is_ok());
        assert_eq!(
            d.check_delete("A", "y").unwrap_err().message(),
            "Address A not authorized to delete from y by scopes"
        );
    }

    fn json_object(text: &str) -> Result<Map<String, Value>, ()> {
        match json::from_str(text) {
            Ok(Value::Object(m)) => Ok(m),
            _ => Err(()),
        }
    }

    #[test]
    fn scope_domains_use_js_string() {
        let payload: Map<String, Value> = json_object(
            r#"{"scopes":[{"scope":"putFile","path":"f0"},{"scope":"putFilePrefix","domain":5},
            {"scope":"deleteFile","domain":null,"extra":1}]}"#,
        )
        .unwrap();
        let s = parse_scopes(&payload).unwrap();
        assert_eq!(s.write_paths, vec!["undefined"]);
        assert_eq!(s.write_prefixes, vec!["5"]);
        assert_eq!(s.delete_paths, vec!["null"]);
        let none: Map<String, Value> = json_object(r#"{"scopes":null}"#).unwrap();
        assert_eq!(parse_scopes(&none).unwrap(), Scopes::default());
        let bad: Map<String, Value> = json_object(r#"{"scopes":{"a":1}}"#).unwrap();
        assert!(parse_scopes(&bad).is_err());
    }

    #[test]
    fn revocation_timestamps() {
        let k = PrivateKey::random().unwrap();
        let addr = k.public_key().address();
        let no_iat = token(&k, V1TokenOptions::default());
        let e = ok(&no_iat, &addr, &policy(), 1000).unwrap_err();
        assert_eq!(e.name(), "AuthTokenTimestampValidationError");
        assert!(e.message().contains("no creation timestamp"));
        let old = token(
            &k,
            V1TokenOptions {
                iat: Some(999),
                ..Default::default()
            },
        );
        let e = ok(&old, &addr, &policy(), 1000).unwrap_err();
        assert!(e.message().contains("this token was issued 999."));
        let equal = token(
            &k,
            V1TokenOptions {
                iat: Some(1000),
                ..Default::default()
            },
        );
        assert!(ok(&equal, &addr, &policy(), 1000).is_ok());
        assert!(ok(&old, &addr, &policy(), 0).is_ok());
    }

    #[test]
    fn signature_challenge_and_expiry() {
        let k = PrivateKey::random().unwrap();
        let addr = k.public_key().address();
        // Signed by another key but claiming k's iss.
        let other = PrivateKey::random().unwrap();
        let mut p = Map::new();
        p.insert("gaiaChallenge".into(), challenge_text("hub.test").into());
        p.insert("iss".into(), k.public_key().to_hex().into());
        let forged = format!("bearer v1:{}", jwt::sign(&Value::Object(p), &other));
        assert_eq!(
            ok(&forged, &addr, &policy(), 0).unwrap_err().message(),
            "Failed to verify supplied authentication JWT"
        );
        // Wrong server name.
        let wrong = format!(
            "bearer {}",
            make_v1_token(&k, &challenge_text("other"), &V1TokenOptions::default())
        );
        let e = ok(&wrong, &addr, &policy(), 0).unwrap_err();
        assert!(
            e.message()
                .starts_with("Invalid gaiaChallenge text in supplied JWT: \"[\\\"gaiahub\\\"")
                || e.message()
                    .starts_with("Invalid gaiaChallenge text in supplied JWT: \"[\"gaiahub\"")
        );
        // Legacy years accepted.
        let y2019 = format!(
            "bearer {}",
            make_v1_token(
                &k,
                &challenge_text_for_year("2019", "hub.test"),
                &V1TokenOptions::default()
            )
        );
        assert!(ok(&y2019, &addr, &policy(), 0).is_ok());
        // Expired.
        let exp = token(
            &k,
            V1TokenOptions {
                exp: Some(NOW as u64 - 1),
                ..Default::default()
            },
        );
        assert_eq!(
            ok(&exp, &addr, &policy(), 0).unwrap_err().message(),
            format!(
                "Expired authentication token: expire time of {} (secs since epoch)",
                NOW as u64 - 1
            )
        );
        let fresh = token(
            &k,
            V1TokenOptions {
                exp: Some(NOW as u64 + 100),
                ..Default::default()
            },
        );
        assert!(ok(&fresh, &addr, &policy(), 0).is_ok());
    }

    #[test]
    fn uncompressed_iss_maps_to_compressed_address() {
        let k = PrivateKey::random().unwrap();
        let addr = k.public_key().address();
        let uncompressed = {
            let point = k.public_key().verifying_key().to_sec1_point(false);
            cairn_core::support::encoding::to_hex(point.as_bytes())
        };
        let mut p = Map::new();
        p.insert("gaiaChallenge".into(), challenge_text("hub.test").into());
        p.insert("iss".into(), uncompressed.into());
        let h = format!("bearer v1:{}", jwt::sign(&Value::Object(p), &k));
        assert!(ok(&h, &addr, &policy(), 0).is_ok());
    }

    #[test]
    fn hub_url_check() {
        let k = PrivateKey::random().unwrap();
        let addr = k.public_key().address();
        let mut pol = policy();
        pol.require_correct_hub_url = true;
        pol.valid_hub_urls = vec!["http://127.0.0.1:4000".into()];
        let none = token(&k, V1TokenOptions::default());
        assert!(
            ok(&none, &addr, &pol, 0)
                .unwrap_err()
                .message()
                .contains("must provide a claimed hub")
        );
        for good in [
            "https://hub.test",
            "https://hub.test/",
            "http://127.0.0.1:4000/",
        ] {
            let h = token(
                &k,
                V1TokenOptions {
                    hub_url: Some(good.into()),
                    ..Default::default()
                },
            );
            assert!(ok(&h, &addr, &pol, 0).is_ok(), "{good}");
        }
        let bad = token(
            &k,
            V1TokenOptions {
                hub_url: Some("https://evil".into()),
                ..Default::default()
            },
        );
        assert_eq!(
            ok(&bad, &addr, &pol, 0).unwrap_err().message(),
            r#"Auth token's claimed hub url 'https://evil' not found in this hubs set: ["http://127.0.0.1:4000","https://hub.test"]"#
        );
    }

    #[test]
    fn association_tokens_and_whitelist() {
        let identity = PrivateKey::random().unwrap();
        let app = PrivateKey::random().unwrap();
        let app_addr = app.public_key().address();
        let id_addr = identity.public_key().address();
        let assoc =
            make_association_token(&identity, &app.public_key(), (NOW * 1000.0) as u64, None);
        let h = token(
            &app,
            V1TokenOptions {
                association_token: Some(assoc.clone()),
                ..Default::default()
            },
        );
        let mut pol = policy();
        pol.whitelist = Some(vec![id_addr.clone()]);
        assert_eq!(ok(&h, &app_addr, &pol, 0).unwrap(), id_addr);
        // Without the association token the app key is not whitelisted.
        let plain = token(&app, V1TokenOptions::default());
        assert_eq!(
            ok(&plain, &app_addr, &pol, 0).unwrap_err().message(),
            format!("Address {app_addr} not authorized for writes")
        );
        // Empty string association token counts as none.
        let empty = token(
            &app,
            V1TokenOptions {
                association_token: Some(String::new()),
                ..Default::default()
            },
        );
        assert_eq!(ok(&empty, &app_addr, &policy(), 0).unwrap(), app_addr);
        // Expired association token.
        let old = make_association_token(
            &identity,
            &app.public_key(),
            ((NOW - 40_000_000.0) * 1000.0) as u64,
            None,
        );
        let h = token(
            &app,
            V1TokenOptions {
                association_token: Some(old),
                ..Default::default()
            },
        );
        assert!(
            ok(&h, &app_addr, &policy(), 0)
                .unwrap_err()
                .message()
                .starts_with("Expired association token")
        );
        // Child key mismatch: association for another app key.
        let other = PrivateKey::random().unwrap();
        let wrong =
            make_association_token(&identity, &other.public_key(), (NOW * 1000.0) as u64, None);
        let h = token(
            &app,
            V1TokenOptions {
                association_token: Some(wrong),
                ..Default::default()
            },
        );
        assert!(
            ok(&h, &app_addr, &policy(), 0)
                .unwrap_err()
                .message()
                .starts_with("Association token child key")
        );
        // Garbage association token.
        let h = token(
            &app,
            V1TokenOptions {
                association_token: Some("garbage".into()),
                ..Default::default()
            },
        );
        assert_eq!(
            ok(&h, &app_addr, &policy(), 0).unwrap_err().message(),
            "checkAssociationToken: Failed to decode association token in JWT"
        );
    }

    #[test]
    fn js_helpers() {
        assert_eq!(js_string(None), "undefined");
        assert_eq!(js_string(Some(&cairn_core::json!([1, null, "a"]))), "1,,a");
        assert!(!js_truthy(Some(&cairn_core::json!(0))));
        assert!(js_truthy(Some(&cairn_core::json!("x"))));
    }
}
