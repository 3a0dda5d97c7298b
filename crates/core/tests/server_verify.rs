//! Server-side verification (issue 17): Sign-In with Stacks messages and authResponses.
//! A table of bad inputs, each with the error it must give; authResponses made by
//! Cairn's authenticator, bound (`aud`, `nonce`) and tampered; and a seeded mutation
//! loop over both parsers (no panics, and nothing mutated verifies).

#![allow(clippy::unwrap_used)] // a test that unwraps fails, which is what it should do

use cairn_core::keys::PrivateKey;
use cairn_core::keys::keychain::Keychain;
use cairn_core::protocol::auth::{
    self, AuthRequestOptions, ResponseContext, ResponseRandomness, make_auth_request,
    verify_auth_request,
};
use cairn_core::protocol::jwt;
use cairn_core::protocol::response_verify::{
    ResponseCheck, ResponseVerifyError, verify_sign_in_response,
};
use cairn_core::protocol::sign_in_with_stacks::{
    CHAIN_ID_MAINNET, CHAIN_ID_TESTNET, SignInError, SignInFields, VerifyOptions,
    create_sign_in_message, parse_sign_in_message, parse_sign_in_message_bytes, sign_message,
    verify_sign_in,
};
use cairn_core::support::encoding::{from_base64url, stx_address, to_base64url};
use cairn_core::support::json::{self, Value};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

#[path = "support/rng.rs"]
mod rng;
use rng::Rng;

const NOW: i64 = 1_700_000_000_000; // 2023-11-14T22:13:20Z
const NONCE: &str = "n0nce4Server";

fn key() -> PrivateKey {
    PrivateKey::from_hex("6dad38fa92add38d913bdfb2e646ef4ce2a50a2f39853f848a792835626a5690")
        .unwrap()
}

fn fields(k: &PrivateKey) -> SignInFields {
    SignInFields {
        domain: "example.com".into(),
        address: stx_address(&k.public_key().to_compressed(), true),
        statement: Some("Sign in to the example service.".into()),
        uri: "https://example.com/login".into(),
        version: "1".into(),
        chain_id: CHAIN_ID_MAINNET,
        nonce: NONCE.into(),
        issued_at: "2023-11-14T22:13:00Z".into(),
        expiration_time: Some("2023-11-14T22:18:20Z".into()),
        not_before: None,
        request_id: None,
        resources: vec![],
    }
}

fn opts() -> VerifyOptions {
    VerifyOptions::new("example.com", NONCE, NOW)
}

/// The message text of `fields`, then `edit` applied to it, signed by `k`.
fn signed(k: &PrivateKey, f: &SignInFields, edit: impl Fn(String) -> String) -> (String, String) {
    let text = edit(create_sign_in_message(f).unwrap());
    let sig = sign_message(k, &text);
    (text, sig)
}

#[test]
fn a_good_sign_in_verifies() {
    let k = key();
    let f = fields(&k);
    let (text, sig) = signed(&k, &f, |t| t);
    let v = verify_sign_in(&text, &sig, &opts()).unwrap();
    assert_eq!(v.address, f.address);
    assert_eq!(v.public_key, k.public_key());
    assert_eq!(v.fields, f);
    // Testnet, with every optional field, a port and an IPv6 host.
    for domain in ["localhost:3000", "[::1]:8080", "xn--bcher-kva.example"] {
        let t = SignInFields {
            domain: domain.into(),
            address: stx_address(&k.public_key().to_compressed(), false),
            chain_id: CHAIN_ID_TESTNET,
            not_before: Some("2023-11-14T23:13:00+01:00".into()),
            request_id: Some("req%20one:@".into()),
            resources: vec!["ipfs://bafy".into(), "https://example.com/r".into()],
            ..f.clone()
        };
        let (text, sig) = signed(&k, &t, |t| t);
        let o = VerifyOptions {
            domain: domain.into(),
            chain_id: Some(CHAIN_ID_TESTNET),
            address: Some(t.address.clone()),
            ..opts()
        };
        assert_eq!(verify_sign_in(&text, &sig, &o).unwrap().fields, t);
    }
    // High-S: (r, n - s) with the other recovery parity is the same signature.
    let high = high_s(&sig);
    assert_ne!(high, sig);
    assert_eq!(
        verify_sign_in(&text, &high, &opts()).unwrap().public_key,
        k.public_key()
    );
}

