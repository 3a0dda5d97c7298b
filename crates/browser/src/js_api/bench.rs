//! Extra exports used only by the benchmark page (`bench/`, `scripts/bench.sh`).
//!
//! Each export runs one operation of the core as the JS API or the authenticator does,
//! so the bench page can time it against the JavaScript reference libraries. They only
//! reuse code the module already contains (a few KB of glue; see docs/BENCHMARKS.md).

use super::{js_err, parse_secret, parse_str};
use crate::webcrypto::WebCrypto;
use cairn_core::crypto::bulk::{self, Bulk};
use cairn_core::keys::keychain::Keychain;
use cairn_core::keys::mnemonic::SecretKey;
use cairn_core::keys::vault::{self, KdfParams, VaultRecord};
use cairn_core::keys::{PrivateKey, PublicKey};
use cairn_core::protocol::jwt;
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
    let value: cairn_core::support::json::Value =
        cairn_core::support::json::from_str(&payload).map_err(js_err)?;
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

fn gcm_args(key: &[u8], iv: &[u8]) -> Result<([u8; 32], [u8; 12]), JsValue> {
    let key = key
        .try_into()
        .map_err(|_| js_err("AES-256 key must be 32 bytes"))?;
    let nonce = iv
        .try_into()
        .map_err(|_| js_err("GCM nonce must be 12 bytes"))?;
    Ok((key, nonce))
}

/// AES-256-GCM encryption in software ([`bulk::Software`]: the `aes-gcm` crate, as native
/// code and the synchronous `vaultSeal` run it): ciphertext‖tag.
#[wasm_bindgen(js_name = benchAesGcmSeal)]
pub fn bench_aes_gcm_seal(key: &[u8], iv: &[u8], data: &[u8]) -> Result<Vec<u8>, JsValue> {
    let (key, nonce) = gcm_args(key, iv)?;
    bulk::now(|b| b.gcm_encrypt(&key, &nonce, &[], data)).map_err(js_err)
}

/// AES-256-GCM decryption in software.
#[wasm_bindgen(js_name = benchAesGcmOpen)]
pub fn bench_aes_gcm_open(key: &[u8], iv: &[u8], data: &[u8]) -> Result<Vec<u8>, JsValue> {
    let (key, nonce) = gcm_args(key, iv)?;
    let plain = bulk::now(|b| b.gcm_decrypt(&key, &nonce, &[], data)).map_err(js_err)?;
    Ok(plain.to_vec())
}

/// AES-256-GCM encryption through Cairn's bulk path in the browser ([`WebCrypto`], as
/// the authenticator page runs it: key import, the call, copies in and out).
#[wasm_bindgen(js_name = benchAesGcmSealAsync)]
pub async fn bench_aes_gcm_seal_async(
    key: Vec<u8>,
    iv: Vec<u8>,
    data: Vec<u8>,
) -> Result<Vec<u8>, JsValue> {
    let (key, nonce) = gcm_args(&key, &iv)?;
    WebCrypto
        .gcm_encrypt(&key, &nonce, &[], &data)
        .await
        .map_err(js_err)
}

/// AES-256-GCM decryption through [`WebCrypto`].
#[wasm_bindgen(js_name = benchAesGcmOpenAsync)]
pub async fn bench_aes_gcm_open_async(
    key: Vec<u8>,
    iv: Vec<u8>,
    data: Vec<u8>,
) -> Result<Vec<u8>, JsValue> {
    let (key, nonce) = gcm_args(&key, &iv)?;
    let plain = WebCrypto
        .gcm_decrypt(&key, &nonce, &[], &data)
        .await
        .map_err(js_err)?;
    Ok(plain.to_vec())
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

/// Unlocks a vault record as the page's KDF worker does (Argon2id in wasm, AES-256-GCM
/// in WebCrypto); returns the word count.
#[wasm_bindgen(js_name = benchVaultOpen)]
pub async fn bench_vault_open(record_json: JsValue, password: JsValue) -> Result<u32, JsValue> {
    let record =
        VaultRecord::from_json(&parse_str(&record_json, "the vault record")?).map_err(js_err)?;
    let password = parse_secret(&password, "the password")?;
    let secret = vault::open_async(&WebCrypto, &record, &password)
        .await
        .map_err(js_err)?;
    Ok(secret.word_count() as u32)
}
