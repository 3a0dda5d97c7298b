//! Fuzz target: what a server verifies (issue 17) — Sign-In with Stacks messages
//! (`cairn_core::protocol::sign_in_with_stacks`: `create_sign_in_message`,
//! `parse_sign_in_message`, `parse_sign_in_message_bytes`, `verify_sign_in`) and
//! authResponses (`cairn_core::protocol::response_verify::verify_sign_in_response`).
//!
//! Inputs start from structure: message fields generated within EIP-4361's grammar
//! (domains with ports, mainnet and testnet addresses of random keys, statements, URIs,
//! nonces, RFC 3339 times with fractions and offsets, request ids, resources), signed by
//! random keys; then byte mutations of the text, of the signature, or of a genuine
//! authResponse of Cairn's authenticator.
//!
//! Properties: generated fields write a message that parses back to the same fields, and
//! whatever parses writes back to a message that parses to the same fields again; the
//! parser never panics (on bytes too; non-UTF-8 is refused as such); a signed message
//! verifies, and a changed one verifies only if its text is unchanged and its signature
//! is the original or its high-S twin (which the JS verifier accepts too); an error names
//! a line within the message; a mutated authResponse verifies only with the signed payload
//! unchanged, and its result never carries the response's `private_key`.

#![allow(clippy::unwrap_used)] // a test that unwraps fails, which is what it should do
#![cfg(not(target_arch = "wasm32"))]

#[macro_use]
#[path = "support/fuzz.rs"]
mod fuzz;

use cairn_core::keys::PrivateKey;
use cairn_core::keys::keychain::Keychain;
use cairn_core::protocol::auth::{
    self, AuthRequestOptions, ResponseContext, ResponseRandomness, make_auth_request,
    verify_auth_request,
};
use cairn_core::protocol::jwt;
use cairn_core::protocol::response_verify::{ResponseCheck, verify_sign_in_response};
use cairn_core::protocol::sign_in_with_stacks::{
    CHAIN_ID_MAINNET, CHAIN_ID_TESTNET, SignInError, SignInFields, VerifyOptions,
    create_sign_in_message, parse_sign_in_message, parse_sign_in_message_bytes, sign_message,
    verify_sign_in,
};
use cairn_core::support::encoding::stx_address;
use cairn_core::support::json::{self, Value};
use fuzz::{fuzz, mutate, mutations};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

const NOW: i64 = 1_700_000_000_000; // 2023-11-14T22:13:20Z

/// A secp256k1 key from 32 random bytes (the rare invalid scalar is filtered out).
fn key() -> impl Strategy<Value = PrivateKey> {
    proptest::array::uniform32(any::<u8>())
        .prop_filter_map("a valid scalar", |b| PrivateKey::from_bytes(&b).ok())
}

fn domain() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => ("[a-z][a-z0-9-]{0,8}[a-z0-9]", "(\\.[a-z]{2,6}){0,2}", proptest::option::of(1u16..=65535))
            .prop_map(|(h, t, p)| match p {
                Some(p) => format!("{h}{t}:{p}"),
                None => format!("{h}{t}"),
            }),
        1 => Just("localhost:3000".to_string()),
        1 => Just("127.0.0.1:8080".to_string()),
        1 => Just("[::1]:8080".to_string()),
        1 => Just("xn--bcher-kva.example".to_string()),
    ]
}

/// RFC 3339 times: whole or fractional seconds, `Z` or an offset.
fn time() -> impl Strategy<Value = String> {
    (
        2000u32..2100,
        1u32..=12,
        1u32..=28,
        0u32..24,
        0u32..60,
        0u32..60,
        proptest::option::of("[0-9]{1,6}"),
        prop_oneof![
            3 => Just("Z".to_string()),
            1 => (prop_oneof![Just('+'), Just('-')], 0u32..24, 0u32..60)
                .prop_map(|(s, h, m)| format!("{s}{h:02}:{m:02}")),
        ],
    )
        .prop_map(|(y, mo, d, h, mi, s, frac, zone)| {
            let frac = frac.map(|f| format!(".{f}")).unwrap_or_default();
            format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{frac}{zone}")
        })
}

fn uri() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => (prop_oneof![Just("https"), Just("http")], domain(), "(/[a-z0-9._~-]{0,6}){0,3}")
            .prop_map(|(s, d, p)| format!("{s}://{d}{p}")),
        1 => "ipfs://[a-z0-9]{8,20}",
        1 => "urn:[a-z]{2,6}:[a-z0-9]{1,10}",
    ]
}

