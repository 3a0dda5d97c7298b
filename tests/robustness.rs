//! Fuzz-style robustness: every parser of outside input (tokens, authRequests and
//! responses, cipher objects, Secret Keys, keys, vault records) is fed thousands of
//! mutated and random inputs and must return an error or a value, never panic.
//! Deterministic (seeded) so a failure reproduces.

use cairn::auth::{handle_auth_response, verify_auth_request};
use cairn::ecies::{CipherObject, decrypt};
use cairn::encoding::{base58check_decode, from_base64, from_base64url, from_hex};
use cairn::jwt;
use cairn::keychain::{Keychain, validate_app_domain};
use cairn::keys::{PrivateKey, PublicKey};
use cairn::mnemonic::SecretKey;
use cairn::profile::claim_from_profile_file;
use cairn::vault::VaultRecord;
use serde_json::json;

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
    let request = cairn::auth::make_auth_request(
        &key,
        &cairn::auth::AuthRequestOptions {
            domain_name: "https://app.example".into(),
            scopes: vec!["store_write".into(), "collection.contact".into()],
            now_ms: 1_700_000_000_000,
            ..Default::default()
        },
    )
    .unwrap();
    let cipher = cairn::ecies::encrypt(&pk, b"hello", true, Default::default())
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
