//! Planning an approved sign-in (pure: no I/O). The browser runner in `app/` fetches
//! the hub state, asks this module what to write, and performs the writes with `fetch`.
//!
//! Order of an approved sign-in (docs/AUTHENTICATOR_UI.md, "Sign-in writes"):
//! 1. `GET <hub>/hub_info` → [`HubInfo`] (or nothing when the hub is unreachable);
//! 2. `GET` the identity's `profile.json` → [`response_context`];
//! 3. build the response (`auth::make_auth_response`) → [`plan`] gives the
//!    `profile.json` upload when `publish_data` was asked and the hub answered;
//! 4. settings: read `cairn/settings.json` (a file that exists but cannot be opened is
//!    never overwritten), [`apply_sign_in`], store it back with `If-Match` (or
//!    `If-None-Match: *`), retrying on 412;
//! 5. redirect with `SignIn::redirect_url`.
//!
//! Also here, because they are pure and worth testing natively: the app details read
//! from a web manifest ([`parse_manifest`]) and the plain-language scope lines
//! ([`scope_description`]).

use crate::collections::settings::{AccessMode, Settings};
use crate::collections::{HandOff, grant_collections};
use crate::protocol::auth::{AuthRequest, ResponseContext, Scope, SignIn};
use crate::protocol::gaia::HubInfo;
use crate::protocol::profile::claim_from_profile_file;
use crate::support::json::Value;

/// The identity's public profile file name.
pub const PROFILE_PATH: &str = "profile.json";

/// An app's name and icon, as its manifest (or, failing that, its request) gives them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppDetails {
    /// `name` (or `short_name`) from the manifest.
    pub name: Option<String>,
    /// The first icon's absolute URL.
    pub icon: Option<String>,
}

impl AppDetails {
    /// The name to show: the app's name, or its origin when there is none.
    pub fn display_name<'a>(&'a self, origin: &'a str) -> &'a str {
        self.name.as_deref().unwrap_or(origin)
    }

    /// These details, with gaps filled from the request's `appDetails` (Connect).
    pub fn or_request(mut self, request: &AuthRequest) -> AppDetails {
        if self.name.is_none() {
            self.name = request.app_name.as_deref().and_then(clean_text);
        }
        if self.icon.is_none() {
            self.icon = request
                .app_icon
                .as_deref()
                .and_then(|i| resolve_http_url(i, &request.manifest_uri));
        }
        self
    }
}

/// App names longer than this (in characters) are cut.
pub const MAX_APP_NAME_CHARS: usize = 60;

/// Manifests larger than this (64 KiB) are refused unread.
pub const MAX_MANIFEST_LEN: usize = 64 * 1024;

/// Characters that change the direction of the text around them (bidi embeddings,
/// overrides, isolates and marks) or are invisible (zero-width, BOM, line separators):
/// in a name they could make "Sign in to <name>" read as something else.
fn is_deceptive(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2069}'
                | '\u{FEFF}'
        )
}

/// A display string from an app: bidi and control characters removed, trimmed, at
/// most [`MAX_APP_NAME_CHARS`] characters; empty → `None`.
pub fn clean_text(s: &str) -> Option<String> {
    let kept: String = s.chars().filter(|c| !is_deceptive(*c)).collect();
    let t = kept.trim();
    (!t.is_empty()).then(|| {
        t.chars()
            .take(MAX_APP_NAME_CHARS)
            .collect::<String>()
            .trim_end()
            .to_string()
    })
}

/// Why an app's manifest was not used.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ManifestError {
    /// Larger than [`MAX_MANIFEST_LEN`].
    TooLarge {
        /// Its length in bytes (or as announced by `Content-Length`).
        len: usize,
    },
    /// Not a JSON object.
    NotJson,
}

impl std::fmt::Display for ManifestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ManifestError::TooLarge { len } => write!(
                f,
                "the app's manifest is too large ({len} bytes; the limit is {MAX_MANIFEST_LEN})"
            ),
            ManifestError::NotJson => f.write_str("the app's manifest is not a JSON object"),
        }
    }
}

impl std::error::Error for ManifestError {}

