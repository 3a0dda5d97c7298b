//! The per-tab unlock session, so that apps can redirect to the page and back without
//! asking for the password each time.
//!
//! On unlock a random, non-extractable AES-GCM `CryptoKey` encrypts the Secret Key;
//! `{key, iv, ct, expires}` goes into the IndexedDB `session` store under a random id
//! kept in this tab's `sessionStorage`. The Secret Key itself is never stored in the
//! clear: script can use the key to decrypt only while the record exists, and the
//! record dies 15 idle minutes later or on Lock.

use super::idb;
use super::wait::now_ms;
use crate::encoding::to_hex;
use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AesGcmParams, AesKeyGenParams, CryptoKey, Storage, SubtleCrypto};
use zeroize::Zeroizing;

/// Idle time after which the page locks itself.
pub const IDLE_LOCK_MS: f64 = 15.0 * 60.0 * 1000.0;

/// The `sessionStorage` entry holding this tab's session id.
const SESSION_ID_KEY: &str = "cairn-session";

fn subtle() -> Result<SubtleCrypto, JsValue> {
    Ok(web_sys::window().ok_or("no window")?.crypto()?.subtle())
}

fn session_storage() -> Result<Storage, JsValue> {
    web_sys::window()
        .ok_or("no window")?
        .session_storage()?
        .ok_or_else(|| "sessionStorage is not available".into())
}

fn random_bytes<const N: usize>() -> Result<[u8; N], JsValue> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|_| JsValue::from("no random numbers"))?;
    Ok(b)
}

fn field(obj: &JsValue, key: &str) -> Result<JsValue, JsValue> {
    Reflect::get(obj, &key.into())
}

/// Starts (or replaces) this tab's session for `phrase`.
pub async fn start(phrase: &str) -> Result<(), JsValue> {
    let subtle = subtle()?;
    let usages = Array::of2(&"encrypt".into(), &"decrypt".into());
    let key: CryptoKey = JsFuture::from(subtle.generate_key_with_object(
        &AesKeyGenParams::new("AES-GCM", 256),
        false,
        &usages,
    )?)
    .await?
    .dyn_into()?;
    let iv = random_bytes::<12>()?;
    let iv_js = Uint8Array::from(&iv[..]);
    let plain = Zeroizing::new(phrase.as_bytes().to_vec());
    let ct = JsFuture::from(subtle.encrypt_with_object_and_u8_array(
        &AesGcmParams::new("AES-GCM", &iv_js),
        &key,
        &plain,
    )?)
    .await?;
    let record = Object::new();
    Reflect::set(&record, &"key".into(), &key)?;
    Reflect::set(&record, &"iv".into(), &iv_js)?;
    Reflect::set(&record, &"ct".into(), &ct)?;
    Reflect::set(
        &record,
        &"expires".into(),
        &(now_ms() + IDLE_LOCK_MS).into(),
    )?;
    let storage = session_storage()?;
    let id = match storage.get_item(SESSION_ID_KEY)? {
        Some(id) => id,
        None => {
            let id = to_hex(&random_bytes::<16>()?);
            storage.set_item(SESSION_ID_KEY, &id)?;
            id
        }
    };
    idb::put(idb::SESSION, &id, &record).await
}

/// The Secret Key of this tab's live session, if there is one (an expired session is
/// deleted).
pub async fn resume() -> Result<Option<Zeroizing<String>>, JsValue> {
    let Some(id) = session_storage()?.get_item(SESSION_ID_KEY)? else {
        return Ok(None);
    };
    let Some(record) = idb::get(idb::SESSION, &id).await? else {
        return Ok(None);
    };
    let expires = field(&record, "expires")?.as_f64().unwrap_or(0.0);
    if expires <= now_ms() {
        idb::delete(idb::SESSION, &id).await?;
        return Ok(None);
    }
    let key: CryptoKey = field(&record, "key")?.dyn_into()?;
    let iv: Uint8Array = field(&record, "iv")?.dyn_into()?;
    let ct: js_sys::ArrayBuffer = field(&record, "ct")?.dyn_into()?;
    let plain = JsFuture::from(subtle()?.decrypt_with_object_and_buffer_source(
        &AesGcmParams::new("AES-GCM", &iv),
        &key,
        &ct,
    )?)
    .await?;
    let bytes = Zeroizing::new(Uint8Array::new(&plain).to_vec());
    match std::str::from_utf8(&bytes) {
        Ok(s) => Ok(Some(Zeroizing::new(s.to_owned()))),
        Err(_) => Ok(None),
    }
}

/// Pushes this tab's session expiry to 15 minutes from now (user activity).
pub async fn touch() -> Result<(), JsValue> {
    let Some(id) = session_storage()?.get_item(SESSION_ID_KEY)? else {
        return Ok(());
    };
    let Some(record) = idb::get(idb::SESSION, &id).await? else {
        return Ok(());
    };
    Reflect::set(
        &record,
        &"expires".into(),
        &(now_ms() + IDLE_LOCK_MS).into(),
    )?;
    idb::put(idb::SESSION, &id, &record).await
}

/// Ends this tab's session (Lock, auto-lock).
pub async fn end() -> Result<(), JsValue> {
    let storage = session_storage()?;
    if let Some(id) = storage.get_item(SESSION_ID_KEY)? {
        storage.remove_item(SESSION_ID_KEY)?;
        idb::delete(idb::SESSION, &id).await?;
    }
    Ok(())
}
