//! Fuzz target: what the hub parses from requests and from storage — the
//! `Authorization` header and its v1 token (`auth::parse_header`, `V1Auth::validate`),
//! file paths and history names (`paths`, cross-checked with Cairn's
//! `history::parse_history_path`), the storage envelope trailer
//! (`envelope::decode_trailer`), listing cursors and pages (`listing`), the
//! `If-Match`/`If-None-Match` pair (`precondition`) and configuration text (`config`).
//!
//! Inputs: headers built from genuine tokens (generated hub URLs, scopes, times,
//! association tokens; `bearer` in any case, with and without the space) then changed
//! (byte mutations, another signer, a changed claim, the high-S twin signature); paths
//! from segments with dots, controls and Unicode; envelopes written by `encode` with
//! generated metadata, cut at every length and mutated; file lists with history names.
//!
//! Properties: nothing panics; a header is valid only if its token's signed bytes are
//! the ones signed (or the high-S twin, which the JS hub accepts too) and then names
//! the signer's address; scopes read back as written; a history name the hub makes for
//! a valid path is read by Cairn as that path, time and id, and whatever Cairn reads as
//! a history name the hub treats as one; an envelope reads back as written from any
//! suffix that holds its trailer, and whatever decodes is consistent with the object's
//! length; cursors round-trip; `page_sorted` gives the same pages as `paginate` and
//! paging visits every visible name exactly once; preconditions follow the table.

#![allow(clippy::unwrap_used)] // a test that unwraps fails, which is what it should do

#[macro_use]
#[path = "../../core/tests/support/fuzz.rs"]
mod fuzz;

use cairn_core::collections::history::parse_history_path;
use cairn_core::keys::PrivateKey;
use cairn_core::protocol::gaia::{
    SCOPE_NAMES, Scope, ScopeKind, V1TokenOptions, challenge_text, make_v1_token,
};
use cairn_core::protocol::jwt;
use cairn_core::support::encoding::{from_base64url, to_base64url};
use cairn_core::support::json::{self, Value};
use cairn_hub::auth::{AuthPolicy, Scopes, parse_header};
use cairn_hub::envelope::{self, EnvelopeError, FIXED_TRAILER_LEN, Meta};
use cairn_hub::{config, listing, paths, precondition};
use fuzz::{fuzz, mutate, mutations};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

const SERVER: &str = "hub.example";
const NOW_S: f64 = 1_700_000_000.0;

fn key() -> PrivateKey {
    PrivateKey::from_hex("6dad38fa92add38d913bdfb2e646ef4ce2a50a2f39853f848a792835626a5690")
        .expect("a valid key")
}

fn other_key() -> PrivateKey {
    PrivateKey::from_hex("0000000000000000000000000000000000000000000000000000000000000007")
        .expect("a valid key")
}

fn policy() -> AuthPolicy {
    AuthPolicy {
        server_name: SERVER.into(),
        require_correct_hub_url: true,
        valid_hub_urls: vec!["http://localhost:4000".into()],
        whitelist: None,
    }
}

/// The secp256k1 group order.
const N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
];

/// `r ‖ (n − s)`.
fn high_s_twin(sig: &[u8]) -> Option<Vec<u8>> {
    if sig.len() != 64 {
        return None;
    }
    let mut out = sig.to_vec();
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let d = i16::from(N[i]) - i16::from(sig[32 + i]) - borrow;
        out[32 + i] = d.rem_euclid(256) as u8;
        borrow = i16::from(d < 0);
    }
    Some(out)
}

#[derive(Debug, Clone)]
struct TokenPieces {
    hub_url: Option<String>,
    scopes: Vec<(String, String)>,
    iat: Option<u64>,
    exp: Option<u64>,
    association: Option<String>,
}

fn token_pieces() -> impl Strategy<Value = TokenPieces> {
    let scope_name = prop_oneof![
        6 => proptest::sample::select(SCOPE_NAMES.to_vec()).prop_map(str::to_string),
        1 => "[a-zA-Z]{0,12}",
    ];
    (
        prop::option::weighted(
            0.9,
            prop_oneof![
                Just(format!("https://{SERVER}")),
                Just(format!("https://{SERVER}/")),
                Just("http://localhost:4000".to_string()),
                Just("https://evil.example".to_string()),
            ],
        ),
        proptest::collection::vec((scope_name, "(?s).{0,8}"), 0..10),
        proptest::option::of(0u64..2_000_000_000),
        proptest::option::of(prop_oneof![Just(1u64), Just(2_000_000_000u64)]),
        prop::option::weighted(0.1, prop_oneof![Just(String::new()), "[a-zA-Z0-9.]{1,20}"]),
    )
        .prop_map(|(hub_url, scopes, iat, exp, association)| TokenPieces {
            hub_url,
            scopes,
            iat,
            exp,
            association,
        })
}