/// Resolves `href` against `base` and keeps it only when it is http(s) or a data: image.
fn resolve_http_url(href: &str, base: &str) -> Option<String> {
    let href = href.trim();
    if href.starts_with("data:image/") {
        return Some(href.to_string());
    }
    let base = crate::support::http_url::HttpUrl::parse(base).ok()?;
    base.join(href).map(|u| u.to_string())
}

/// Reads `name` (or `short_name`) and the first icon (resolved against the manifest's
/// URL) from a web app manifest. A manifest over [`MAX_MANIFEST_LEN`] bytes or that is
/// not a JSON object is refused; a missing or unusable name or icon is simply absent.
/// The name is cleaned by [`clean_text`].
pub fn parse_manifest(body: &str, manifest_url: &str) -> Result<AppDetails, ManifestError> {
    if body.len() > MAX_MANIFEST_LEN {
        return Err(ManifestError::TooLarge { len: body.len() });
    }
    let v = match crate::support::json::from_str(body) {
        Ok(v) if v.is_object() => v,
        _ => return Err(ManifestError::NotJson),
    };
    let text = |k: &str| v.get(k).and_then(Value::as_str).and_then(clean_text);
    let name = text("name").or_else(|| text("short_name"));
    let icon = v
        .get("icons")
        .and_then(Value::as_array)
        .and_then(|icons| icons.first())
        .and_then(|i| i.get("src"))
        .and_then(Value::as_str)
        .and_then(|src| resolve_http_url(src, manifest_url));
    Ok(AppDetails { name, icon })
}

/// One plain-language line for a requested scope.
pub fn scope_description(scope: &Scope) -> String {
    match scope {
        Scope::StoreWrite => "Store its own data in your Gaia storage".into(),
        Scope::PublishData => "Publish its data location in your public profile — anyone can then see that you use this app".into(),
        Scope::Email => "See your email address".into(),
        Scope::Collection { name, read_only: false } => {
            format!("Read and change your {name} collection")
        }
        Scope::Collection { name, read_only: true } => format!("Read your {name} collection"),
        Scope::Unknown(s) => format!("Unknown permission \"{s}\" (will not be granted)"),
    }
}

/// The scopes a sign-in grants (as strings), in request order: every known scope.
pub fn granted_scopes(request: &AuthRequest) -> Vec<String> {
    request
        .scopes
        .iter()
        .filter(|s| !matches!(s, Scope::Unknown(_)))
        .map(Scope::as_string)
        .collect()
}

/// `<read prefix><address>/<path>` (the path encoded: [`crate::protocol::hub_urls`]).
pub fn read_url(info: &HubInfo, address: &str, path: &str) -> String {
    crate::protocol::hub_urls::read_url(&info.read_url_prefix, address, path)
}

pub use crate::protocol::hub_urls::store_url;

/// The response context from what the hub gave: its info (if it answered) and the
/// stored `profile.json` body (if any; an unreadable one counts as none).
pub fn response_context(
    hub_url: &str,
    info: Option<&HubInfo>,
    profile_body: Option<&str>,
    now_ms: i64,
) -> ResponseContext {
    ResponseContext {
        hub_url: hub_url.to_string(),
        read_url_prefix: info.map(|i| i.read_url_prefix.clone()),
        stored_profile: profile_body.and_then(claim_from_profile_file),
        email: None,
        now_ms,
    }
}

/// One file write to the identity's bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubWrite {
    /// `<hub>/store/<address>/<path>`.
    pub url: String,
    /// The body.
    pub body: String,
    /// Its `Content-Type`.
    pub content_type: &'static str,
}

/// What an approved sign-in writes to the identity's bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInPlan {
    /// The new `profile.json`, when `publish_data` was asked and the hub answered.
    /// (The settings file and the key file are written by the sign-in job,
    /// `crate::jobs::sign_in`, through their own types.)
    pub profile_upload: Option<HubWrite>,
}

/// Plans the hub writes of a built sign-in for the identity at `address`.
pub fn plan(sign_in: &SignIn, hub_url: &str, info: Option<&HubInfo>, address: &str) -> SignInPlan {
    if info.is_none() {
        return SignInPlan {
            profile_upload: None,
        };
    }
    SignInPlan {
        profile_upload: sign_in.profile_file.as_ref().map(|body| HubWrite {
            url: store_url(hub_url, address, PROFILE_PATH),
            body: body.clone(),
            content_type: "application/json",
        }),
    }
}