/// The high-S twin of a low-S `r‖s‖v` hex signature.
fn high_s(sig: &str) -> String {
    let bytes = cairn_core::support::encoding::from_hex(sig).unwrap();
    let low = k256::ecdsa::Signature::from_slice(&bytes[..64]).unwrap();
    assert!(low.normalize_s() == low, "signatures are made low-S");
    let (r, s) = low.split_scalars();
    let high = k256::ecdsa::Signature::from_scalars(r.to_bytes(), (-*s).to_bytes()).unwrap();
    let mut out = high.to_bytes().to_vec();
    out.push(bytes[64] ^ 1);
    cairn_core::support::encoding::to_hex(&out)
}

#[test]
fn bad_inputs_each_give_their_error() {
    let k = key();
    let f = fields(&k);
    let good = create_sign_in_message(&f).unwrap();
    let good_sig = sign_message(&k, &good);
    let other = PrivateKey::from_hex(&"11".repeat(32)).unwrap();
    // (name, message, signature or None for a fresh signature by `k`, options, expected kind, line)
    type Case = (
        &'static str,
        String,
        Option<String>,
        VerifyOptions,
        &'static str,
        Option<usize>,
    );
    let edit = |from: &str, to: &str| good.replacen(from, to, 1);
    let not_yet = create_sign_in_message(&SignInFields {
        not_before: Some("2023-11-14T22:30:00Z".into()),
        expiration_time: Some("2023-11-15T00:00:00Z".into()),
        ..f.clone()
    })
    .unwrap();
    let mut cases: Vec<Case> = vec![
        ("empty", String::new(), None, opts(), "empty", None),
        (
            "oversized",
            format!("{good}{}", "x".repeat(16 * 1024)),
            None,
            opts(),
            "too_large",
            None,
        ),
        (
            "crlf",
            good.replace('\n', "\r\n"),
            None,
            opts(),
            "crlf",
            Some(1),
        ),
        (
            "ethereum header",
            edit("Stacks account", "Ethereum account"),
            None,
            opts(),
            "malformed",
            Some(1),
        ),
        (
            "domain with userinfo",
            edit("example.com wants", "user@example.com wants"),
            None,
            opts(),
            "bad_domain",
            Some(1),
        ),
        (
            "domain upper case",
            edit("example.com wants", "Example.com wants"),
            None,
            opts(),
            "bad_domain",
            Some(1),
        ),
        (
            "domain look-alike",
            edit("example.com wants", "ex\u{430}mple.com wants"),
            None,
            opts(),
            "bad_domain",
            Some(1),
        ),
        (
            "domain with scheme",
            edit("example.com wants", "https://example.com wants"),
            None,
            opts(),
            "bad_domain",
            Some(1),
        ),
        (
            "domain bad port",
            edit("example.com wants", "example.com:99999 wants"),
            None,
            opts(),
            "bad_domain",
            Some(1),
        ),
        (
            "address not c32",
            edit(&f.address, "SP2J6ZY48GV1EZ5V2V5RB9MP66SW86PYKKNRV9EJ8"),
            None,
            opts(),
            "malformed",
            Some(2),
        ),
        (
            "address lower case",
            edit(&f.address, &f.address.to_lowercase()),
            None,
            opts(),
            "malformed",
            Some(2),
        ),
        (
            "statement with non-ASCII",
            edit("service.", "servic\u{e9}."),
            None,
            opts(),
            "malformed",
            Some(4),
        ),
        (
            "no blank line after statement",
            edit("service.\n\n", "service.\n"),
            None,
            opts(),
            "malformed",
            Some(5),
        ),
        (
            "missing nonce",
            edit(&format!("Nonce: {NONCE}\n"), ""),
            None,
            opts(),
            "missing_field",
            Some(9),
        ),
        (
            "missing issued at",
            edit("\nIssued At: 2023-11-14T22:13:00Z", ""),
            None,
            opts(),
            "missing_field",
            Some(10),
        ),
        (
            "duplicated version",
            edit("Version: 1\n", "Version: 1\nVersion: 1\n"),
            None,
            opts(),
            "duplicate_field",
            Some(8),
        ),
        (
            "out of order",
            edit("Version: 1\nChain ID: 1\n", "Chain ID: 1\nVersion: 1\n"),
            None,
            opts(),
            "field_out_of_order",
            Some(8),
        ),
        (
            "unknown field",
            edit("Version: 1\n", "Version: 1\nColour: red\n"),
            None,
            opts(),
            "malformed",
            Some(8),
        ),
        (
            "trailing newline",
            format!("{good}\n"),
            None,
            opts(),
            "malformed",
            Some(12),
        ),
        (
            "version 2",
            edit("Version: 1", "Version: 2"),
            None,
            opts(),
            "malformed",
            Some(7),
        ),
        (
            "relative uri",
            edit("URI: https://example.com/login", "URI: /login"),
            None,
            opts(),
            "malformed",
            Some(6),
        ),
        (
            "short nonce",
            good.replace(NONCE, "abc123"),
            None,
            VerifyOptions {
                nonce: "abc123".into(),
                ..opts()
            },
            "malformed",
            Some(9),
        ),
        (
            "nonce with symbols",
            good.replace(NONCE, "abc-12345"),
            None,
            opts(),
            "malformed",
            Some(9),
        ),
        (
            "time without zone",
            edit("22:13:00Z", "22:13:00"),
            None,
            opts(),
            "time_without_zone",
            Some(10),
        ),
        (
            "time not rfc3339",
            edit("2023-11-14T22:13:00Z", "14 Nov 2023 22:13"),
            None,
            opts(),
            "malformed",
            Some(10),
        ),
        (
            "chain id leading zero",
            edit("Chain ID: 1", "Chain ID: 01"),
            None,
            opts(),
            "malformed",
            Some(8),
        ),
        (
            "signature too short",
            good.clone(),
            Some(good_sig[..128].to_string()),
            opts(),
            "signature_length",
            None,
        ),
        (
            "signature empty",
            good.clone(),
            Some(String::new()),
            opts(),
            "empty",
            None,
        ),
        (
            "signature not hex",
            good.clone(),
            Some("zz".repeat(65)),
            opts(),
            "bad_input",
            None,
        ),
        (
            "recovery id 27",
            good.clone(),
            Some(format!("{}1b", &good_sig[..128])),
            opts(),
            "recovery_id",
            None,
        ),
        (
            "recovery id flipped",
            good.clone(),
            Some(format!(
                "{}{:02x}",
                &good_sig[..128],
                u8::from_str_radix(&good_sig[128..], 16).unwrap() ^ 1
            )),
            opts(),
            "bad_signature",
            None,
        ),
        (
            "signed by someone else",
            good.clone(),
            Some(sign_message(&other, &good)),
            opts(),
            "bad_signature",
            None,
        ),
        (
            "message altered after signing",
            edit("service.", "service!"),
            Some(good_sig.clone()),
            opts(),
            "bad_signature",
            None,
        ),
        (
            "domain mismatch",
            good.clone(),
            None,
            VerifyOptions {
                domain: "evil.example".into(),
                ..opts()
            },
            "domain_mismatch",
            None,
        ),
        (
            "domain port mismatch",
            good.clone(),
            None,
            VerifyOptions {
                domain: "example.com:8443".into(),
                ..opts()
            },
            "domain_mismatch",
            None,
        ),
        (
            "nonce mismatch (replay)",
            good.clone(),
            None,
            VerifyOptions {
                nonce: "another1nonce".into(),
                ..opts()
            },
            "nonce_mismatch",
            None,
        ),
        (
            "expired",
            good.clone(),
            None,
            VerifyOptions {
                now_ms: NOW + 5 * 60_000,
                ..opts()
            },
            "expired",
            None,
        ),
        (
            "issued in the future",
            good.clone(),
            None,
            VerifyOptions {
                now_ms: NOW - 6 * 60_000,
                ..opts()
            },
            "issued_in_future",
            None,
        ),
        (
            "issued in the future, no skew",
            good.clone(),
            None,
            VerifyOptions {
                now_ms: NOW - 30_000,
                skew_ms: 0,
                ..opts()
            },
            "issued_in_future",
            None,
        ),
        (
            "not yet valid",
            not_yet,
            None,
            opts(),
            "not_yet_valid",
            None,
        ),
        (
            "wrong chain expected",
            good.clone(),
            None,
            VerifyOptions {
                chain_id: Some(CHAIN_ID_TESTNET),
                ..opts()
            },
            "wrong_chain",
            None,
        ),
        (
            "unknown chain",
            edit("Chain ID: 1", "Chain ID: 5"),
            None,
            opts(),
            "wrong_chain",
            None,
        ),
        (
            "testnet address on mainnet",
            good.replace(
                &f.address,
                &stx_address(&k.public_key().to_compressed(), false),
            ),
            None,
            opts(),
            "wrong_chain",
            None,
        ),
        (
            "address mismatch",
            good.clone(),
            None,
            VerifyOptions {
                address: Some(stx_address(&other.public_key().to_compressed(), true)),
                ..opts()
            },
            "address_mismatch",
            None,
        ),
    ];
    // A message signed by `other` that names `k`'s address.
    cases.push((
        "claims another address",
        good.clone(),
        Some(sign_message(&other, &good)),
        opts(),
        "bad_signature",
        None,
    ));
    assert!(cases.len() >= 20);
    let mut names = std::collections::BTreeSet::new();
    for (name, message, sig, o, kind, line) in cases {
        assert!(names.insert(name), "duplicate case name {name}");
        let sig = sig.unwrap_or_else(|| sign_message(&k, &message));
        let err = match verify_sign_in(&message, &sig, &o) {
            Ok(_) => panic!("{name}: verified"),
            Err(e) => e,
        };
        assert_eq!(err.kind(), kind, "{name}: {err}");
        if line.is_some() {
            assert_eq!(err.line(), line, "{name}: {err}");
            assert!(
                err.to_string()
                    .starts_with(&format!("line {}:", line.unwrap_or(0))),
                "{name}: {err}"
            );
        }
        // Every message says something a developer can act on.
        assert!(err.to_string().len() > 20, "{name}: {err}");
    }
    // Bytes: not UTF-8, oversized.
    assert_eq!(
        parse_sign_in_message_bytes(b"\xff\xfe").unwrap_err(),
        SignInError::NotUtf8
    );
    assert!(matches!(
        parse_sign_in_message_bytes(&vec![b'a'; 16 * 1024 + 1]).unwrap_err(),
        SignInError::TooLarge { len: 16385 }
    ));
    // Creating refuses what could not be parsed back.
    for bad in [
        SignInFields {
            statement: Some("a\nURI: https://evil".into()),
            ..f.clone()
        },
        SignInFields {
            issued_at: "2023-11-14T22:13:00".into(),
            ..f.clone()
        },
        SignInFields {
            address: "SP123".into(),
            ..f.clone()
        },
        SignInFields {
            resources: vec!["not a uri".into()],
            ..f.clone()
        },
    ] {
        assert_eq!(
            create_sign_in_message(&bad).unwrap_err().kind(),
            "bad_input"
        );
    }
}