fn token(p: &TokenPieces) -> String {
    make_v1_token(
        &key(),
        &challenge_text(SERVER),
        &V1TokenOptions {
            hub_url: p.hub_url.clone(),
            association_token: p.association.clone(),
            scopes: p.scopes.iter().map(|(s, d)| Scope::new(s, d)).collect(),
            iat: p.iat,
            exp: p.exp,
            salt: Some([7; 16]),
        },
    )
}

#[derive(Debug, Clone)]
enum Change {
    None,
    Bytes(Vec<(u8, usize, u8)>),
    Resign,
    HighS,
    Claim(String, Value),
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        3 => Just(Change::None),
        5 => mutations(4).prop_map(Change::Bytes),
        1 => Just(Change::Resign),
        1 => Just(Change::HighS),
        2 => (
            proptest::sample::select(vec!["iss", "hubUrl", "gaiaChallenge", "scopes", "exp", "iat", "associationToken"]),
            prop_oneof![
                Just(Value::Null),
                Just(Value::from("https://hub.example")),
                Just(Value::from(1u64)),
                Just(Value::Array(Vec::new())),
                Just(Value::from(other_key().public_key().to_hex())),
            ],
        )
            .prop_map(|(k, v)| Change::Claim(k.to_string(), v)),
    ]
}

/// Applies `change` to a `v1:<jwt>` token.
fn apply(v1: &str, change: &Change) -> String {
    let jwt_text = &v1[3..];
    let parts: Vec<&str> = jwt_text.split('.').collect();
    let [h, p, s] = parts[..] else {
        return v1.to_string();
    };
    let payload = || {
        from_base64url(p)
            .ok()
            .and_then(|b| json::from_slice(&b).ok())
            .and_then(|v| v.as_object().cloned())
            .unwrap_or_default()
    };
    match change {
        Change::None => v1.to_string(),
        Change::Bytes(m) => mutate(v1, m),
        Change::Resign => format!("v1:{}", jwt::sign(&Value::Object(payload()), &other_key())),
        Change::HighS => match from_base64url(s).ok().and_then(|b| high_s_twin(&b)) {
            Some(t) => format!("v1:{h}.{p}.{}", to_base64url(&t)),
            None => v1.to_string(),
        },
        Change::Claim(k, v) => {
            let mut m = payload();
            m.insert(k.clone(), v.clone());
            let text = json::to_string(&Value::Object(m));
            format!("v1:{h}.{}.{s}", to_base64url(text.as_bytes()))
        }
    }
}

fn same_signed_content(original_v1: &str, header: &str) -> bool {
    let Some(t) = header.get(7..).and_then(|a| a.strip_prefix("v1:")) else {
        return false;
    };
    let (Ok(a), Ok(b)) = (jwt::decode(&original_v1[3..]), jwt::decode(t)) else {
        return false;
    };
    let sig = |d: &jwt::DecodedToken| from_base64url(&d.signature).unwrap_or_default();
    a.signing_input() == b.signing_input()
        && (sig(&a) == sig(&b) || high_s_twin(&sig(&a)).as_deref() == Some(&sig(&b)[..]))
}

fn expected_scopes(p: &TokenPieces) -> Scopes {
    Scopes::from_kinds(
        p.scopes
            .iter()
            .filter_map(|(name, domain)| Some((ScopeKind::from_name(name)?, domain.clone()))),
    )
}

