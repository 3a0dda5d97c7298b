//! Fuzz target: signed tokens — JWT decoding and ES256K verification (`cairn_core::protocol::jwt`),
//! authRequest verification (`cairn_core::protocol::auth::verify_auth_request`), authResponses
//! (`handle_auth_response`) and profile token files (`claim_from_profile_file`).
//!
//! Inputs start from genuinely signed tokens (payloads with generated claims, app URLs
//! from the same pieces as the URL target) and are then changed the ways an attacker
//! could: byte mutations of the compact text, re-encoded headers (`alg` none, other
//! algorithms) and payloads (a claim changed, added or removed, re-signed by another
//! key), signatures truncated, padded, swapped or flipped to their high-S twin, and a
//! `blockstack:` prefix or white space around the token.
//!
//! Properties: decoding never panics and gives back exactly what was signed; a token
//! verifies only if its signed bytes (`header.payload`) are the original ones — the
//! one other accepted form is the high-S twin of the signature, which the JS verifier
//! accepts too; an accepted authRequest has its domain, redirect and manifest URLs on
//! one origin by `url`'s (WHATWG) reading as well as ours, and matches the expected
//! origin by that reading too.

#![allow(clippy::unwrap_used)] // a test that unwraps fails, which is what it should do
#![cfg(not(target_arch = "wasm32"))]

#[macro_use]
#[path = "support/fuzz.rs"]
mod fuzz;

use cairn_core::keys::PrivateKey;
use cairn_core::protocol::auth::{handle_auth_response, verify_auth_request};
use cairn_core::protocol::jwt;
use cairn_core::protocol::profile::claim_from_profile_file;
use cairn_core::support::encoding::{from_base64url, to_base64url};
use cairn_core::support::json::{self, Map, Value};
use fuzz::{fuzz, mutate, mutations};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

const NOW_MS: i64 = 1_700_000_000_000;

fn app_key() -> PrivateKey {
    PrivateKey::from_hex("6dad38fa92add38d913bdfb2e646ef4ce2a50a2f39853f848a792835626a5690")
        .expect("a valid key")
}

fn other_key() -> PrivateKey {
    PrivateKey::from_hex("0000000000000000000000000000000000000000000000000000000000000007")
        .expect("a valid key")
}

/// The secp256k1 group order.
const N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
];

/// `r ‖ (n − s)`: the other signature that verifies for the same message.
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

fn url_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("https://app.example"),
        Just("https://App.Example"),
        Just("https://app.example:443"),
        Just("https://app.example:0443"),
        Just("http://app.example"),
        Just("https://app.example."),
        Just("https://evil.example"),
        Just("https://app.example@evil.example"),
        Just("http://127.0.0.1:8080"),
        Just("http://2130706433:8080"),
        Just("http://0x7f.1:8080"),
        Just("http://127.1:8080"),
        Just("http://[::1]:8080"),
        Just("http://[0:0::1]:8080"),
        Just("http://[::ffff:127.0.0.1]"),
        Just("http://[::ffff:7f00:1]"),
        Just("https://xn--nxasmq6b.example"),
        Just("https://xn--a.example"),
        Just("HTTPS://APP.EXAMPLE"),
        Just("https:app.example"),
        Just("https:/app.example"),
        Just("https:\\\\app.example"),
    ]
    .prop_map(str::to_string)
}

fn path_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(""),
        Just("/"),
        Just("/manifest.json"),
        Just("/cb?x=1#f"),
        Just("//evil.example/"),
        Just("\\evil.example"),
        Just("?q"),
        Just("#/x"),
    ]
    .prop_map(str::to_string)
}

#[derive(Debug, Clone)]
struct RequestPieces {
    domain: String,
    redirect: (String, String),
    manifest: (String, String),
    expected: Option<String>,
    scopes: Option<Vec<String>>,
    exp_s: Option<i64>,
    iat_s: Option<i64>,
    signer_is_issuer: bool,
}