/// The connected app a sign-in records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectedAppRecord {
    /// The app's origin.
    pub origin: String,
    /// Its details (manifest, then request).
    pub details: AppDetails,
    /// The granted scopes.
    pub scopes: Vec<String>,
    /// When, in ms since the epoch.
    pub now_ms: i64,
}

/// The collections a request asks for, with the mode each scope means
/// (`collection.<name>` read and write, `collection.<name>.read` read only); a
/// collection asked both ways is granted read and write, once.
pub fn requested_collections(request: &AuthRequest) -> Vec<(String, AccessMode)> {
    let mut out: Vec<(String, AccessMode)> = Vec::new();
    for (name, read_only) in request.collections() {
        let mode = if read_only {
            AccessMode::Read
        } else {
            AccessMode::ReadWrite
        };
        match out.iter_mut().find(|(n, _)| n == name) {
            Some(e) => {
                if mode == AccessMode::ReadWrite {
                    e.1 = mode;
                }
            }
            None => out.push((name.to_string(), mode)),
        }
    }
    out
}

/// Applies an approved sign-in to opened settings: records the app, then grants each
/// requested collection ([`crate::collections::grant_collections`]). Returns what to
/// hand off in the app's `.collections.keys` (COLLECTIONS.md §4).
pub fn apply_sign_in(
    settings: &mut Settings,
    app: &ConnectedAppRecord,
    collections: &[(String, AccessMode)],
    salt: impl FnMut() -> [u8; 16],
) -> Vec<HandOff> {
    settings.record_sign_in(
        &app.origin,
        app.details.name.as_deref(),
        app.details.icon.as_deref(),
        &app.scopes,
        app.now_ms,
    );
    grant_collections(settings, &app.origin, collections, app.now_ms, salt)
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::keys::PrivateKey;
    use crate::keys::keychain::Keychain;
    use crate::protocol::auth::{
        AuthRequestOptions, ResponseRandomness, make_auth_request, make_auth_response,
        verify_auth_request,
    };

    const WORDS: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
    const NOW: i64 = 1_700_000_000_000;

    fn request(scopes: &[&str]) -> AuthRequest {
        let key = PrivateKey::from_hex(&"11".repeat(32)).unwrap();
        let token = make_auth_request(
            &key,
            &AuthRequestOptions {
                domain_name: "http://localhost:3000".into(),
                scopes: scopes.iter().map(|s| s.to_string()).collect(),
                app_name: Some("From request".into()),
                now_ms: NOW,
                ..Default::default()
            },
        )
        .unwrap();
        verify_auth_request(&token, None, NOW).unwrap()
    }

    fn info() -> HubInfo {
        HubInfo {
            challenge_text: "[\"gaia\",\"0\",\"hub\",\"blockstack_storage_please_sign\"]".into(),
            latest_auth_version: Some("v1".into()),
            max_file_upload_size_megabytes: None,
            read_url_prefix: "http://127.0.0.1:4100/read/".into(),
        }
    }

    #[test]
    fn manifest_name_and_relative_icon() {
        let d = parse_manifest(
            r#"{"name":" Todo ","icons":[{"src":"/icon.png"},{"src":"b.png"}]}"#,
            "http://localhost:3000/app/manifest.json",
        )
        .unwrap();
        assert_eq!(d.name.as_deref(), Some("Todo"));
        assert_eq!(d.icon.as_deref(), Some("http://localhost:3000/icon.png"));
        let d = parse_manifest(
            r#"{"short_name":"T","icons":[{"src":"i.png"}]}"#,
            "http://localhost:3000/app/manifest.json",
        )
        .unwrap();
        assert_eq!(d.name.as_deref(), Some("T"));
        assert_eq!(d.icon.as_deref(), Some("http://localhost:3000/app/i.png"));
        assert_eq!(
            parse_manifest("not json", "http://x/"),
            Err(ManifestError::NotJson)
        );
        assert_eq!(
            parse_manifest("[]", "http://x/"),
            Err(ManifestError::NotJson)
        );
        let d = parse_manifest(
            r#"{"name":"","icons":[{"src":"javascript:alert(1)"}]}"#,
            "http://x/m.json",
        )
        .unwrap();
        assert_eq!(d, AppDetails::default());
        assert_eq!(d.display_name("http://x"), "http://x");
    }

    #[test]
    fn manifest_names_lose_bidi_and_control_characters_and_are_cut_at_60() {
        let m = |name: &str| {
            let body = crate::protocol::jwt::json_string(&crate::json!({ "name": name }));
            parse_manifest(&body, "http://x/m.json").unwrap().name
        };
        // U+202E (right-to-left override) would make "evil\u{202e}moc.elppa" read as apple.com.
        assert_eq!(m("evil\u{202e}moc.elppa").as_deref(), Some("evilmoc.elppa"));
        for c in [
            '\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{2066}', '\u{2067}', '\u{2068}',
            '\u{2069}', '\u{200e}', '\u{200f}', '\u{61c}', '\u{200b}', '\u{feff}',
        ] {
            assert_eq!(m(&format!("A{c}B")).as_deref(), Some("AB"), "{:?}", c);
        }
        assert_eq!(
            m("Tab\tNew\nline\u{0}\u{7f}\u{85}").as_deref(),
            Some("TabNewline")
        );
        assert_eq!(m("\u{202e}\u{0}"), None);
        let long = "é".repeat(100);
        assert_eq!(m(&long).unwrap().chars().count(), MAX_APP_NAME_CHARS);
        assert_eq!(m(&"a".repeat(60)).unwrap().len(), 60);
        // The request's appDetails name is cleaned the same way.
        let mut req = request(&["store_write"]);
        req.app_name = Some(format!("x\u{202e}{}", "y".repeat(80)));
        let d = AppDetails::default().or_request(&req);
        assert_eq!(d.name.unwrap(), format!("x{}", "y".repeat(59)));
    }

    #[test]
    fn manifest_over_64_kib_is_refused() {
        let pad = |n: usize| format!(r#"{{"name":"Big","pad":"{}"}}"#, "x".repeat(n));
        let at_limit = pad(MAX_MANIFEST_LEN - pad(0).len());
        assert_eq!(at_limit.len(), MAX_MANIFEST_LEN);
        assert_eq!(
            parse_manifest(&at_limit, "http://x/m.json")
                .unwrap()
                .name
                .as_deref(),
            Some("Big")
        );
        let over = pad(MAX_MANIFEST_LEN - pad(0).len() + 1);
        let err = parse_manifest(&over, "http://x/m.json").unwrap_err();
        assert_eq!(
            err,
            ManifestError::TooLarge {
                len: MAX_MANIFEST_LEN + 1
            }
        );
        assert!(err.to_string().contains("too large"), "{err}");
    }

    #[test]
    fn request_details_fill_gaps() {
        let req = request(&["store_write"]);
        let d = AppDetails::default().or_request(&req);
        assert_eq!(d.name.as_deref(), Some("From request"));
        let d = AppDetails {
            name: Some("Manifest".into()),
            icon: None,
        }
        .or_request(&req);
        assert_eq!(d.name.as_deref(), Some("Manifest"));
    }

    #[test]
    fn scope_lines() {
        let req = request(&[
            "store_write",
            "publish_data",
            "email",
            "collection.contact",
            "collection.photo.read",
            "weird",
        ]);
        let lines: Vec<String> = req.scopes.iter().map(scope_description).collect();
        assert_eq!(lines[0], "Store its own data in your Gaia storage");
        assert!(lines[1].contains("anyone can then see that you use this app"));
        assert_eq!(lines[2], "See your email address");
        assert_eq!(lines[3], "Read and change your contact collection");
        assert_eq!(lines[4], "Read your photo collection");
        assert_eq!(
            lines[5],
            "Unknown permission \"weird\" (will not be granted)"
        );
        assert_eq!(
            granted_scopes(&req),
            [
                "store_write",
                "publish_data",
                "email",
                "collection.contact",
                "collection.photo.read"
            ]
        );
    }

    #[test]
    fn plan_with_and_without_hub() {
        let kc = Keychain::from_mnemonic(WORDS).unwrap();
        let id = kc.identity(0).unwrap();
        let req = request(&["store_write", "publish_data"]);
        let hub = "http://127.0.0.1:4100";
        let rnd = ResponseRandomness::generate().unwrap();

        let ctx = response_context(hub, Some(&info()), None, NOW);
        let sign_in = make_auth_response(&kc, 0, &req, &ctx, &rnd).unwrap();
        let p = plan(&sign_in, hub, Some(&info()), &id.address);
        let upload = p.profile_upload.unwrap();
        assert_eq!(
            upload.url,
            format!("http://127.0.0.1:4100/store/{}/profile.json", id.address)
        );
        assert_eq!(upload.content_type, "application/json");
        // The uploaded profile lists the app and is read back as the next stored profile.
        let claim = claim_from_profile_file(&upload.body).unwrap();
        assert!(claim["apps"]["http://localhost:3000"].is_string());
        let ctx2 = response_context(hub, Some(&info()), Some(&upload.body), NOW);
        assert_eq!(ctx2.stored_profile, Some(claim));

        // Unreachable hub: no writes at all.
        let ctx = response_context(hub, None, None, NOW);
        let sign_in = make_auth_response(&kc, 0, &req, &ctx, &rnd).unwrap();
        let p = plan(&sign_in, hub, None, &id.address);
        assert_eq!(p.profile_upload, None);

        // Without publish_data the profile is not uploaded.
        let req = request(&["store_write"]);
        let ctx = response_context(hub, Some(&info()), None, NOW);
        let sign_in = make_auth_response(&kc, 0, &req, &ctx, &rnd).unwrap();
        assert_eq!(
            plan(&sign_in, hub, Some(&info()), &id.address).profile_upload,
            None
        );
        // Garbage profile.json counts as none.
        assert_eq!(
            response_context(hub, Some(&info()), Some("<html>"), NOW).stored_profile,
            None
        );
    }

    #[test]
    fn settings_are_created_then_updated() {
        let kc = Keychain::from_mnemonic(WORDS).unwrap();
        let id = kc.identity(0).unwrap();
        let mut app = ConnectedAppRecord {
            origin: "http://localhost:3000".into(),
            details: AppDetails {
                name: Some("Todo".into()),
                icon: None,
            },
            scopes: vec!["store_write".into()],
            now_ms: NOW,
        };
        // What the runner does around `apply_sign_in`: open (or start), apply, seal.
        let sign_in = |existing: Option<&str>, app: &ConnectedAppRecord| {
            let mut s = match existing {
                Some(body) => Settings::open(body, &id.key)?,
                None => Settings::default(),
            };
            apply_sign_in(&mut s, app, &[], || [0; 16]);
            s.seal(&id.key)
        };
        let first = sign_in(None, &app).unwrap();
        app.now_ms = NOW + 1000;
        app.scopes.push("publish_data".into());
        let second = sign_in(Some(&first), &app).unwrap();
        let s = Settings::open(&second, &id.key).unwrap();
        assert_eq!(s.apps.len(), 1);
        let a = s.app("http://localhost:3000").unwrap();
        assert_eq!(a.first_sign_in, NOW);
        assert_eq!(a.last_sign_in, NOW + 1000);
        assert_eq!(a.scopes, ["store_write", "publish_data"]);
        assert_eq!(a.name.as_deref(), Some("Todo"));
        // Another identity's (or a corrupt) file is refused, never overwritten.
        let other = kc.identity(1).unwrap();
        assert!(Settings::open(&second, &other.key).is_err());
        assert!(sign_in(Some("garbage"), &app).is_err());
    }

    #[test]
    fn sign_in_grants_requested_collections() {
        let req = request(&[
            "store_write",
            "collection.contact",
            "collection.photo.read",
            "collection.contact.read",
        ]);
        let cols = requested_collections(&req);
        assert_eq!(
            cols,
            [
                ("contact".to_string(), AccessMode::ReadWrite),
                ("photo".to_string(), AccessMode::Read)
            ]
        );
        let mut s = Settings::default();
        let record = ConnectedAppRecord {
            origin: "http://localhost:3000".into(),
            details: AppDetails::default(),
            scopes: granted_scopes(&req),
            now_ms: NOW,
        };
        let h = apply_sign_in(&mut s, &record, &cols, || [7; 16]);
        assert_eq!(h.len(), 2);
        assert_eq!(h[1].grant.mode, AccessMode::Read);
        assert_eq!(s.apps.len(), 1);
        assert_eq!(
            s.collections["contact"].grants[0].app,
            "http://localhost:3000"
        );
        assert_eq!(s.collections["photo"].generation, 0);
        assert!(requested_collections(&request(&["store_write"])).is_empty());
    }
}