#[test]
fn auth_headers_accept_only_what_was_signed() {
    let address = key().public_key().address();
    fuzz(
        "hub auth::parse_header+validate",
        1_000,
        || {
            let prefix = prop_oneof![
                6 => Just("bearer "),
                1 => Just("Bearer "),
                1 => Just("BEARER\t"),
                1 => Just("bearer"),
                1 => Just("bearer  "),
                1 => Just("basic  "),
                1 => Just("béarer "),
            ];
            (token_pieces(), change(), prefix)
        },
        |(pieces, change, prefix)| {
            let genuine = token(&pieces);
            let header = format!("{prefix}{}", apply(&genuine, &change));
            let Ok(auth) = parse_header(Some(&header)) else {
                let valid_scopes = pieces.scopes.len() <= cairn_core::protocol::gaia::MAX_SCOPES
                    && pieces
                        .scopes
                        .iter()
                        .all(|(n, _)| SCOPE_NAMES.contains(&n.as_str()));
                check!(
                    !(matches!(change, Change::None)
                        && prefix.len() == 7
                        && prefix.is_char_boundary(6)
                        && prefix[..6].eq_ignore_ascii_case("bearer")
                        && valid_scopes),
                    "genuine header {header:?} refused"
                );
                return Ok(());
            };
            if matches!(change, Change::None) {
                check!(
                    auth.scopes == expected_scopes(&pieces),
                    "scopes {:?} read as {:?}",
                    pieces.scopes,
                    auth.scopes
                );
            }
            let p = &auth.scopes;
            for path in ["a", "a/b", ""] {
                let _ = (
                    p.check_write(&address, path),
                    p.check_delete(&address, path),
                    p.check_archival(&address, path),
                );
            }
            for revoked in [0, 5, 2_000_000_000] {
                if let Ok(signer) = auth.validate(&address, &policy(), revoked, NOW_S) {
                    check!(
                        same_signed_content(&genuine, &header),
                        "{header:?} (from {genuine:?} by {change:?}) validated as {signer}"
                    );
                    if pieces.association.is_none() {
                        check!(signer == address, "validated as {signer}, not {address}");
                    }
                }
            }
            Ok(())
        },
    );
}

#[test]
fn random_headers_never_panic() {
    fuzz(
        "hub auth::parse_header (text)",
        5_000,
        || "(?s)(bearer |Bearer v1:|v1:|eyJ|\\.|[a-zA-Z0-9_=-]|.){0,40}",
        |header| {
            if let Ok(a) = parse_header(Some(&header)) {
                let _ = a.validate("1abc", &policy(), 1, NOW_S);
            }
            Ok(())
        },
    );
}

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => "[a-zA-Z0-9_-]{1,6}",
        2 => "\\.?[a-z]{0,3}(\\.[a-z]{1,3})?",
        1 => Just(".history.".to_string()),
        1 => "(?s).{0,4}",
        1 => Just(String::new()),
    ]
}

#[test]
fn paths_and_history_names_agree_with_cairn() {
    fuzz(
        "hub paths+history names",
        10_000,
        || {
            (
                proptest::collection::vec(segment(), 1..5),
                any::<bool>(),
                // Real clocks: 12+ digits of milliseconds since 2001.
                1_000_000_000_000u64..10_000_000_000_000_000,
                proptest::collection::vec(any::<u8>(), 0..16),
                mutations(2),
            )
        },
        |(segments, slash, now_ms, id_bytes, m)| {
            let mut path = segments.join("/");
            if slash {
                path.push('/');
            }
            for p in [path.clone(), mutate(&path, &m)] {
                let stripped = paths::strip_one_trailing_slash(&p);
                if paths::validate_path(stripped).is_ok() {
                    check!(
                        !stripped.contains("..")
                            && !stripped.chars().any(char::is_control)
                            && stripped.split('/').all(|s| !s.is_empty() && s != "."),
                        "{stripped:?} is valid"
                    );
                }
                if parse_history_path(stripped).is_some() {
                    check!(
                        paths::is_history_file(stripped),
                        "Cairn reads {stripped:?} as a history name, the hub does not"
                    );
                }
                let _ = paths::is_valid_address(&p);
                let _ = paths::is_valid_read_bucket(&p);
            }
            let id = paths::history_id_from_bytes(&id_bytes);
            if let Some(id) = &id {
                check!(
                    id.len() == paths::HISTORY_ID_LEN
                        && id.bytes().all(|b| b.is_ascii_alphanumeric()),
                    "id {id:?}"
                );
            }
            let id = id.unwrap_or_else(|| "0123456789".into());
            let stripped = paths::strip_one_trailing_slash(&path);
            if paths::validate_path(stripped).is_ok() {
                let h = paths::history_path(stripped, now_ms, &id);
                if paths::validate_path(&h).is_ok() {
                    check!(paths::is_history_file(&h), "{h:?} is not a history file");
                    let parsed = parse_history_path(&h);
                    check!(
                        parsed
                            .as_ref()
                            .is_some_and(|p| p.original_path() == stripped
                                && p.replaced_at_ms == i64::try_from(now_ms).ok()
                                && p.id.as_deref() == Some(id.as_str())),
                        "the hub archives {stripped:?} as {h:?}, Cairn reads {parsed:?}"
                    );
                }
            }
            Ok(())
        },
    );
}

