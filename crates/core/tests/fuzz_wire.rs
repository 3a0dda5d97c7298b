//! Fuzz target: the hub wire formats that the authenticator and `cairn-hub` share, each
//! written by its one writer and read by its one reader — history file names
//! (`cairn_core::collections::history`), scope kinds and a token's `scopes` claim, the
//! `/hub_info` answer, `list-files` requests and pages, the revoke-all body and the
//! stored revocation time (`cairn_core::protocol::gaia`), and the JS coercions the
//! readers of requests apply (`cairn_core::support::js`).
//!
//! Properties: every value written reads back as itself (with the documented
//! normalisations: a falsy cursor or timestamp is "none"; a plain listing keeps names
//! only); a name the hub builds is a history file and parses back to its parts; any
//! name the core parses as a version is a history file for the hub too; mutated texts
//! never panic, and what they read as writes back to the same thing.
#![cfg(not(target_arch = "wasm32"))]

#[macro_use]
#[path = "support/fuzz.rs"]
mod fuzz;

use cairn_core::collections::history::{
    HISTORY_ID_LEN, history_id_from_bytes, history_path, is_history_file, parse_history_path,
};
use cairn_core::keys::PrivateKey;
use cairn_core::protocol::gaia::{
    HubInfo, ListFilesPage, ListFilesRequest, ListedFile, RevokeAllError, RevokeAllRequest, Scope,
    ScopeKind, ScopesError, V1TokenOptions, challenge_text, make_v1_token, parse_revocation_time,
    revocation_time_text, token_scopes,
};
use cairn_core::protocol::hub_urls;
use cairn_core::protocol::jwt;
use cairn_core::support::js;
use cairn_core::support::json::{self, Map, Value};
use fuzz::{fuzz, mutate, mutations};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

/// Any short string: controls, quotes, backslashes, non-BMP characters included.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-z0-9:/._-]{0,10}",
        2 => "(?s).{0,8}",
        1 => Just(String::new()),
    ]
}

/// Writes `value` as text and parses it again.
fn through_text(value: &Value) -> Result<Value, TestCaseError> {
    let text = json::to_string(value);
    json::from_str(&text).map_err(|e| TestCaseError::fail(format!("{text:?}: {e}")))
}

/// The members of a parsed object (an empty map for anything else, as the hub reads
/// a body that is not an object).
fn members(v: Value) -> Map {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-zA-Z0-9_-]{1,12}",
        1 => "\\.?[a-z]{0,4}\\.[a-z]{1,4}",
        1 => "(?s)[^/]{1,6}",
        1 => "[0-9A-Za-z]{10}\\.[a-z]{1,3}",
    ]
}

#[test]
fn history_names_built_by_the_hub_read_back() {
    fuzz(
        "history::history_path+parse_history_path",
        5_000,
        || {
            (
                proptest::collection::vec(segment(), 0..3)
                    .prop_map(|s| s.iter().map(|x| format!("{x}/")).collect::<String>()),
                segment(),
                prop_oneof![
                    3 => 1_000_000_000_000u64..10_000_000_000_000,
                    1 => 0u64..=(i64::MAX as u64),
                    1 => any::<u64>(),
                ],
                proptest::collection::vec(any::<u8>(), 0..40),
                mutations(3),
            )
        },
        |(dir, name, ms, id_bytes, m)| {
            let id = history_id_from_bytes(&id_bytes);
            if let Some(id) = &id {
                check!(
                    id.len() == HISTORY_ID_LEN && id.bytes().all(|b| b.is_ascii_alphanumeric()),
                    "id {id:?}"
                );
            }
            let id = id.unwrap_or_else(|| "0123456789".into());
            let path = format!("{dir}{name}");
            let h = history_path(&path, ms, &id);
            check!(is_history_file(&h), "{h:?} is not a history file");
            let parsed = parse_history_path(&h);
            match i64::try_from(ms) {
                Ok(ms) => check!(
                    parsed.as_ref().is_some_and(|p| p.dir == dir
                        && p.name == name
                        && p.original_path() == path
                        && p.replaced_at_ms == Some(ms)
                        && p.id.as_deref() == Some(id.as_str())
                        && p.sequence.is_none()),
                    "{path:?} archived at {ms} as {h:?} reads as {parsed:?}"
                ),
                Err(_) => check!(parsed.is_none(), "{h:?} reads as {parsed:?}"),
            }
            check!(
                !is_history_file(&path) || name.starts_with(".history."),
                "{path:?}"
            );
            // Whatever the core reads as a version, the hub treats as history, and the
            // parts are a split of the name.
            for p in [mutate(&h, &m), mutate(&path, &m)] {
                if let Some(v) = parse_history_path(&p) {
                    check!(
                        is_history_file(&p)
                            && p.starts_with(&v.dir)
                            && p.ends_with(&v.name)
                            && !v.name.is_empty()
                            && !p[v.dir.len()..].contains('/'),
                        "{p:?} reads as {v:?}"
                    );
                }
            }
            Ok(())
        },
    );
}

