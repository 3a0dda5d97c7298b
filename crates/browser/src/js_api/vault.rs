//! JS API of the vault for the KDF worker (`www/kdf-worker.js`): sealing and opening
//! the password-encrypted Secret Key record. Argon2id takes about a second, so the page
//! never calls these on its main thread. The page's module has only the `*Async` forms
//! (AES-GCM in WebCrypto); the developer package has both.

use super::{js_err, parse_secret, parse_str, parse_u32};
use crate::webcrypto::WebCrypto;
use cairn_core::keys::mnemonic::SecretKey;
use cairn_core::keys::vault::{self, KdfParams, VaultError, VaultRecord};
use wasm_bindgen::prelude::*;
use zeroize::Zeroizing;

/// An `Error` with a `code` property: `"wrong_password"`, `"empty_password"`,
/// `"format"`, `"parameters"`, `"randomness"` or `"cipher"`.
fn vault_err(e: VaultError) -> JsValue {
    let code = match e {
        VaultError::WrongPassword => "wrong_password",
        VaultError::EmptyPassword => "empty_password",
        VaultError::Format(_) => "format",
        VaultError::Parameters(_) => "parameters",
        VaultError::Randomness => "randomness",
        _ => "cipher",
    };
    let err = js_sys::Error::new(&e.to_string());
    let _ = js_sys::Reflect::set(&err, &"code".into(), &code.into());
    err.into()
}

/// Reads optional KDF parameters `{m, t, p}` (KiB, passes, lanes); absent → the
/// defaults (19 MiB, 2 passes, 1 lane).
fn parse_params(value: &JsValue) -> Result<KdfParams, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(KdfParams::DEFAULT);
    }
    let field = |k: &str| js_sys::Reflect::get(value, &k.into()).unwrap_or(JsValue::UNDEFINED);
    let bad = "vault parameters must be {m, t, p} whole numbers";
    Ok(KdfParams {
        memory_kib: parse_u32(&field("m"), u32::MAX, bad)?,
        iterations: parse_u32(&field("t"), u32::MAX, bad)?,
        parallelism: parse_u32(&field("p"), u32::MAX, bad)?,
    })
}

/// The arguments of a seal: the Secret Key (validated as `validateMnemonic` does), the
/// password and the KDF parameters.
fn seal_args(
    phrase: &JsValue,
    password: &JsValue,
    params: &JsValue,
) -> Result<(SecretKey, Zeroizing<String>, KdfParams), JsValue> {
    let phrase = parse_secret(phrase, "the Secret Key")?;
    let password = parse_secret(password, "the password")?;
    let params = parse_params(params)?;
    let secret = SecretKey::parse(&phrase).map_err(js_err)?;
    Ok((secret, password, params))
}

/// The arguments of an open: the record (JSON text) and the password.
fn open_args(
    record: &JsValue,
    password: &JsValue,
) -> Result<(VaultRecord, Zeroizing<String>), JsValue> {
    let record = parse_str(record, "the vault record")?;
    let password = parse_secret(password, "the password")?;
    let record = VaultRecord::from_json(&record).map_err(vault_err)?;
    Ok((record, password))
}

/// Seals a Secret Key (validated as `validateMnemonic` does) with `password` and
/// returns the vault record as JSON text. `params`: optional `{m, t, p}`.
#[cfg(feature = "api")]
#[wasm_bindgen(js_name = vaultSeal)]
pub fn vault_seal(
    #[wasm_bindgen(unchecked_param_type = "string")] phrase: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] password: JsValue,
    #[wasm_bindgen(unchecked_param_type = "{m: number, t: number, p: number} | undefined")]
    params: JsValue,
) -> Result<String, JsValue> {
    let (secret, password, params) = seal_args(&phrase, &password, &params)?;
    let record = vault::seal(&secret, &password, params).map_err(vault_err)?;
    Ok(record.to_json())
}

/// `vaultSeal` with AES-GCM in WebCrypto (Argon2id still runs in wasm): resolves to the
/// same kind of record. The authenticator's KDF worker uses this one.
/// The Secret Key and password may be given as UTF-8 bytes (`Uint8Array`), zeroed once
/// read.
#[wasm_bindgen(js_name = vaultSealAsync)]
pub async fn vault_seal_async(
    #[wasm_bindgen(unchecked_param_type = "string | Uint8Array")] phrase: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string | Uint8Array")] password: JsValue,
    #[wasm_bindgen(unchecked_param_type = "{m: number, t: number, p: number} | undefined")]
    params: JsValue,
) -> Result<String, JsValue> {
    let (secret, password, params) = seal_args(&phrase, &password, &params)?;
    let record = vault::seal_async(&WebCrypto, &secret, &password, params)
        .await
        .map_err(vault_err)?;
    Ok(record.to_json())
}

/// Opens a vault record (JSON text) with `password` and returns the Secret Key.
/// Throws an `Error` with `code` `"wrong_password"` when the password does not open it.
#[cfg(feature = "api")]
#[wasm_bindgen(js_name = vaultOpen)]
pub fn vault_open(
    #[wasm_bindgen(unchecked_param_type = "string")] record: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] password: JsValue,
) -> Result<String, JsValue> {
    let (record, password) = open_args(&record, &password)?;
    let secret = vault::open(&record, &password).map_err(vault_err)?;
    Ok(secret.phrase().to_owned())
}

/// `vaultOpen` with AES-GCM in WebCrypto (Argon2id still runs in wasm). Rejects with an
/// `Error` with `code` `"wrong_password"` when the password does not open the record.
/// A password given as UTF-8 bytes (`Uint8Array`) is zeroed once read, and the Secret
/// Key then comes back as UTF-8 bytes too, for the caller to zero after use (the KDF
/// worker does, so no copy of either lingers as an unwipeable JS string).
#[wasm_bindgen(js_name = vaultOpenAsync, unchecked_return_type = "string | Uint8Array")]
pub async fn vault_open_async(
    #[wasm_bindgen(unchecked_param_type = "string")] record: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string | Uint8Array")] password: JsValue,
) -> Result<JsValue, JsValue> {
    let bytes = password.is_instance_of::<js_sys::Uint8Array>();
    let (record, password) = open_args(&record, &password)?;
    let secret = vault::open_async(&WebCrypto, &record, &password)
        .await
        .map_err(vault_err)?;
    Ok(super::secret_out(bytes, secret.phrase()))
}