#[test]
fn envelopes_read_back_from_any_sufficient_suffix() {
    fuzz(
        "hub envelope::decode_trailer",
        3_000,
        || {
            (
                proptest::collection::vec(any::<u8>(), 0..40),
                "(?s).{0,12}",
                "[0-9a-f]{0,32}",
                proptest::option::of(prop_oneof![
                    any::<u64>(),
                    0u64..100,
                    u64::MAX - 200..=u64::MAX,
                ]),
                proptest::option::of("(?s).{0,6}"),
                mutations(3),
            )
        },
        |(content, content_type, etag, size, writer, m)| {
            let object = envelope::encode(&content, &content_type, &etag);
            let len = object.len() as u64;
            let trailer = object.len() - content.len();
            for cut in 0..=object.len() {
                let got = envelope::decode_trailer(&object[object.len() - cut..], len);
                if cut >= trailer {
                    check!(
                        got.as_ref()
                            .is_ok_and(|meta| meta.size == content.len() as u64
                                && meta.content_type == content_type
                                && meta.etag == etag),
                        "{object:?} from a suffix of {cut}: {got:?}"
                    );
                } else if cut >= FIXED_TRAILER_LEN {
                    check!(got == Err(EnvelopeError::NeedMore), "suffix {cut}: {got:?}");
                } else {
                    check!(got.is_err(), "suffix {cut}: {got:?}");
                }
            }
            // A trailer with any metadata (a size that does not fit, a writer), then
            // mutated: whatever decodes must be consistent with the object's length.
            let meta = Meta {
                content_type: content_type.clone(),
                etag: etag.clone(),
                size: size.unwrap_or(content.len() as u64),
                vid: writer.clone(),
                hprev: size,
                writer,
            };
            let mut forged = content.clone();
            forged.extend_from_slice(&envelope::encode_trailer(&meta));
            for bytes in [
                forged.clone(),
                mutate(&String::from_utf8_lossy(&forged), &m).into_bytes(),
            ] {
                for object_len in [bytes.len() as u64, size.unwrap_or(0), u64::MAX] {
                    if (bytes.len() as u64) > object_len {
                        continue;
                    }
                    if let Ok(meta) = envelope::decode_trailer(&bytes, object_len) {
                        let json_len = meta.to_json().len();
                        check!(
                            meta.size
                                .checked_add((json_len + FIXED_TRAILER_LEN) as u64)
                                .is_some_and(|total| total <= object_len),
                            "{bytes:?} of length {object_len} decodes to {meta:?}"
                        );
                    }
                }
            }
            Ok(())
        },
    );
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-c]{1,3}(/[a-c]{1,2})?",
        1 => "([a-c]/)?\\.history\\.[0-9]{1,3}\\.[a-c]",
        1 => "(?s).{0,3}",
    ]
}

#[test]
fn listing_pages_agree_and_cover_everything() {
    fuzz(
        "hub listing (paginate, page_sorted, cursors)",
        3_000,
        || {
            (
                proptest::collection::vec(name(), 0..12),
                0usize..5,
                any::<bool>(),
                proptest::option::of(name()),
                mutations(2),
            )
        },
        |(items, page_size, hide_history, after, m)| {
            let hide = |n: &str| hide_history && paths::is_history_file(n);
            let mut sorted = items.clone();
            sorted.sort();
            sorted.dedup();
            // The two pagers agree, from the start and from any name.
            for start in [None, after.as_deref()] {
                let a = listing::paginate(items.clone(), |s| s.as_str(), start, page_size, hide);
                let b = listing::page_sorted(&sorted, |s| s.as_str(), start, page_size, hide);
                let b_names: Vec<&String> = b.entries.to_vec();
                check!(
                    a.entries.iter().collect::<Vec<_>>() == b_names && a.next == b.next,
                    "after {start:?}, size {page_size}: paginate {a:?}, page_sorted {b:?}"
                );
            }
            // Following the cursors visits every visible name once, in order.
            let mut seen = Vec::new();
            let mut cursor: Option<String> = None;
            for _ in 0..=sorted.len() + 1 {
                let after = match &cursor {
                    Some(c) => Some(
                        listing::decode_cursor(c)
                            .map_err(|e| TestCaseError::fail(e.to_string()))?,
                    ),
                    None => None,
                };
                let page = listing::page_sorted(
                    &sorted,
                    |s| s.as_str(),
                    after.as_deref(),
                    page_size,
                    hide,
                );
                seen.extend(page.entries.iter().map(|s| s.to_string()));
                cursor = page.next;
                if cursor.is_none() {
                    break;
                }
            }
            let visible: Vec<String> = sorted.iter().filter(|n| !hide(n)).cloned().collect();
            check!(
                cursor.is_none() && seen == visible,
                "paging saw {seen:?}, visible {visible:?}"
            );
            // Cursors round-trip; mutated ones are refused or decode to some name.
            for n in &items {
                let c = listing::encode_cursor(n);
                check!(
                    listing::decode_cursor(&c).as_deref() == Ok(n.as_str()),
                    "cursor {c:?}"
                );
                let _ = listing::decode_cursor(&mutate(&c, &m));
            }
            Ok(())
        },
    );
}