#[test]
fn fields_round_trip_through_json() {
    let k = key();
    let f = SignInFields {
        resources: vec!["ipfs://x".into()],
        request_id: Some("r1".into()),
        ..fields(&k)
    };
    let back = SignInFields::from_json(&f.to_json()).unwrap();
    assert_eq!(back, f);
    let text = create_sign_in_message(&f).unwrap();
    assert_eq!(parse_sign_in_message(&text).unwrap(), f);
}

// --- authResponses ---

const WORDS: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
const APP: &str = "https://app.example";

/// An authRequest from `APP`, with a `nonce` claim when given, and Cairn's response.
fn response(nonce: Option<&str>) -> (String, Keychain) {
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
    let token = match nonce {
        None => token,
        Some(n) => {
            let mut d = jwt::decode(&token).unwrap();
            d.payload.insert("nonce".into(), n.into());
            jwt::sign(&Value::Object(d.payload), &transit)
        }
    };
    let request = verify_auth_request(&token, Some(APP), NOW).unwrap();
    let kc = Keychain::from_mnemonic(WORDS).unwrap();
    let ctx = ResponseContext {
        hub_url: "https://hub.example".into(),
        read_url_prefix: Some("https://gaia.example/hub/".into()),
        now_ms: NOW,
        ..Default::default()
    };
    let rnd = ResponseRandomness::generate().unwrap();
    let signin = auth::make_auth_response(&kc, 0, &request, &ctx, &rnd).unwrap();
    (signin.token, kc)
}