fn fields() -> impl Strategy<Value = (PrivateKey, SignInFields)> {
    (
        key(),
        any::<bool>(),
        domain(),
        proptest::option::of("[A-Za-z0-9][A-Za-z0-9 .,!?'()-]{0,60}[A-Za-z0-9.!?)]"),
        uri(),
        "[A-Za-z0-9]{8,40}",
        time(),
        proptest::option::of(time()),
        proptest::option::of(time()),
        proptest::option::of("[A-Za-z0-9._~-]{1,16}"),
        proptest::collection::vec(uri(), 0..4),
    )
        .prop_map(
            |(k, mainnet, domain, statement, uri, nonce, issued_at, exp, nbf, rid, res)| {
                let f = SignInFields {
                    domain,
                    address: stx_address(&k.public_key().to_compressed(), mainnet),
                    statement,
                    uri,
                    version: "1".into(),
                    chain_id: if mainnet {
                        CHAIN_ID_MAINNET
                    } else {
                        CHAIN_ID_TESTNET
                    },
                    nonce,
                    issued_at,
                    expiration_time: exp,
                    not_before: nbf,
                    request_id: rid,
                    resources: res,
                };
                (k, f)
            },
        )
}

/// Options under which `f` verifies: its domain, nonce, chain and address; `now` in 1990,
/// before any generated expiry, and a skew of 200 years, past any issue or start time (the
/// times' checks have their own table in server_verify.rs).
fn options_for(f: &SignInFields) -> VerifyOptions {
    const Y1990: i64 = 631_152_000_000;
    let mut o = VerifyOptions::new(&f.domain, &f.nonce, Y1990);
    o.chain_id = Some(f.chain_id);
    o.address = Some(f.address.clone());
    o.skew_ms = 200 * 365 * 86_400_000;
    o
}

/// The high-S twin of a low-S `r‖s‖v` hex signature.
fn high_s(sig: &str) -> Option<String> {
    let bytes = cairn_core::support::encoding::from_hex(sig).ok()?;
    let s = k256::ecdsa::Signature::from_slice(bytes.get(..64)?).ok()?;
    let (r, s) = s.split_scalars();
    let twin = k256::ecdsa::Signature::from_scalars(r.to_bytes(), (-*s).to_bytes()).ok()?;
    let mut out = twin.to_bytes().to_vec();
    out.push(bytes[64] ^ 1);
    Some(cairn_core::support::encoding::to_hex(&out))
}

/// Parses `text`; checks an error names a line within it, and that whatever parses
/// writes back to a message that parses to the same fields.
fn parse_checked(text: &str) -> Result<Option<SignInFields>, TestCaseError> {
    match parse_sign_in_message(text) {
        Ok(f) => {
            let again = create_sign_in_message(&f).map_err(|e| {
                TestCaseError::fail(format!("{text:?} parses but does not write: {e}"))
            })?;
            let back = parse_sign_in_message(&again).map_err(|e| {
                TestCaseError::fail(format!("{again:?} (written from {text:?}): {e}"))
            })?;
            check!(back == f, "{text:?} → {f:?} → {again:?} → {back:?}");
            Ok(Some(f))
        }
        Err(e) => {
            let _ = (e.kind(), e.to_string());
            if let Some(line) = e.line() {
                let lines = text.split('\n').count();
                check!(
                    (1..=lines + 1).contains(&line),
                    "{text:?}: line {line} of {lines} ({e})"
                );
            }
            Ok(None)
        }
    }
}

#[test]
fn siws_messages_round_trip() {
    fuzz("siws::create+parse", 500, fields, |(_, f)| {
        let text = create_sign_in_message(&f)
            .map_err(|e| TestCaseError::fail(format!("{f:?} does not write: {e}")))?;
        let back = parse_sign_in_message(&text)
            .map_err(|e| TestCaseError::fail(format!("{text:?}: {e}")))?;
        check!(back == f, "{text:?} parses to {back:?}, written from {f:?}");
        check!(
            create_sign_in_message(&back).as_deref() == Ok(text.as_str()),
            "{text:?} does not write back to itself"
        );
        // And through the JSON form the JS API and the CLI use.
        let json = SignInFields::from_json(&f.to_json())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        check!(json == f, "{f:?} → JSON → {json:?}");
        Ok(())
    });
}

#[test]
fn siws_parser_survives_mutation() {
    fuzz(
        "siws::parse (mutated)",
        2000,
        || (fields(), mutations(6)),
        |((_, f), m)| {
            let text = create_sign_in_message(&f).unwrap();
            let changed = mutate(&text, &m);
            parse_checked(&changed)?;
            // As bytes, with a byte that cannot be UTF-8 somewhere: refused as such.
            let mut bytes = changed.clone().into_bytes();
            let at = m[0].1 % (bytes.len() + 1);
            bytes.insert(at, 0xff);
            let r = parse_sign_in_message_bytes(&bytes);
            check!(
                matches!(
                    r,
                    Err(SignInError::NotUtf8 | SignInError::Empty | SignInError::TooLarge { .. })
                ),
                "{bytes:?} gave {r:?}"
            );
            Ok(())
        },
    );
}