/// A scope name: mostly known kinds, sometimes anything.
fn scope_name() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => proptest::sample::select(ScopeKind::ALL.to_vec()).prop_map(|k| k.as_str().to_string()),
        1 => "[a-zA-Z]{0,16}",
    ]
}

#[test]
fn scope_kinds_and_token_scopes_read_back() {
    fuzz(
        "gaia::ScopeKind+token_scopes",
        3_000,
        || proptest::collection::vec((scope_name(), text()), 0..11),
        |scopes| {
            for (name, _) in &scopes {
                match ScopeKind::from_name(name) {
                    Some(k) => check!(k.as_str() == name, "{name:?} read as {k:?}"),
                    None => check!(
                        ScopeKind::ALL.iter().all(|k| k.as_str() != name)
                            && matches!(name.parse::<ScopeKind>(), Err(ScopesError::UnknownName(n)) if &n == name),
                        "{name:?} not read"
                    ),
                }
            }
            // What the token builder writes as the claim, through JSON text.
            let built: Vec<Scope> = scopes.iter().map(|(s, d)| Scope::new(s, d)).collect();
            let mut payload = Map::new();
            if !built.is_empty() {
                payload.insert(
                    "scopes".into(),
                    Value::Array(built.iter().map(Scope::to_value).collect()),
                );
            }
            let payload = members(through_text(&Value::Object(payload))?);
            let read = token_scopes(&payload);
            let all_known = built.iter().all(|s| s.kind().is_some());
            if all_known && built.len() <= cairn_core::protocol::gaia::MAX_SCOPES {
                let expected: Vec<(ScopeKind, String)> = built
                    .iter()
                    .filter_map(|s| Some((s.kind()?, s.domain.clone())))
                    .collect();
                check!(read == Ok(expected), "{scopes:?} read as {read:?}");
            } else {
                check!(read.is_err(), "{scopes:?} read as {read:?}");
            }
            Ok(())
        },
    );
}

#[test]
fn token_builder_scopes_read_back_from_signed_tokens() {
    let key =
        PrivateKey::from_hex("6dad38fa92add38d913bdfb2e646ef4ce2a50a2f39853f848a792835626a5690")
            .expect("a valid key");
    fuzz(
        "gaia::make_v1_token+token_scopes",
        60,
        || {
            proptest::collection::vec(
                (proptest::sample::select(ScopeKind::ALL.to_vec()), text()),
                0..9,
            )
        },
        |scopes| {
            let opts = V1TokenOptions {
                scopes: scopes.iter().map(|(k, d)| Scope::of(*k, d)).collect(),
                salt: Some([7; 16]),
                ..Default::default()
            };
            let token = make_v1_token(&key, &challenge_text("hub.test"), &opts);
            let decoded = token
                .strip_prefix("v1:")
                .and_then(|t| jwt::decode(t).ok())
                .ok_or_else(|| TestCaseError::fail(format!("{token:?} does not decode")))?;
            let read = token_scopes(&decoded.payload);
            check!(read.as_ref() == Ok(&scopes), "{scopes:?} read as {read:?}");
            Ok(())
        },
    );
}

