//! Extra exports used only by the benchmark page (`bench/`, `scripts/bench.sh`).
//!
//! Each export runs one operation of the core as the JS API or the authenticator does,
//! so the bench page can time it against the JavaScript reference libraries. They only
//! reuse code the module already contains (a few KB of glue; see docs/BENCHMARKS.md).

use super::{js_err, parse_secret, parse_str};
use crate::jwt;
use crate::keychain::Keychain;
use crate::keys::{PrivateKey, PublicKey};
use crate::mnemonic::SecretKey;
use crate::vault::{self, KdfParams, VaultRecord};
use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use wasm_bindgen::prelude::*;

/// Restore, as `@stacks/wallet-sdk` `generateWallet` + `deriveAccount(0)` do it: Secret
/// Key → validated → BIP39 seed → root → identity keychain `m/888'/0'` and salt →
/// identity 0 key, public key and address → apps node `m/888'/0'/0'/0'` (xprv) → STX
/// key `m/44'/5757'/0'/0/0`. Returns the salt.
#[wasm_bindgen(js_name = benchRestore)]
pub fn bench_restore(words: JsValue) -> Result<String, JsValue> {
    let words = parse_secret(&words, "the Secret Key")?;
    let k = Keychain::from_mnemonic(&words).map_err(js_err)?;
    let id = k.identity(0).map_err(js_err)?;
    let apps = k.apps_node_xprv(0).map_err(js_err)?;
    let stx = k.stx_key(0).map_err(js_err)?;
    std::hint::black_box((&id, &apps, &stx));
    Ok(k.salt().to_owned())
}

/// BIP39 seed (hex) of a Secret Key: validation + PBKDF2-HMAC-SHA512, 2048 rounds.
#[wasm_bindgen(js_name = benchBip39Seed)]
pub fn bench_bip39_seed(words: JsValue) -> Result<Vec<u8>, JsValue> {
    let words = parse_secret(&words, "the Secret Key")?;
    let secret = SecretKey::parse(&words).map_err(js_err)?;
    Ok(secret.to_seed().to_vec())
}

/// ES256K JWT over a payload given as JSON text (as jsontokens `TokenSigner.sign`).
#[wasm_bindgen(js_name = benchJwtSign)]
pub fn bench_jwt_sign(payload_json: JsValue, private_key_hex: JsValue) -> Result<String, JsValue> {
    let payload = parse_str(&payload_json, "the payload")?;
    let key = PrivateKey::from_hex(&parse_secret(&private_key_hex, "the private key")?)
        .map_err(js_err)?;
    let value: crate::json::Value = crate::json::from_str(&payload).map_err(js_err)?;
    Ok(jwt::sign(&value, &key))
}

/// Decodes and verifies an ES256K JWT with a public key (as jsontokens
/// `TokenVerifier.verify`): `true` or `false`.
#[wasm_bindgen(js_name = benchJwtVerify)]
pub fn bench_jwt_verify(token: JsValue, public_key_hex: JsValue) -> Result<bool, JsValue> {
    let token = parse_str(&token, "the token")?;
    let pk = PublicKey::from_hex(&parse_str(&public_key_hex, "the public key")?).map_err(js_err)?;
    let decoded = jwt::decode(&token).map_err(js_err)?;
    Ok(decoded.verify(&pk).is_ok())
}

fn gcm(key: &[u8]) -> Result<Aes256Gcm, JsValue> {
    let key: [u8; 32] = key
        .try_into()
        .map_err(|_| js_err("AES-256 key must be 32 bytes"))?;
    Ok(Aes256Gcm::new(&Key::<Aes256Gcm>::from(key)))
}

fn nonce(iv: &[u8]) -> Result<[u8; 12], JsValue> {
    iv.try_into()
        .map_err(|_| js_err("GCM nonce must be 12 bytes"))
}

/// AES-256-GCM encryption with the `aes-gcm` crate (the vault's cipher): ciphertext‖tag.
#[wasm_bindgen(js_name = benchAesGcmSeal)]
pub fn bench_aes_gcm_seal(key: &[u8], iv: &[u8], data: &[u8]) -> Result<Vec<u8>, JsValue> {
    gcm(key)?
        .encrypt(&Nonce::from(nonce(iv)?), data)
        .map_err(|_| js_err("encryption failed"))
}

/// AES-256-GCM decryption with the `aes-gcm` crate.
#[wasm_bindgen(js_name = benchAesGcmOpen)]
pub fn bench_aes_gcm_open(key: &[u8], iv: &[u8], data: &[u8]) -> Result<Vec<u8>, JsValue> {
    gcm(key)?
        .decrypt(&Nonce::from(nonce(iv)?), data)
        .map_err(|_| js_err("decryption failed"))
}

/// Seals a Secret Key in a vault record (JSON) with the shipped Argon2id parameters.
#[wasm_bindgen(js_name = benchVaultSeal)]
pub fn bench_vault_seal(words: JsValue, password: JsValue) -> Result<String, JsValue> {
    let secret = SecretKey::parse(&parse_secret(&words, "the Secret Key")?).map_err(js_err)?;
    let password = parse_secret(&password, "the password")?;
    Ok(vault::seal(&secret, &password, KdfParams::DEFAULT)
        .map_err(js_err)?
        .to_json())
}

/// Unlocks a vault record (Argon2id + AES-256-GCM); returns the word count.
#[wasm_bindgen(js_name = benchVaultOpen)]
pub fn bench_vault_open(record_json: JsValue, password: JsValue) -> Result<u32, JsValue> {
    let record =
        VaultRecord::from_json(&parse_str(&record_json, "the vault record")?).map_err(js_err)?;
    let password = parse_secret(&password, "the password")?;
    let secret = vault::open(&record, &password).map_err(js_err)?;
    Ok(secret.word_count() as u32)
}