fn request_pieces() -> impl Strategy<Value = RequestPieces> {
    let scope = prop_oneof![
        Just("store_write".to_string()),
        Just("publish_data".to_string()),
        Just("email".to_string()),
        "collection\\.[a-z][a-z0-9_-]{0,5}(\\.read)?",
        "[a-z._]{0,12}",
    ];
    let scope = prop_oneof![4 => Just("store_write".to_string()), 6 => scope];
    // Mostly on the domain's own origin, so that many requests get through the URL
    // checks and the properties have something to check.
    let same = || prop::option::weighted(0.3, url_piece());
    (
        url_piece(),
        (same(), path_piece()),
        (same(), path_piece()),
        prop::option::weighted(0.5, same()),
        prop::option::weighted(0.8, proptest::collection::vec(scope, 0..4)),
        prop::option::weighted(
            0.9,
            prop_oneof![
                8 => Just(NOW_MS / 1000 + 3600),
                1 => Just(NOW_MS / 1000 - 1),
                1 => Just(0)
            ],
        ),
        prop::option::weighted(
            0.9,
            prop_oneof![
                8 => Just(NOW_MS / 1000 - 60),
                1 => Just(NOW_MS / 1000 + 3600)
            ],
        ),
        prop::bool::weighted(0.9),
    )
        .prop_map(
            |(domain, redirect, manifest, expected, scopes, exp_s, iat_s, signer_is_issuer)| {
                let or_domain = |u: Option<String>| u.unwrap_or_else(|| domain.clone());
                RequestPieces {
                    redirect: (or_domain(redirect.0), redirect.1),
                    manifest: (or_domain(manifest.0), manifest.1),
                    expected: expected.map(or_domain),
                    domain,
                    scopes,
                    exp_s,
                    iat_s,
                    signer_is_issuer,
                }
            },
        )
}

fn signed_request(p: &RequestPieces) -> String {
    let key = app_key();
    let issuer = if p.signer_is_issuer {
        key.public_key()
    } else {
        other_key().public_key()
    };
    let mut m = Map::new();
    m.insert("jti".into(), "00000000-0000-4000-8000-000000000000".into());
    if let Some(iat) = p.iat_s {
        m.insert("iat".into(), iat.into());
    }
    if let Some(exp) = p.exp_s {
        m.insert("exp".into(), exp.into());
    }
    m.insert(
        "iss".into(),
        format!("did:btc-addr:{}", issuer.address()).into(),
    );
    m.insert(
        "public_keys".into(),
        Value::Array(vec![key.public_key().to_hex().into()]),
    );
    m.insert("domain_name".into(), p.domain.as_str().into());
    m.insert(
        "manifest_uri".into(),
        format!("{}{}", p.manifest.0, p.manifest.1).into(),
    );
    m.insert(
        "redirect_uri".into(),
        format!("{}{}", p.redirect.0, p.redirect.1).into(),
    );
    m.insert("version".into(), "1.4.0".into());
    if let Some(s) = &p.scopes {
        m.insert("scopes".into(), s.clone().into());
    }
    jwt::sign(&Value::Object(m), &key)
}

fn whatwg_origin(text: &str) -> Result<String, String> {
    url::Url::parse(text)
        .map(|u| u.origin().ascii_serialization())
        .map_err(|e| format!("{text:?}: {e}"))
}

/// The ways a token gets changed.
#[derive(Debug, Clone)]
enum Change {
    Bytes(Vec<(u8, usize, u8)>),
    Header(String),
    Claim(String, String),
    DropClaim(String),
    ResignedByOther,
    HighS,
    Signature(String),
    Wrap(String, String),
}