#[test]
fn hub_info_reads_back() {
    fuzz(
        "gaia::HubInfo",
        3_000,
        || {
            (
                text(),
                proptest::option::of(text()),
                proptest::option::of(prop_oneof![
                    (0u32..=1_048_576).prop_map(f64::from),
                    (1u32..4096).prop_map(|q| f64::from(q) / 4.0),
                ]),
                text(),
                mutations(3),
            )
        },
        |(challenge, version, mb, prefix, m)| {
            let info = HubInfo {
                challenge_text: challenge,
                latest_auth_version: version,
                max_file_upload_size_megabytes: mb,
                read_url_prefix: prefix,
            };
            let back = HubInfo::from_value(&through_text(&info.to_value())?);
            check!(back.as_ref() == Ok(&info), "{info:?} read back as {back:?}");
            let mutated = mutate(&json::to_string(&info.to_value()), &m);
            if let Ok(v) = json::from_str(&mutated)
                && let Ok(read) = HubInfo::from_value(&v)
            {
                let again = HubInfo::from_value(&through_text(&read.to_value())?);
                check!(
                    again.as_ref() == Ok(&read),
                    "{mutated:?} read as {read:?}, then {again:?}"
                );
            }
            Ok(())
        },
    );
}

#[test]
fn list_files_requests_read_back() {
    fuzz(
        "gaia::ListFilesRequest",
        3_000,
        || (proptest::option::of(text()), any::<bool>(), mutations(3)),
        |(page, stat, m)| {
            let req = ListFilesRequest { page, stat };
            let text = json::to_string(&req.to_value());
            let back = ListFilesRequest::from_map(&members(through_text(&req.to_value())?));
            // An empty cursor is falsy: JS hubs read it as the first page.
            let expected = ListFilesRequest {
                page: req.page.clone().filter(|p| !p.is_empty()),
                stat,
            };
            check!(back == Ok(expected), "{text:?} read back as {back:?}");
            if let Ok(v) = json::from_str(&mutate(&text, &m))
                && let Ok(read) = ListFilesRequest::from_map(&members(v))
            {
                let again = ListFilesRequest::from_map(&members(through_text(&read.to_value())?));
                check!(again.as_ref() == Ok(&read), "{read:?}, then {again:?}");
            }
            Ok(())
        },
    );
}

fn listed_file() -> impl Strategy<Value = ListedFile> {
    (
        text(),
        text(),
        any::<u64>(),
        text(),
        any::<i64>(),
        proptest::option::of(text()),
    )
        .prop_map(
            |(name, etag, content_length, content_type, last_modified_date, writer)| ListedFile {
                name,
                etag,
                content_length,
                content_type,
                last_modified_date,
                writer,
            },
        )
}

#[test]
fn list_files_pages_read_back() {
    fuzz(
        "gaia::ListFilesPage",
        2_000,
        || {
            (
                proptest::collection::vec(listed_file(), 0..6),
                proptest::option::of(text()),
                any::<bool>(),
                mutations(3),
            )
        },
        |(entries, next, stat, m)| {
            let page = ListFilesPage { entries, next };
            let text = json::to_string(&page.to_value(stat));
            let back = ListFilesPage::from_json(&text);
            let expected = ListFilesPage {
                entries: if stat {
                    page.entries.clone()
                } else {
                    page.entries
                        .iter()
                        .map(|e| ListedFile::named(&e.name))
                        .collect()
                },
                // An empty page ends the listing, whatever its cursor.
                next: page.next.clone().filter(|_| !page.entries.is_empty()),
            };
            check!(
                back.as_ref() == Ok(&expected),
                "{text:?} read back as {back:?}"
            );
            if let Ok(read) = ListFilesPage::from_json(&mutate(&text, &m))
                && !read.entries.is_empty()
            {
                let again = ListFilesPage::from_json(&json::to_string(&read.to_value(true)));
                check!(again.as_ref() == Ok(&read), "{read:?}, then {again:?}");
            }
            Ok(())
        },
    );
}

