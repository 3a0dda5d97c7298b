//! Fuzz-style robustness: every parser of outside input (tokens, authRequests and
//! responses, cipher objects, Secret Keys, keys, vault records) is fed thousands of
//! mutated and random inputs and must return an error or a value, never panic.
//! Deterministic (seeded) so a failure reproduces.

#![allow(clippy::unwrap_used)] // a test that unwraps fails, which is what it should do

use cairn_core::crypto::ecies::{CipherObject, decrypt};
use cairn_core::json;
use cairn_core::keys::keychain::{Keychain, validate_app_domain};
use cairn_core::keys::mnemonic::SecretKey;
use cairn_core::keys::vault::VaultRecord;
use cairn_core::keys::{PrivateKey, PublicKey};
use cairn_core::protocol::auth::{handle_auth_response, verify_auth_request};
use cairn_core::protocol::jwt;
use cairn_core::protocol::profile::claim_from_profile_file;
use cairn_core::support::encoding::{base58check_decode, from_base64, from_base64url, from_hex};
#[cfg(not(target_arch = "wasm32"))]
use cairn_core::support::json;

#[path = "support/rng.rs"]
mod rng;
use rng::Rng;

const ALPHABET: &[u8] =
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.=:/{}[]\",\\ \x00\xff";

fn mutate(rng: &mut Rng, input: &str) -> String {
    let mut bytes = input.as_bytes().to_vec();
    for _ in 0..=rng.below(4) {
        match rng.below(5) {
            0 if !bytes.is_empty() => {
                let i = rng.below(bytes.len());
                bytes[i] = ALPHABET[rng.below(ALPHABET.len())];
            }
            1 if !bytes.is_empty() => {
                let i = rng.below(bytes.len());
                bytes.truncate(i);
            }
            2 => {
                let i = rng.below(bytes.len() + 1);
                bytes.insert(i, ALPHABET[rng.below(ALPHABET.len())]);
            }
            3 if !bytes.is_empty() => {
                let i = rng.below(bytes.len());
                bytes.remove(i);
            }
            _ => {
                let i = rng.below(bytes.len() + 1);
                let j = rng.below(bytes.len() + 1);
                let (a, b) = (i.min(j), i.max(j));
                let chunk = bytes[a..b].to_vec();
                bytes.splice(a..a, chunk);
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn random_string(rng: &mut Rng) -> String {
    let len = rng.below(120);
    let bytes: Vec<u8> = (0..len)
        .map(|_| ALPHABET[rng.below(ALPHABET.len())])
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[test]
fn parsers_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let key =
        PrivateKey::from_hex("6dad38fa92add38d913bdfb2e646ef4ce2a50a2f39853f848a792835626a5690")
            .unwrap();
    let pk = key.public_key();
    let request = cairn_core::protocol::auth::make_auth_request(
        &key,
        &cairn_core::protocol::auth::AuthRequestOptions {
            domain_name: "https://app.example".into(),
            scopes: vec!["store_write".into(), "collection.contact".into()],
            now_ms: 1_700_000_000_000,
            ..Default::default()
        },
    )
    .unwrap();
    let cipher = cairn_core::crypto::ecies::encrypt(&pk, b"hello", true, Default::default())
        .unwrap()
        .to_json();
    let words = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
    let vault = json!({"v":1,"kdf":"argon2id","params":{"m":19456,"t":2,"p":1},"salt":"AAAA","cipher":"aes-256-gcm","nonce":"AAAAAAAAAAAAAAAA","ct":"AAAA"}).to_string();
    let profile = format!("[{{\"token\":\"{request}\"}}]");
    let seeds = [
        request.as_str(),
        cipher.as_str(),
        words,
        vault.as_str(),
        profile.as_str(),
    ];
    let kc = Keychain::from_mnemonic(words).unwrap();

    let mut iterations = 0;
    for round in 0..6000 {
        let input = if round % 5 == 4 {
            random_string(&mut rng)
        } else {
            mutate(&mut rng, seeds[round % seeds.len()])
        };
        let _ = jwt::decode(&input).map(|d| d.verify(&pk));
        let _ = verify_auth_request(&input, Some("https://app.example"), 1_700_000_000_000);
        let _ = handle_auth_response(&input, &key, 1_700_000_000_000);
        if let Ok(obj) = CipherObject::from_json(&input) {
            let _ = decrypt(&key, &obj);
        }
        let _ = SecretKey::parse(&input);
        let _ = PublicKey::from_hex(&input);
        let _ = PrivateKey::from_hex(&input);
        let _ = from_hex(&input);
        let _ = from_base64(&input);
        let _ = from_base64url(&input);
        let _ = base58check_decode(&input);
        let _ = validate_app_domain(&input);
        let _ = kc.app_private_key(0, &input);
        let _ = kc.collection_bucket_key(0, &input);
        let _ = claim_from_profile_file(&input);
        if let Ok(r) = VaultRecord::from_json(&input) {
            // Opening runs Argon2; only do it for records that parse at all.
            let _ = r.params;
        }
        iterations += 1;
    }
    assert_eq!(iterations, 6000);
}

/// Cairn's JSON reader against serde_json (an independent implementation) on the
/// shared vectors and on thousands of mutations of JSON documents: both accept the same
/// texts (except numbers beyond f64, which serde_json refuses and we keep as text), and
/// what we read and write back, serde_json reads as the same value.
#[cfg(not(target_arch = "wasm32"))]
#[test]
fn json_reader_agrees_with_serde_json() {
    let seeds = [
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/data/stacks-vectors.json"
        )),
        r#"{"a":[1,-2.5e-3,true,false,null,{"b":"\u00e9\ud83d\ude00\n\t\"\\\/"}],"a":0,"":{}}"#,
        r#"[0, 1E2, -0.0, 123456789012345678, "x", [[[]]], {"k": {"k": []}}]"#,
    ];
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let mut agreed = 0;
    let mut accepted = 0;
    for i in 0..6000 {
        let seed = seeds[i % seeds.len()];
        // The vectors file is large: mutate a window of it.
        let base = if seed.len() > 4000 {
            let start = rng.below(seed.len() - 2000);
            let mut s = start;
            while !seed.is_char_boundary(s) {
                s -= 1;
            }
            let mut e = (s + 1500).min(seed.len());
            while !seed.is_char_boundary(e) {
                e -= 1;
            }
            if i % 7 == 0 {
                seed.to_string()
            } else {
                seed[s..e].to_string()
            }
        } else {
            seed.to_string()
        };
        let text = if i % 5 == 0 {
            base
        } else {
            mutate(&mut rng, &base)
        };
        let ours = json::from_str(&text);
        let theirs = serde_json::from_str::<serde_json::Value>(&text);
        match (&ours, &theirs) {
            (Ok(v), Ok(t)) => {
                let back: serde_json::Value =
                    serde_json::from_str(&json::to_string(v)).expect("our output is JSON");
                assert_eq!(&back, t, "values differ for {text:?}");
                accepted += 1;
            }
            (Err(_), Err(_)) => {}
            (Ok(_), Err(e)) if e.to_string().contains("number out of range") => {}
            _ => panic!(
                "disagreement on {text:?}: ours {:?}, serde_json {:?}",
                ours.as_ref().err(),
                theirs.as_ref().err()
            ),
        }
        agreed += 1;
    }
    assert_eq!(agreed, 6000);
    assert!(
        accepted > 500,
        "too few valid documents exercised: {accepted}"
    );
}