fn check(app: Option<&str>, nonce: Option<&str>) -> ResponseCheck {
    ResponseCheck {
        app_domain: app.map(str::to_string),
        nonce: nonce.map(str::to_string),
        now_ms: NOW + 1000,
        skew_ms: 0,
    }
}

/// `token` with its payload changed by `edit` and the original signature kept.
fn tampered(token: &str, edit: impl FnOnce(&mut json::Map)) -> String {
    let mut parts = token.split('.');
    let (h, p, s) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let mut payload = match json::from_slice(&from_base64url(p).unwrap()).unwrap() {
        Value::Object(m) => m,
        _ => unreachable!(),
    };
    edit(&mut payload);
    format!(
        "{h}.{}.{s}",
        to_base64url(json::to_string(&Value::Object(payload)).as_bytes())
    )
}

#[test]
fn cairn_responses_are_bound_and_verify() {
    let (token, kc) = response(Some(NONCE));
    let id = kc.identity(0).unwrap();
    let v = verify_sign_in_response(&token, &check(Some(APP), Some(NONCE))).unwrap();
    assert_eq!(v.identity_address, id.address);
    assert_eq!(v.public_key, id.public_key);
    assert_eq!(v.hub_url, "https://hub.example");
    assert_eq!(
        v.profile_url.as_deref(),
        Some(format!("https://gaia.example/hub/{}/profile.json", id.address).as_str())
    );
    assert_eq!(
        v.expires_at_ms,
        Some(cairn_core::support::time::next_month_ms(NOW))
    );
    assert_eq!(v.audience.as_deref(), Some(APP));
    assert_eq!(v.nonce.as_deref(), Some(NONCE));
    // A trailing slash or default port is the same origin.
    verify_sign_in_response(&token, &check(Some("https://app.example:443/"), None)).unwrap();
    // Without expectations, like the libraries.
    verify_sign_in_response(&token, &check(None, None)).unwrap();
}