#[test]
fn siws_verifies_only_what_was_signed() {
    fuzz(
        "siws::verify_sign_in",
        300,
        || {
            (
                fields(),
                proptest::option::of(mutations(4)),
                proptest::option::of(mutations(3)),
                0u8..4,
            )
        },
        |((k, f), message_change, signature_change, twist)| {
            let text = create_sign_in_message(&f).unwrap();
            let sig = sign_message(&k, &text);
            let opts = options_for(&f);
            let v = verify_sign_in(&text, &sig, &opts)
                .map_err(|e| TestCaseError::fail(format!("{text:?} does not verify: {e}")))?;
            check!(v.address == f.address && v.fields == f, "{v:?}");
            check!(v.public_key == k.public_key(), "another key recovered");
            let twin = high_s(&sig).unwrap();
            check!(
                verify_sign_in(&text, &twin, &opts).is_ok(),
                "the high-S twin is refused"
            );

            let sent = match &message_change {
                Some(m) => mutate(&text, m),
                None => text.clone(),
            };
            let sent_sig = match (&signature_change, twist) {
                (Some(m), _) => mutate(&sig, m),
                (None, 0) => sig.to_uppercase(),
                (None, 1) => twin.clone(),
                (None, 2) => sign_message(&PrivateKey::from_bytes(&[7; 32]).unwrap(), &text),
                (None, _) => sig.clone(),
            };
            match verify_sign_in(&sent, &sent_sig, &opts) {
                Ok(v) => {
                    check!(
                        sent == text,
                        "changed message {sent:?} verified (from {text:?})"
                    );
                    check!(
                        sent_sig.eq_ignore_ascii_case(&sig) || sent_sig.eq_ignore_ascii_case(&twin),
                        "changed signature {sent_sig:?} verified (signed {sig:?})"
                    );
                    check!(v.address == f.address, "{v:?}");
                }
                Err(e) => {
                    let _ = (e.kind(), e.to_string());
                }
            }
            Ok(())
        },
    );
}

const APP: &str = "https://app.example";
const NONCE: &str = "n0nce4Server";

/// One genuine bound authResponse of Cairn's authenticator (made once: key derivation is slow).
fn cairn_response() -> (String, String) {
    let transit = PrivateKey::from_hex(&"22".repeat(32)).unwrap();
    let token = make_auth_request(
        &transit,
        &AuthRequestOptions {
            domain_name: APP.into(),
            now_ms: NOW,
            ..Default::default()
        },
    )
    .unwrap();
    let mut d = jwt::decode(&token).unwrap();
    d.payload.insert("nonce".into(), NONCE.into());
    let token = jwt::sign(&Value::Object(d.payload), &transit);
    let request = verify_auth_request(&token, Some(APP), NOW).unwrap();
    let kc = Keychain::from_mnemonic(
        "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
    )
    .unwrap();
    let ctx = ResponseContext {
        hub_url: "https://hub.example".into(),
        read_url_prefix: Some("https://gaia.example/hub/".into()),
        now_ms: NOW,
        ..Default::default()
    };
    let rnd = ResponseRandomness::generate().unwrap();
    let signin = auth::make_auth_response(&kc, 0, &request, &ctx, &rnd).unwrap();
    let private_key = jwt::decode(&signin.token)
        .unwrap()
        .payload
        .get("private_key")
        .and_then(Value::as_str)
        .unwrap()
        .to_string();
    (signin.token, private_key)
}

#[test]
fn sign_in_responses_verify_only_what_was_signed() {
    let (token, private_key) = cairn_response();
    let original = jwt::decode(&token).unwrap().payload;
    let checks = [
        ResponseCheck {
            app_domain: Some(APP.into()),
            nonce: Some(NONCE.into()),
            now_ms: NOW + 1000,
            skew_ms: 0,
        },
        ResponseCheck {
            app_domain: None,
            nonce: None,
            now_ms: NOW + 1000,
            skew_ms: 300_000,
        },
    ];
    for c in &checks {
        let v = verify_sign_in_response(&token, c).unwrap();
        assert!(!json::to_string(&v.to_json()).contains(&private_key));
    }
    fuzz(
        "response_verify::verify_sign_in_response",
        2000,
        || (mutations(5), any::<bool>()),
        move |(m, bound)| {
            let changed = mutate(&token, &m);
            let c = &checks[usize::from(!bound)];
            if let Ok(v) = verify_sign_in_response(&changed, c) {
                let payload = jwt::decode(changed.trim())
                    .map_err(|e| TestCaseError::fail(format!("{changed:?} verified but: {e}")))?
                    .payload;
                check!(
                    payload == original,
                    "{changed:?} verified with another payload"
                );
                check!(
                    !json::to_string(&v.to_json()).contains(&private_key),
                    "the result carries private_key"
                );
            }
            Ok(())
        },
    );
}