#[test]
fn revocations_read_back() {
    fuzz(
        "gaia::RevokeAllRequest+revocation_time",
        3_000,
        || {
            (
                prop_oneof![
                    3 => 1_600_000_000u64..2_000_000_000,
                    1 => Just(0u64),
                    1 => any::<u64>(),
                ],
                "(?s).{0,12}",
                mutations(3),
            )
        },
        |(ts, junk, m)| {
            let req = RevokeAllRequest {
                oldest_valid_timestamp: ts,
            };
            let text = json::to_string(&req.to_value());
            let back = RevokeAllRequest::from_map(&members(through_text(&req.to_value())?));
            if ts == 0 {
                // 0 is falsy: the Node hub reads it as missing.
                check!(back == Err(RevokeAllError::Missing), "{text:?}: {back:?}");
            } else if ts <= 1 << 53 {
                check!(back == Ok(req), "{text:?} read back as {back:?}");
            } else {
                // Past 2^53 a JSON number is a double to JS, so parseInt sees a
                // nearby one (the core's JSON reads such numbers within a few units in
                // the last place; times in seconds are far below).
                let got = back.map(|r| r.oldest_valid_timestamp);
                check!(
                    got.is_ok_and(|g| g.abs_diff(ts) <= ts >> 48),
                    "{text:?} read back as {got:?}"
                );
            }
            if let Ok(v) = json::from_str(&mutate(&text, &m)) {
                let _ = RevokeAllRequest::from_map(&members(v));
            }
            // The stored time: every time a hub can accept reads back.
            let stored = revocation_time_text(ts);
            let read = parse_revocation_time(&stored);
            if ts < 1_000_000_000_000_000 {
                check!(
                    read.and_then(|t| u64::try_from(t).ok()) == Some(ts),
                    "{stored:?} read as {read:?}"
                );
            }
            // Any stored text reads as a time ≥ 0 or as nothing.
            check!(
                parse_revocation_time(&junk).is_none_or(|t| t >= 0),
                "{junk:?}"
            );
            // parseInt reads back what a number or its decimal string says.
            if let Ok(small) = i64::try_from(ts % (1 << 53)) {
                check!(
                    js::parse_int(&Value::from(small)) == Some(i128::from(small))
                        && js::parse_int(&Value::from(format!(" {small}x")))
                            == Some(i128::from(small)),
                    "parseInt({small})"
                );
            }
            Ok(())
        },
    );
}

/// Percent-decoding as `decodeURIComponent` does (the test's own reference).
fn percent_decode(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[test]
fn hub_urls_encode_each_segment_and_decode_back() {
    fuzz(
        "protocol::hub_urls",
        5_000,
        || proptest::collection::vec(text().prop_map(|s| s.replace('/', "")), 1..4),
        |segments| {
            let path = segments.join("/");
            let url = hub_urls::store_url("http://hub.example/", "1Addr", &path);
            let Some(encoded) = url.strip_prefix("http://hub.example/store/1Addr/") else {
                return Err(TestCaseError::fail(format!(
                    "{url:?} has the wrong endpoint"
                )));
            };
            // Only the unreserved characters of encodeURIComponent, `%XX` and the slashes
            // between segments appear: nothing a URL parser could take for `?`, `#` or a
            // new path segment.
            check!(
                encoded
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.!~*'()%/".contains(c)),
                "{path:?} encoded as {encoded:?}"
            );
            check!(
                encoded.split('/').count() == segments.len(),
                "{path:?} has {} segments, {encoded:?} has another count",
                segments.len()
            );
            let back: Option<Vec<String>> = encoded.split('/').map(percent_decode).collect();
            check!(
                back.as_deref() == Some(&segments[..]),
                "{encoded:?} decodes as {back:?}"
            );
            Ok(())
        },
    );
}
