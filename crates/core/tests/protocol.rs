//! Sign-in protocol against the shared vectors: golden auth flows reproduced field for
//! field, Gaia tokens, and a tamper suite of bad authRequests. Runs natively and in
//! headless Chromium.

#![allow(clippy::unwrap_used)] // a test that unwraps fails, which is what it should do

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use cairn_core::json;
use cairn_core::keys::PrivateKey;
use cairn_core::keys::keychain::Keychain;
use cairn_core::protocol::auth::{
    self, AuthRequestOptions, ResponseContext, ResponseRandomness, Scope, verify_auth_request,
};
use cairn_core::protocol::gaia::{self, V1TokenOptions};
use cairn_core::protocol::jwt;
use cairn_core::support::encoding::{from_hex, to_base64url};
use cairn_core::support::json::Value;
use std::collections::BTreeSet;

#[path = "support/vectors.rs"]
mod support_vectors;
use support_vectors::{s, vectors};

fn salt16(hex: &str) -> [u8; 16] {
    from_hex(hex).unwrap().try_into().unwrap()
}

/// Signature part of a token, as raw r‖s with s normalised to low-S.
fn low_s(token: &str) -> Vec<u8> {
    let sig = token.rsplit('.').next().unwrap();
    let raw = cairn_core::support::encoding::from_base64url(sig).unwrap();
    let sig = k256::ecdsa::Signature::from_slice(&raw).unwrap();
    sig.normalize_s().to_bytes().to_vec()
}

/// Same header and payload bytes, and the same signature up to the sign of s.
fn assert_same_token(ours: &str, theirs: &str, what: &str) {
    let (oi, _) = ours.rsplit_once('.').unwrap();
    let (ti, _) = theirs.rsplit_once('.').unwrap();
    assert_eq!(oi, ti, "{what}: signing input differs");
    assert_eq!(low_s(ours), low_s(theirs), "{what}: signature differs");
}