fn change() -> impl Strategy<Value = Change> {
    let claim = prop_oneof![
        Just("domain_name".to_string()),
        Just("redirect_uri".to_string()),
        Just("manifest_uri".to_string()),
        Just("exp".to_string()),
        Just("iat".to_string()),
        Just("iss".to_string()),
        Just("public_keys".to_string()),
        Just("scopes".to_string()),
        Just("gaiaChallenge".to_string()),
        Just("hubUrl".to_string()),
        Just("x".to_string()),
    ];
    let claim_value = prop_oneof![
        Just("\"https://evil.example\"".to_string()),
        Just("null".to_string()),
        Just("9999999999".to_string()),
        Just("1e400".to_string()),
        Just("[]".to_string()),
        Just("[\"collection.contact\"]".to_string()),
        Just("\"\"".to_string()),
        Just("{}".to_string()),
    ];
    prop_oneof![
        6 => mutations(4).prop_map(Change::Bytes),
        1 => prop_oneof![
            Just(r#"{"typ":"JWT","alg":"none"}"#),
            Just(r#"{"typ":"JWT","alg":"NONE"}"#),
            Just(r#"{"typ":"JWT","alg":"HS256"}"#),
            Just(r#"{"typ":"JWT","alg":"ES256K","alg":"none"}"#),
            Just(r#"{"typ":"JWT"}"#),
            Just(r#"{"alg":"ES256K","typ":"JWT"}"#),
            Just(r#"{"typ":"JWT","alg":"ES256K"} "#),
            Just("[]"),
        ]
        .prop_map(|h| Change::Header(h.to_string())),
        2 => (claim.clone(), claim_value).prop_map(|(k, v)| Change::Claim(k, v)),
        1 => claim.prop_map(Change::DropClaim),
        1 => Just(Change::ResignedByOther),
        1 => Just(Change::HighS),
        1 => prop_oneof![
            Just(String::new()),
            Just("AA".to_string()),
            "[A-Za-z0-9_-]{86}",
            "[A-Za-z0-9_-]{86}==",
        ]
        .prop_map(Change::Signature),
        1 => (
            prop_oneof![Just(""), Just(" "), Just("blockstack:"), Just("\n"), Just("blockstack: ")],
            prop_oneof![Just(""), Just(" "), Just("\t"), Just("."), Just("=")]
        )
            .prop_map(|(a, b)| Change::Wrap(a.to_string(), b.to_string())),
    ]
}

fn apply(token: &str, change: &Change) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let [h, p, s] = parts[..] else {
        return token.to_string();
    };
    let payload = || -> Map<String, Value> {
        from_base64url(p)
            .ok()
            .and_then(|b| json::from_slice(&b).ok())
            .and_then(|v| v.as_object().cloned())
            .unwrap_or_default()
    };
    match change {
        Change::Bytes(m) => mutate(token, m),
        Change::Header(new) => format!("{}.{p}.{s}", to_base64url(new.as_bytes())),
        Change::Claim(k, v) => {
            let mut m = payload();
            m.insert(k.clone(), json::from_str(v).unwrap_or_default());
            let text = json::to_string(&Value::Object(m));
            format!("{h}.{}.{s}", to_base64url(text.as_bytes()))
        }
        Change::DropClaim(k) => {
            let mut m = payload();
            m.remove(k);
            let text = json::to_string(&Value::Object(m));
            format!("{h}.{}.{s}", to_base64url(text.as_bytes()))
        }
        Change::ResignedByOther => jwt::sign(&Value::Object(payload()), &other_key()),
        Change::HighS => match from_base64url(s).ok().and_then(|b| high_s_twin(&b)) {
            Some(t) => format!("{h}.{p}.{}", to_base64url(&t)),
            None => token.to_string(),
        },
        Change::Signature(sig) => format!("{h}.{p}.{sig}"),
        Change::Wrap(a, b) => format!("{a}{token}{b}"),
    }
}

/// Whether `changed` carries the same signed bytes and (up to the high-S twin) the
/// same signature as `original`.
fn same_signed_content(original: &str, changed: &str) -> bool {
    let (Ok(a), Ok(b)) = (jwt::decode(original), jwt::decode(changed)) else {
        return false;
    };
    let sig = |d: &jwt::DecodedToken| from_base64url(&d.signature).unwrap_or_default();
    a.signing_input() == b.signing_input()
        && (sig(&a) == sig(&b) || high_s_twin(&sig(&a)).as_deref() == Some(&sig(&b)[..]))
}

#[test]
fn jwt_verifies_only_what_was_signed() {
    fuzz(
        "jwt::decode+verify",
        1000,
        || {
            let claim = ("[a-z_]{1,8}", "[ -~é😀]{0,12}");
            (proptest::collection::vec(claim, 0..5), change())
        },
        |(claims, change)| {
            let key = app_key();
            let value = Value::Object(
                claims
                    .iter()
                    .map(|(k, v)| (k.as_str(), Value::from(v.as_str())))
                    .collect(),
            );
            let token = jwt::sign(&value, &key);
            let decoded = jwt::decode(&token).map_err(|e| TestCaseError::fail(e.to_string()))?;
            check!(
                Value::Object(decoded.payload.clone()) == value,
                "{token} decodes to {:?}, signed {value:?}",
                decoded.payload
            );
            check!(
                decoded.verify(&key.public_key()).is_ok(),
                "{token} does not verify"
            );
            let changed = apply(&token, &change);
            if let Ok(d) = jwt::decode(&changed) {
                let _ = d.to_json();
                if d.verify(&key.public_key()).is_ok() {
                    check!(
                        same_signed_content(&token, &changed),
                        "{changed:?} (from {token:?} by {change:?}) verifies"
                    );
                }
            }
            Ok(())
        },
    );
}

#[test]
fn auth_requests_verify_only_what_was_signed() {
    fuzz(
        "auth::verify_auth_request",
        1000,
        || (request_pieces(), proptest::option::of(change())),
        |(pieces, change)| {
            let token = signed_request(&pieces);
            let sent = match &change {
                Some(c) => apply(&token, c),
                None => token.clone(),
            };
            let Ok(req) = verify_auth_request(&sent, pieces.expected.as_deref(), NOW_MS) else {
                return Ok(());
            };
            let bare = sent.trim();
            let bare = bare.strip_prefix("blockstack:").unwrap_or(bare);
            check!(
                same_signed_content(&token, bare),
                "{sent:?} (from {token:?} by {change:?}) was accepted"
            );
            // Same origin for us is same origin for a browser.
            let origin = match whatwg_origin(&req.domain_name) {
                Ok(o) => o,
                // Unchecked punycode (src/http_url.rs): no browser origin at all.
                Err(_) if req.domain_name.contains("xn--") => return Ok(()),
                Err(e) => return Err(TestCaseError::fail(e)),
            };
            for (what, url) in [
                ("redirect_uri", &req.redirect_uri),
                ("manifest_uri", &req.manifest_uri),
            ] {
                let theirs = whatwg_origin(url).map_err(TestCaseError::fail)?;
                check!(
                    theirs == origin,
                    "accepted {what} {url:?} is on {theirs} for WHATWG, domain_name {:?} on {origin}",
                    req.domain_name
                );
            }
            if let Some(expected) = &pieces.expected {
                let theirs = whatwg_origin(expected).map_err(TestCaseError::fail)?;
                check!(
                    theirs == origin,
                    "expected origin {expected:?} is {theirs} for WHATWG, domain_name {:?} is {origin}",
                    req.domain_name
                );
            }
            Ok(())
        },
    );
}

#[test]
fn auth_responses_and_profiles_never_panic() {
    let transit = app_key();
    let body = prop_oneof![
        Just(format!(
            "[{{\"token\":\"{}\",\"decodedToken\":{{}}}}]",
            jwt::sign(&cairn_core::json!({"claim": {"name": "x"}}), &transit)
        )),
        Just(jwt::sign(
            &cairn_core::json!({"private_key": "00", "username": null}),
            &transit
        )),
        Just("[]".to_string()),
    ];
    fuzz(
        "auth::handle_auth_response+profile",
        2000,
        move || (body, mutations(4)),
        |(body, m)| {
            let changed = mutate(&body, &m);
            let _ = handle_auth_response(&changed, &transit, NOW_MS);
            let _ = claim_from_profile_file(&changed);
            Ok(())
        },
    );
}

#[test]
fn high_s_twin_is_what_the_verifier_accepts() {
    // The one accepted change, checked directly: the twin verifies and is different.
    let key = app_key();
    let token = jwt::sign(&cairn_core::json!({"a": 1}), &key);
    let twin = apply(&token, &Change::HighS);
    assert_ne!(token, twin);
    assert!(
        jwt::decode(&twin)
            .unwrap()
            .verify(&key.public_key())
            .is_ok()
    );
    assert!(same_signed_content(&token, &twin));
}