#[test]
fn response_failures_each_give_their_error() {
    use ResponseVerifyError as E;
    let (token, _) = response(Some(NONCE));
    let (unbound, _) = response(None);
    let good = check(Some(APP), Some(NONCE));
    let other = PrivateKey::from_hex(&"33".repeat(32)).unwrap();
    let resigned_by_other = {
        let d = jwt::decode(&token).unwrap();
        jwt::sign(&Value::Object(d.payload), &other)
    };
    let cases: Vec<(&str, String, ResponseCheck, E)> = vec![
        ("empty", String::new(), good.clone(), E::Empty),
        (
            "oversized",
            "a".repeat(64 * 1024 + 1),
            good.clone(),
            E::TooLarge { len: 64 * 1024 + 1 },
        ),
        (
            "not a jwt",
            "abc".into(),
            good.clone(),
            E::Malformed(jwt::JwtError::Structure),
        ),
        (
            "other app",
            token.clone(),
            check(Some("https://evil.example"), Some(NONCE)),
            E::AudienceMismatch {
                expected: "https://evil.example".into(),
                found: APP.into(),
            },
        ),
        (
            "other nonce",
            token.clone(),
            check(Some(APP), Some("replayed1")),
            E::NonceMismatch,
        ),
        (
            "no nonce claim",
            unbound.clone(),
            good.clone(),
            E::NotBound("nonce"),
        ),
        (
            "no aud claim",
            tampered(&token, |p| {
                p.remove("aud");
            }),
            good.clone(),
            E::BadSignature,
        ),
        (
            "expired",
            token.clone(),
            ResponseCheck {
                now_ms: NOW + 40 * 86_400_000,
                ..good.clone()
            },
            E::Expired,
        ),
        (
            "issued in the future",
            token.clone(),
            ResponseCheck {
                now_ms: NOW - 60_000,
                ..good.clone()
            },
            E::IssuedInFuture,
        ),
        (
            "signed by another key",
            resigned_by_other,
            good.clone(),
            E::BadSignature,
        ),
    ];
    for (name, t, c, want) in cases {
        assert_eq!(verify_sign_in_response(&t, &c).unwrap_err(), want, "{name}");
    }
    // Each claim changed, signature kept: the signature no longer matches.
    let payload = jwt::decode(&token).unwrap().payload;
    for key in payload.keys() {
        let t = tampered(&token, |p| {
            p.insert(key.clone(), "changed".into());
        });
        let err = verify_sign_in_response(&t, &check(None, None)).unwrap_err();
        let expected = match key.as_str() {
            "exp" | "iat" => E::TimeNotNumber(if key == "exp" { "exp" } else { "iat" }),
            "public_keys" => E::MissingPublicKey,
            _ => E::BadSignature,
        };
        assert_eq!(err, expected, "claim {key}");
    }
    // A consistent token from another key whose iss names the real identity.
    let d = jwt::decode(&token).unwrap();
    let mut p = d.payload.clone();
    p.insert(
        "public_keys".into(),
        cairn_core::json!([other.public_key().to_hex()]),
    );
    let forged = jwt::sign(&Value::Object(p), &other);
    assert_eq!(
        verify_sign_in_response(&forged, &good).unwrap_err(),
        E::IssuerMismatch
    );
    // alg none and another algorithm.
    let (_, rest) = token.split_once('.').unwrap();
    let none = format!("{}.{rest}", to_base64url(br#"{"typ":"JWT","alg":"none"}"#));
    assert_eq!(
        verify_sign_in_response(&none, &good).unwrap_err(),
        E::Unsigned
    );
    let hs = format!("{}.{rest}", to_base64url(br#"{"typ":"JWT","alg":"HS256"}"#));
    assert_eq!(
        verify_sign_in_response(&hs, &good).unwrap_err(),
        E::WrongAlgorithm("HS256".into())
    );
    // Every error has a stable kind and a readable message.
    assert_eq!(E::NotBound("aud").kind(), "not_bound");
    assert!(
        E::NotBound("aud")
            .to_string()
            .contains("not bound to this server")
    );
}

#[test]
fn responses_without_binding_are_not_bound() {
    let (token, _) = response(None);
    let no_aud = {
        // A response as other authenticators make it: no aud, no nonce (re-signed by
        // its own identity key, so only the binding is missing).
        let kc = Keychain::from_mnemonic(WORDS).unwrap();
        let mut p = jwt::decode(&token).unwrap().payload;
        p.remove("aud");
        jwt::sign(&Value::Object(p), &kc.identity(0).unwrap().key)
    };
    assert_eq!(
        verify_sign_in_response(&no_aud, &check(Some(APP), None)).unwrap_err(),
        ResponseVerifyError::NotBound("aud")
    );
    verify_sign_in_response(&no_aud, &check(None, None)).unwrap();
}

/// Seeded mutation loop over both parsers (the crate's fuzz targets until `proptest`
/// is a dev-dependency): no input panics, and no mutation of a signed message or
/// response verifies unless it is byte-identical to the original.
#[test]
fn mutated_inputs_never_panic_nor_verify() {
    let k = key();
    let f = SignInFields {
        resources: vec!["https://example.com/r".into()],
        request_id: Some("r1".into()),
        not_before: Some("2023-11-14T22:00:00Z".into()),
        ..fields(&k)
    };
    let message = create_sign_in_message(&f).unwrap();
    let sig = sign_message(&k, &message);
    let (token, _) = response(Some(NONCE));
    let mut rng = Rng(0x5157_5f00_1700_0001);
    const NOISE: &[u8] = b"\n\r :-./@#%0123456789SPTZazAZ\xc3\xa9\xff";
    let mutate = |rng: &mut Rng, input: &str| -> Vec<u8> {
        let mut b = input.as_bytes().to_vec();
        for _ in 0..=rng.below(3) {
            let i = rng.below(b.len() + 1);
            match rng.below(4) {
                0 if i < b.len() => b[i] = NOISE[rng.below(NOISE.len())],
                1 if i < b.len() => {
                    b.remove(i);
                }
                2 => b.insert(i, NOISE[rng.below(NOISE.len())]),
                _ => {
                    let j = rng.below(b.len() + 1);
                    let (a, z) = (i.min(j), i.max(j));
                    let chunk = b[a..z].to_vec();
                    b.splice(a..a, chunk);
                }
            }
        }
        b
    };
    // Fewer rounds in the browser, where each recovery costs more.
    let rounds = if cfg!(target_arch = "wasm32") {
        400
    } else {
        4000
    };
    let mut verified_mutants = 0;
    for round in 0..rounds {
        let m = mutate(&mut rng, &message);
        let _ = parse_sign_in_message_bytes(&m);
        if let Ok(text) = std::str::from_utf8(&m) {
            if verify_sign_in(text, &sig, &VerifyOptions::new("example.com", NONCE, NOW)).is_ok() {
                assert_eq!(text, message, "a mutated message verified");
                verified_mutants += 1;
            }
            // And the signature mutated.
            let s = String::from_utf8_lossy(&mutate(&mut rng, &sig)).into_owned();
            if verify_sign_in(&message, &s, &opts()).is_ok() {
                // Only the high-S twin or the very same signature may verify.
                assert!(
                    s == sig || s.eq_ignore_ascii_case(&sig),
                    "round {round}: {s}"
                );
            }
        }
        let t = String::from_utf8_lossy(&mutate(&mut rng, &token)).into_owned();
        if verify_sign_in_response(&t, &check(Some(APP), Some(NONCE))).is_ok() {
            // Base64url has slack bits in its last character; the payload must match.
            assert_eq!(
                jwt::decode(t.trim()).unwrap().payload,
                jwt::decode(&token).unwrap().payload,
                "a mutated response verified"
            );
        }
    }
    assert!(verified_mutants < rounds);
}