#[test]
fn golden_auth_flows_reproduced_field_for_field() {
    let v = vectors();
    let g = &v["goldenAuthFlows"];
    let now_ms = g["nowMs"].as_i64().unwrap();
    let flows = g["flows"].as_array().unwrap();
    assert_eq!(flows.len(), 3);
    for flow in flows {
        let mnemonic = v["mnemonics"][flow["mnemonicIndex"].as_u64().unwrap() as usize]
            .as_str()
            .unwrap();
        let account = flow["accountIndex"].as_u64().unwrap() as u32;
        let domain = s(flow, "appDomain");
        let kc = Keychain::from_mnemonic(mnemonic).unwrap();

        let req_v = &flow["authRequest"];
        let request = verify_auth_request(s(req_v, "token"), Some(domain), now_ms).unwrap();
        assert_eq!(request.domain_name, domain);
        assert_eq!(
            request.transit_public_key.to_hex(),
            s(req_v, "transitPublicKey")
        );
        assert!(request.has_scope(&Scope::PublishData));
        assert_eq!(
            request.collections().collect::<Vec<_>>(),
            vec![("contact", false)]
        );
        assert_eq!(request.app_name.as_deref(), Some("Harness Test App"));

        let resp_v = &flow["authResponse"];
        let expected = &resp_v["payload"];
        let draws = resp_v["randomDraws"].as_array().unwrap();
        let upload = &resp_v["gaiaUploads"][0];
        let profile_file: Value = cairn_core::support::json::from_str(s(upload, "body")).unwrap();
        let rnd = ResponseRandomness {
            jti: s(expected, "jti").to_string(),
            profile_jti: s(&profile_file[0]["decodedToken"]["payload"], "jti").to_string(),
            association_salt: salt16(s(&resp_v["decodedAssociationToken"]["payload"], "salt")),
            ephemeral: PrivateKey::from_hex(s(&draws[2], "resultingPrivateKey")).unwrap(),
            iv: salt16(s(&draws[3], "hex")),
        };
        let ctx = ResponseContext {
            hub_url: "https://hub.blockstack.org".into(),
            read_url_prefix: Some("https://gaia.blockstack.org/hub/".into()),
            stored_profile: None,
            email: None,
            now_ms,
        };
        let signin = auth::make_auth_response(&kc, account, &request, &ctx, &rnd).unwrap();
        let mut ours = jwt::decode(&signin.token).unwrap();
        // Cairn's own binding claims come last (src/response_verify.rs); the request
        // carries no nonce, so only `aud`. Without them the payload is the libraries'.
        assert_eq!(ours.payload.keys().last().map(String::as_str), Some("aud"));
        assert_eq!(ours.payload.remove("aud"), Some(Value::from(domain)));
        assert!(!ours.payload.contains_key("nonce"));
        // Every field, in order, byte for byte.
        let ours_keys: Vec<&String> = ours.payload.keys().collect();
        let their_keys: Vec<&String> = expected.as_object().unwrap().keys().collect();
        assert_eq!(ours_keys, their_keys, "{domain}: payload key order");
        for (k, want) in expected.as_object().unwrap() {
            if k == "associationToken" {
                continue;
            }
            assert_eq!(&ours.payload[k], want, "{domain}: field {k}");
        }
        assert_same_token(
            ours.payload["associationToken"].as_str().unwrap(),
            s(expected, "associationToken"),
            "association token",
        );
        // The whole response token: where the libraries' association token happened to
        // be high-S its bytes differ from ours, so compare with theirs substituted.
        let mut substituted = ours.payload.clone();
        substituted.insert(
            "associationToken".into(),
            expected["associationToken"].clone(),
        );
        let identity_key = kc.identity(account).unwrap().key;
        let resigned = jwt::sign(&Value::Object(substituted), &identity_key);
        assert_same_token(&resigned, s(resp_v, "token"), "authResponse");
        if ours.payload["associationToken"] == expected["associationToken"] {
            let unbound = jwt::sign(&Value::Object(ours.payload.clone()), &identity_key);
            assert_same_token(&unbound, s(resp_v, "token"), "authResponse as built");
        }
        assert_eq!(
            *signin.app_private_key.to_hex(),
            s(&resp_v["expected"], "appPrivateKey")
        );
        // The profile.json body wallet-sdk uploads, byte for byte except the signature
        // of the inner token (compared up to low-S).
        let our_file = signin.profile_file.as_deref().unwrap();
        let our_parsed: Value = cairn_core::support::json::from_str(our_file).unwrap();
        assert_same_token(
            s(&our_parsed[0], "token"),
            s(&profile_file[0], "token"),
            "profile token",
        );
        if s(&our_parsed[0], "token") == s(&profile_file[0], "token") {
            assert_eq!(our_file, s(upload, "body"));
        }
        // The app side decrypts what we built.
        let transit = PrivateKey::from_hex(s(req_v, "transitPrivateKey")).unwrap();
        let user = auth::handle_auth_response(&signin.token, &transit, now_ms + 60_000).unwrap();
        assert_eq!(
            *user.app_private_key.to_hex(),
            *signin.app_private_key.to_hex()
        );
        assert_eq!(user.hub_url, "https://hub.blockstack.org");
        // And it accepts the library's own response too.
        let theirs = auth::handle_auth_response(s(resp_v, "token"), &transit, now_ms).unwrap();
        assert_eq!(
            *theirs.app_private_key.to_hex(),
            s(&resp_v["expected"], "appPrivateKey")
        );
    }
}

#[test]
fn gaia_tokens_match_the_libraries() {
    let v = vectors();
    let c = &v["gaia"]["cases"][0];
    let decoded = &c["tokenDecoded"]["payload"];
    let key = PrivateKey::from_hex(s(&v["collectionsSample"]["derived"], "appPrivateKey")).unwrap();
    assert_eq!(key.public_key().to_hex(), s(decoded, "iss"));
    let token = gaia::make_v1_token(
        &key,
        s(decoded, "gaiaChallenge"),
        &V1TokenOptions {
            hub_url: Some(s(decoded, "hubUrl").into()),
            association_token: Some(s(decoded, "associationToken").into()),
            salt: Some(salt16(s(decoded, "salt"))),
            ..Default::default()
        },
    );
    assert_same_token(&token, s(&c["gaiaHubConfig"], "token"), "app gaia token");
    assert_eq!(
        key.public_key().address(),
        s(&c["gaiaHubConfig"], "address")
    );
    assert_eq!(
        gaia::challenge_text("hub.blockstack.org"),
        s(&c["hubInfo"], "challenge_text")
    );

    // The collections alpha's bucket token: archival prefix scope, empty association.
    let cs = &v["collectionsSample"];
    let kc = Keychain::from_mnemonic(v["mnemonics"][0].as_str().unwrap()).unwrap();
    let bucket = kc.collection_bucket_key(0, "contact").unwrap();
    let p = &cs["authenticatorSide"]["collectionGaiaTokenDecoded"]["payload"];
    let token = gaia::make_v1_token(
        &bucket,
        s(p, "gaiaChallenge"),
        &V1TokenOptions {
            hub_url: Some(s(p, "hubUrl").into()),
            association_token: Some(String::new()),
            scopes: vec![gaia::Scope::new("putFileArchivalPrefix", "collection")],
            salt: Some(salt16(s(p, "salt"))),
            ..Default::default()
        },
    );
    assert_same_token(
        &token,
        s(&cs["authenticatorSide"]["collectionHubConfig"], "token"),
        "collection token",
    );
}