#[test]
fn preconditions_follow_the_table() {
    fuzz(
        "hub precondition::parse",
        10_000,
        || {
            let header = prop_oneof![
                Just(None),
                Just(Some(String::new())),
                Just(Some("*".to_string())),
                "[0-9a-f\"*, ]{1,6}".prop_map(Some),
            ];
            (
                header.clone(),
                header,
                proptest::option::of("[0-9a-f\"*]{1,4}"),
            )
        },
        |(if_match, if_none_match, current)| {
            use precondition::{Precondition, PreconditionError};
            let im = if_match.as_deref().filter(|s| !s.is_empty());
            let inm = if_none_match.as_deref().filter(|s| !s.is_empty());
            let got = precondition::parse(if_match.as_deref(), if_none_match.as_deref());
            let want = match (im, inm) {
                (Some(_), Some(_)) => Err(PreconditionError::BothHeaders),
                (Some("*"), None) | (None, None) => Ok(Precondition::None),
                (Some(t), None) => Ok(Precondition::IfMatch(t.to_string())),
                (None, Some("*")) => Ok(Precondition::IfNoneMatchAny),
                (None, Some(_)) => Err(PreconditionError::IfNoneMatchMisuse),
            };
            check!(
                got == want,
                "{if_match:?} {if_none_match:?}: {got:?}, want {want:?}"
            );
            if let Ok(p) = got {
                let ok = p.check(current.as_deref()).is_ok();
                let want = match (&p, current.as_deref()) {
                    (Precondition::None, _) => true,
                    (Precondition::IfMatch(t), Some(c)) => t == c,
                    (Precondition::IfMatch(_), None) => false,
                    (Precondition::IfNoneMatchAny, c) => c.is_none(),
                    (other, _) => {
                        return Err(TestCaseError::fail(format!(
                            "unknown precondition {other:?}"
                        )));
                    }
                };
                check!(ok == want, "{p:?} against {current:?}: {ok}");
            }
            Ok(())
        },
    );
}

#[test]
fn configuration_text_never_panics() {
    let sample = "bind = \"127.0.0.1:4000\"\nstorage = \"disk:/tmp/x\"\n\
                  server_name = \"hub.example\"\nread_url = \"https://hub.example/read/\"\n\
                  max_upload_mb = 20\npage_size = 100\nwhitelist = [\"1abc\"]\n\
                  require_correct_hub_url = true\nvalid_hub_urls = [\"http://localhost:4000\"]\n\
                  [storage_options]\nregion = \"x\"\n";
    fuzz(
        "hub config::parse_toml",
        5_000,
        || (mutations(6), "(?s)[a-z0-9:/._ -]{0,20}"),
        |(m, storage)| {
            if let Ok(file) = config::parse_toml(&mutate(sample, &m)) {
                let _ = config::merge(config::Settings::default(), file);
            }
            let _ = config::parse_storage(&storage);
            Ok(())
        },
    );
}

#[test]
fn envelope_size_near_u64_max_is_refused() {
    // Found by envelopes_read_back_from_any_sufficient_suffix: `size + trailer length`
    // overflowed (a panic in debug builds; in release a wrapped sum could match the
    // object's length and a size of ~2^64 be accepted).
    let meta = Meta {
        content_type: String::new(),
        etag: String::new(),
        size: u64::MAX - 67,
        writer: None,
        vid: None,
        hprev: None,
    };
    let trailer = envelope::encode_trailer(&meta);
    for object_len in [trailer.len() as u64, u64::MAX, 100] {
        assert_eq!(
            envelope::decode_trailer(&trailer, object_len),
            Err(EnvelopeError::BadLength)
        );
    }
}
