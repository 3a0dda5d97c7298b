//! JS API of the vault for the KDF worker (`www/kdf-worker.js`): sealing and opening
//! the password-encrypted Secret Key record. Argon2id takes about a second, so the page
//! never calls these on its main thread.

use super::{js_err, parse_secret, parse_str, parse_u32};
use crate::mnemonic::SecretKey;
use crate::vault::{self, KdfParams, VaultError, VaultRecord};
use wasm_bindgen::prelude::*;

/// An `Error` with a `code` property: `"wrong_password"`, `"empty_password"`,
/// `"format"`, `"parameters"` or `"randomness"`.
fn vault_err(e: VaultError) -> JsValue {
    let code = match e {
        VaultError::WrongPassword => "wrong_password",
        VaultError::EmptyPassword => "empty_password",
        VaultError::Format(_) => "format",
        VaultError::Parameters(_) => "parameters",
        _ => "randomness",
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

/// Seals a Secret Key (validated as `validateMnemonic` does) with `password` and
/// returns the vault record as JSON text. `params`: optional `{m, t, p}`.
#[wasm_bindgen(js_name = vaultSeal)]
pub fn vault_seal(
    #[wasm_bindgen(unchecked_param_type = "string")] phrase: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] password: JsValue,
    #[wasm_bindgen(unchecked_param_type = "{m: number, t: number, p: number} | undefined")]
    params: JsValue,
) -> Result<String, JsValue> {
    let phrase = parse_secret(&phrase, "the Secret Key")?;
    let password = parse_secret(&password, "the password")?;
    let params = parse_params(&params)?;
    let secret = SecretKey::parse(&phrase).map_err(js_err)?;
    let record = vault::seal(&secret, &password, params).map_err(vault_err)?;
    Ok(record.to_json())
}

/// Opens a vault record (JSON text) with `password` and returns the Secret Key.
/// Throws an `Error` with `code` `"wrong_password"` when the password does not open it.
#[wasm_bindgen(js_name = vaultOpen)]
pub fn vault_open(
    #[wasm_bindgen(unchecked_param_type = "string")] record: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] password: JsValue,
) -> Result<String, JsValue> {
    let record = parse_str(&record, "the vault record")?;
    let password = parse_secret(&password, "the password")?;
    let record = VaultRecord::from_json(&record).map_err(vault_err)?;
    let secret = vault::open(&record, &password).map_err(vault_err)?;
    Ok(secret.phrase().to_owned())
}