#[test]
fn legacy_browser_response_is_accepted() {
    let v = vectors();
    let l = &v["legacyBrowserAuthResponseSample"];
    let d = jwt::decode(s(l, "authResponse")).unwrap();
    let key = cairn_core::keys::PublicKey::from_hex(d.payload["public_keys"][0].as_str().unwrap())
        .unwrap();
    d.verify(&key).unwrap();
    // Its association token's fractional times re-serialise exactly as JS wrote them.
    let assoc = jwt::decode(s(&l["payload"], "associationToken")).unwrap();
    let text = cairn_core::support::encoding::from_base64url(
        assoc.signing_input().split('.').nth(1).unwrap(),
    )
    .unwrap();
    assert_eq!(
        jwt::json_string(&Value::Object(assoc.payload.clone())).as_bytes(),
        text.as_slice()
    );
}

// ---- tamper suite -------------------------------------------------------------------

const NOW: i64 = 1_700_000_000_000;
const ORIGIN: &str = "https://app.example";

fn good_payload(key: &PrivateKey) -> cairn_core::support::json::Map {
    let pk = key.public_key();
    json!({
        "jti": "x",
        "iat": NOW / 1000 - 10,
        "exp": NOW / 1000 + 3600,
        "iss": format!("did:btc-addr:{}", pk.address()),
        "public_keys": [pk.to_hex()],
        "domain_name": ORIGIN,
        "manifest_uri": format!("{ORIGIN}/manifest.json"),
        "redirect_uri": format!("{ORIGIN}/"),
        "version": "1.4.0",
        "do_not_include_profile": true,
        "supports_hub_url": true,
        "scopes": ["store_write", "collection.contact.read"],
    })
    .as_object()
    .unwrap()
    .clone()
}

fn signed(payload: cairn_core::support::json::Map, key: &PrivateKey) -> String {
    jwt::sign(&Value::Object(payload), key)
}

fn with_header(header: &str, payload: &cairn_core::support::json::Map, sig: &str) -> String {
    format!(
        "{}.{}.{}",
        to_base64url(header.as_bytes()),
        to_base64url(jwt::json_string(&Value::Object(payload.clone())).as_bytes()),
        sig
    )
}

#[test]
fn tamper_suite_each_failure_has_its_own_kind() {
    let key = PrivateKey::random().unwrap();
    let other = PrivateKey::random().unwrap();
    let good = good_payload(&key);
    let ok = signed(good.clone(), &key);
    let verified = verify_auth_request(&ok, Some(ORIGIN), NOW).unwrap();
    assert_eq!(
        verified.collections().collect::<Vec<_>>(),
        vec![("contact", true)]
    );
    // A `blockstack:` prefix is stripped.
    verify_auth_request(&format!("blockstack:{ok}"), Some(ORIGIN), NOW).unwrap();

    let edit = |f: &dyn Fn(&mut cairn_core::support::json::Map)| {
        let mut p = good.clone();
        f(&mut p);
        signed(p, &key)
    };
    let good_sig = ok.rsplit('.').next().unwrap().to_string();
    let cases: Vec<(&str, String, Option<&str>)> = vec![
        (
            "bad_signature",
            {
                let mut p = good.clone();
                p.insert("jti".into(), "changed".into());
                with_header(jwt::HEADER_JSON, &p, &good_sig)
            },
            Some(ORIGIN),
        ),
        ("bad_signature", signed(good.clone(), &other), Some(ORIGIN)),
        (
            "multiple_public_keys",
            edit(&|p| {
                p.insert(
                    "public_keys".into(),
                    json!([key.public_key().to_hex(), other.public_key().to_hex()]),
                );
            }),
            Some(ORIGIN),
        ),
        (
            "issuer_mismatch",
            edit(&|p| {
                p.insert(
                    "iss".into(),
                    format!("did:btc-addr:{}", other.public_key().address()).into(),
                );
            }),
            Some(ORIGIN),
        ),
        (
            "bad_issuer",
            edit(&|p| {
                p.insert("iss".into(), "did:web:example.com".into());
            }),
            Some(ORIGIN),
        ),
        (
            "expired",
            edit(&|p| {
                p.insert("exp".into(), (NOW / 1000 - 1).into());
            }),
            Some(ORIGIN),
        ),
        (
            "issued_in_future",
            edit(&|p| {
                p.insert("iat".into(), (NOW / 1000 + 60).into());
            }),
            Some(ORIGIN),
        ),
        (
            "expiration_not_number",
            edit(&|p| {
                p.insert("exp".into(), "tomorrow".into());
            }),
            Some(ORIGIN),
        ),
        (
            "issued_at_not_number",
            edit(&|p| {
                p.insert("iat".into(), json!({"t": 1}));
            }),
            Some(ORIGIN),
        ),
        (
            "unsigned",
            with_header(r#"{"typ":"JWT","alg":"none"}"#, &good, ""),
            Some(ORIGIN),
        ),
        (
            "wrong_algorithm",
            with_header(r#"{"typ":"JWT","alg":"HS256"}"#, &good, &good_sig),
            Some(ORIGIN),
        ),
        (
            "redirect_cross_origin",
            edit(&|p| {
                p.insert("redirect_uri".into(), "https://evil.example/".into());
            }),
            Some(ORIGIN),
        ),
        (
            "redirect_cross_origin",
            edit(&|p| {
                p.insert("redirect_uri".into(), "https://app.example:8443/".into());
            }),
            Some(ORIGIN),
        ),
        (
            "bad_redirect_uri",
            edit(&|p| {
                p.insert(
                    "redirect_uri".into(),
                    "javascript:alert(document.cookie)//https://app.example/".into(),
                );
            }),
            Some(ORIGIN),
        ),
        (
            "bad_redirect_uri",
            edit(&|p| {
                p.insert(
                    "redirect_uri".into(),
                    "https://app.example@evil.example/".into(),
                );
            }),
            Some(ORIGIN),
        ),
        (
            "manifest_cross_origin",
            edit(&|p| {
                p.insert(
                    "manifest_uri".into(),
                    "http://app.example/manifest.json".into(),
                );
            }),
            Some(ORIGIN),
        ),
        (
            "bad_manifest_uri",
            edit(&|p| {
                p.insert("manifest_uri".into(), "data:application/json,{}".into());
            }),
            Some(ORIGIN),
        ),
        (
            "bad_domain",
            edit(&|p| {
                p.insert("domain_name".into(), "https://app.example/path".into());
            }),
            None,
        ),
        (
            "missing_field",
            edit(&|p| {
                p.remove("redirect_uri");
            }),
            Some(ORIGIN),
        ),
        ("origin_mismatch", ok.clone(), Some("https://phish.example")),
        (
            "too_large",
            edit(&|p| {
                p.insert("padding".into(), "x".repeat(70_000).into());
            }),
            Some(ORIGIN),
        ),
        (
            "malformed_base64",
            format!(
                "{}.%%%.{}",
                to_base64url(jwt::HEADER_JSON.as_bytes()),
                good_sig
            ),
            Some(ORIGIN),
        ),
        (
            "malformed_json",
            format!(
                "{}.{}.{}",
                to_base64url(jwt::HEADER_JSON.as_bytes()),
                to_base64url(b"{not json"),
                good_sig
            ),
            Some(ORIGIN),
        ),
        ("malformed_token", "only.two".to_string(), Some(ORIGIN)),
        ("empty", "   ".to_string(), Some(ORIGIN)),
        (
            "missing_public_key",
            edit(&|p| {
                p.insert("public_keys".into(), json!([]));
            }),
            Some(ORIGIN),
        ),
        (
            "bad_public_key",
            edit(&|p| {
                p.insert("public_keys".into(), json!(["04deadbeef"]));
            }),
            Some(ORIGIN),
        ),
        (
            "scopes_malformed",
            edit(&|p| {
                p.insert("scopes".into(), "store_write".into());
            }),
            Some(ORIGIN),
        ),
        (
            "bad_collection_scope",
            edit(&|p| {
                p.insert("scopes".into(), json!(["collection.contact.admin"]));
            }),
            Some(ORIGIN),
        ),
        (
            "bad_collection_scope",
            edit(&|p| {
                p.insert("scopes".into(), json!(["collection.Bad Name"]));
            }),
            Some(ORIGIN),
        ),
    ];
    let mut kinds = BTreeSet::new();
    for (want, token, origin) in &cases {
        let err = verify_auth_request(token, *origin, NOW)
            .err()
            .unwrap_or_else(|| panic!("case {want} was accepted"));
        assert_eq!(err.kind(), *want, "case {want}: got {err}");
        assert!(!err.to_string().is_empty());
        kinds.insert(*want);
    }
    assert!(kinds.len() >= 20, "only {} distinct kinds", kinds.len());

    // Unknown non-collection scopes are kept (shown, not granted), not errors.
    let t = edit(&|p| {
        p.insert("scopes".into(), json!(["store_write", "frobnicate"]));
    });
    let r = verify_auth_request(&t, Some(ORIGIN), NOW).unwrap();
    assert!(r.has_scope(&Scope::Unknown("frobnicate".into())));
    // Missing exp passes, as in the libraries.
    let t = edit(&|p| {
        p.remove("exp");
    });
    verify_auth_request(&t, Some(ORIGIN), NOW).unwrap();
}

#[test]
fn non_canonical_domain_name_is_refused_naming_the_canonical_form() {
    // One app must not get two app keys by spelling its origin two ways.
    let key = PrivateKey::random().unwrap();
    for (domain, canonical) in [
        ("HTTP://Example.com:80", "http://example.com"),
        ("https://example.com.", "https://example.com"),
        ("https://EXAMPLE.com", "https://example.com"),
        ("https://example.com:443", "https://example.com"),
    ] {
        let mut p = good_payload(&key);
        p.insert("domain_name".into(), domain.into());
        p.insert(
            "manifest_uri".into(),
            format!("{domain}/manifest.json").into(),
        );
        p.insert("redirect_uri".into(), format!("{domain}/").into());
        let err = verify_auth_request(&signed(p, &key), None, NOW).unwrap_err();
        assert_eq!(err.kind(), "non_canonical_domain", "{domain}: {err}");
        let text = err.to_string();
        assert!(
            text.contains(&format!("must send it as {canonical}")),
            "{domain}: {text}"
        );
    }
    // The app side does not build such a request either.
    let err = auth::make_auth_request(
        &key,
        &AuthRequestOptions {
            domain_name: "https://Example.com".into(),
            now_ms: NOW,
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(err.kind(), "non_canonical_domain");
}

#[test]
fn app_side_round_trip_and_redirect() {
    let kc = Keychain::from_mnemonic(
        "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
    )
    .unwrap();
    let transit = PrivateKey::random().unwrap();
    let req = auth::make_auth_request(
        &transit,
        &AuthRequestOptions {
            domain_name: "http://localhost:3000".into(),
            scopes: vec!["store_write".into(), "email".into()],
            app_name: Some("Demo".into()),
            app_icon: Some("http://localhost:3000/icon.png".into()),
            now_ms: NOW,
            ..Default::default()
        },
    )
    .unwrap();
    let r = verify_auth_request(&req, Some("http://localhost:3000"), NOW).unwrap();
    assert_eq!(r.redirect_uri, "http://localhost:3000/");
    let ctx = ResponseContext {
        hub_url: "http://127.0.0.1:4000".into(),
        read_url_prefix: None,
        stored_profile: None,
        email: Some("me@example.com".into()),
        now_ms: NOW,
    };
    let signin =
        auth::make_auth_response(&kc, 1, &r, &ctx, &ResponseRandomness::generate().unwrap())
            .unwrap();
    assert!(signin.profile_file.is_none());
    let user = auth::handle_auth_response(&signin.token, &transit, NOW).unwrap();
    assert_eq!(user.email.as_deref(), Some("me@example.com"));
    assert_eq!(user.profile_url, None);
    assert_eq!(user.identity_address, kc.identity(1).unwrap().address);
    assert_eq!(
        *user.app_private_key.to_hex(),
        *kc.app_private_key(1, "http://localhost:3000")
            .unwrap()
            .to_hex()
    );
    // Wrong transit key: a clear error, not garbage.
    let err =
        auth::handle_auth_response(&signin.token, &PrivateKey::random().unwrap(), NOW).unwrap_err();
    assert_eq!(err.kind(), "private_key");
    let url = signin.redirect_url("http://localhost:3000/cb?x=1&authResponse=old#frag");
    assert_eq!(
        url,
        format!(
            "http://localhost:3000/cb?x=1&authResponse={}#frag",
            signin.token
        )
    );
}
